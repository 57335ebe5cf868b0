"""The roles as they live now: each group's name and its permission codenames.

Each migration that sets roles keeps its own frozen copy (a migration must not
change when this module does); a test checks that the migrated database holds
exactly these roles, so a change here comes with its migration.
"""

CLINICIANS = "Clinicians"
CONSULTANTS = "Consultants"
REVIEWERS = "Reviewers"

READ_RECORD = [
    "view_patient",
    "view_assessment",
    "view_historicalassessment",
    "view_historicalpatient",
]
WRITE_RECORD = ["add_assessment", "change_assessment", "void_assessment"]
READ_FOLLOW_UP = ["view_followupevent", "view_historicalfollowupevent"]
FOLLOW_UP = [*READ_FOLLOW_UP, "add_followupevent", "change_followupevent", "void_followupevent"]

ROLES = {
    # Create, amend and void; a second person signs.
    CLINICIANS: [*READ_RECORD, *WRITE_RECORD, *FOLLOW_UP],
    CONSULTANTS: [
        *READ_RECORD,
        *WRITE_RECORD,
        "sign_assessment",
        "export_assessment",
        *FOLLOW_UP,
        "view_outcomes",
    ],
    # Read the record and the audit log; export; write nothing.
    REVIEWERS: [
        *READ_RECORD,
        "view_auditevent",
        "export_assessment",
        *READ_FOLLOW_UP,
        "view_outcomes",
    ],
}
