"""The hash chain: the one function that appends events to it, sealing each to the
one before it, and the digest that seals a history row into an event."""

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from common import proxy

from ..models import AuditEvent


def client_ip(request) -> str | None:
    """The client's address as the login throttle sees it (behind the proxy too), in
    its one canonical form."""
    return proxy.client_ip(request) if request is not None else None


# Any fixed number: the advisory lock that lets one writer at a time append on PostgreSQL.
CHAIN_LOCK_ID = 0x7ACE_A0D1


def _wait_for_the_chain_head(connection) -> None:
    """Hold the chain for the rest of the transaction: writers append one after another.

    PostgreSQL: a transaction-level advisory lock, released at commit or rollback.
    SQLite: nothing to do, every transaction is IMMEDIATE (settings.py) and so
    already holds the database's write lock from its BEGIN.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_ID])


def log_event(
    *,
    action: str,
    request=None,
    user=None,
    username: str = "",
    obj=None,
    patient=None,
    detail: dict | None = None,
) -> AuditEvent:
    """Append one event to the chain; concurrent writers wait their turn, none fails."""
    if user is None and request is not None and request.user.is_authenticated:
        user = request.user
    event = AuditEvent(
        user=user,
        username=username or (user.get_username() if user else ""),
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        patient=patient,
        client_ip=client_ip(request),
        detail=detail or {},
    )
    if isinstance(event.detail.get("client_ip"), str):
        event.detail = {**event.detail, "client_ip": proxy.canonical(event.detail["client_ip"])}
    return append([event])[0]


def append(events: list[AuditEvent], *, store=None) -> list[AuditEvent]:
    """Chain events, in their order, after the chain's head, and store them: the one
    function that seals events into the chain. Concurrent writers wait their turn,
    none fails.

    An event without a timestamp takes the time it is chained. store(events) writes
    them, in order (a batch writer); by default each is saved.
    """
    with transaction.atomic():
        _wait_for_the_chain_head(transaction.get_connection())
        prev = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        prev = prev or AuditEvent.GENESIS
        for event in events:
            if event.timestamp is None:
                event.timestamp = timezone.now()
            event.prev_hash = prev
            event.hash = prev = event.compute_hash()
        if store is None:
            for event in events:
                event.save(force_insert=True)
        else:
            store(events)
    return events


def _plain(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date | Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} in a history row")


def row_digest(values: dict) -> str:
    """SHA-256 of a row as the database returns it (its column values by attname)."""
    payload = json.dumps(values, sort_keys=True, default=_plain, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def seal_detail(row: dict) -> dict:
    """The detail of the record_changed event that seals a history row, from the row
    as the database returns it: its action, its digest and its record's id."""
    return {"action": row["action"], "digest": row_digest(row), "record": row["id"]}
