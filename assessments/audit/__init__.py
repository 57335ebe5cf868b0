"""The audit trail: append-only events with a hash chain, and what feeds them.

chain.py appends (the one function that chains and seals), seals.py seals the
accounts' state, signals.py feeds the chain, triggers.py keeps its tables
append-only, verify.py walks it.
"""

from .chain import CHAIN_LOCK_ID, append, client_ip, log_event, row_digest, seal_detail
from .signals import connect_signals, history_seals, seal_event, seal_history_row
from .triggers import drop_append_only_triggers, install_append_only_triggers
from .verify import broken_links, first_broken_link, read_checkpoints

__all__ = [
    "CHAIN_LOCK_ID",
    "append",
    "broken_links",
    "client_ip",
    "connect_signals",
    "drop_append_only_triggers",
    "first_broken_link",
    "history_seals",
    "install_append_only_triggers",
    "log_event",
    "read_checkpoints",
    "row_digest",
    "seal_detail",
    "seal_event",
    "seal_history_row",
]
