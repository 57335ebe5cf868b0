# Day, month and year in words: never 03/04, which reads two ways.
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y H:i T"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y H:i:s T"  # the audit trail's, to the second
TIME_FORMAT = "H:i"
