"""What the logs may say: no control characters that forge a line, no typed username."""

import logging
import re

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape(text: str) -> str:
    return CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode(), text)


class EscapeControlCharacters(logging.Filter):
    """A newline in a username or a path is written as \\n: it cannot start a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = escape(record.getMessage()), None
        return True


def axes_client(username, ip_address, user_agent, path_info, request) -> str:
    """How django-axes names a client in the log: never by the typed username, which
    may be a password typed into the wrong box."""
    return f"{{ip_address: {ip_address!r}, path_info: {path_info!r}}}"
