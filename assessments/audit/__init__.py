"""The audit trail: append-only events with a hash chain, and what feeds them.

chain.py appends (the one function that chains and seals), seals.py seals the
accounts' state, signals.py feeds the chain, triggers.py keeps its tables
append-only, verify.py walks it.
"""

import csv

from .chain import CHAIN_LOCK_ID, append, client_ip, log_event, row_digest, seal_detail
from .signals import connect_signals, seal_history_row
from .triggers import drop_append_only_triggers, install_append_only_triggers
from .verify import broken_links, first_broken_link, read_checkpoints

__all__ = [
    "CHAIN_LOCK_ID",
    "append",
    "broken_links",
    "client_ip",
    "connect_signals",
    "csv_safe",
    "drop_append_only_triggers",
    "first_broken_link",
    "install_append_only_triggers",
    "log_event",
    "read_checkpoints",
    "row_digest",
    "seal_detail",
    "seal_history_row",
    "write_csv",
]


# A spreadsheet may read a cell starting with one of these as a formula, or split
# the cell there (";" and "," are separators in some locales), spaces before it aside.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", ";", ",")


def csv_safe(value) -> str:
    """Keep a spreadsheet from running a cell as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.lstrip(" ").startswith(FORMULA_STARTS) else text


def write_csv(response, header: list[str], rows) -> None:
    # Every cell quoted: a spreadsheet that splits on another separator than ","
    # still sees one cell, and its start is what csv_safe made safe.
    writer = csv.writer(response, quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_safe(value) for value in row])
