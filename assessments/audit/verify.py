"""Walking the chain and the clinical history: every break, where and what."""

import hmac

from django.utils.translation import gettext

from ..models import Assessment, AuditEvent, FollowUpEvent, Patient
from . import seals as seals_module
from .chain import row_digest

# The clinical record: each history row sealed into the chain.

HISTORY_MODELS = {
    "historicalassessment": Assessment,
    "historicalpatient": Patient,
    "historicalfollowupevent": FollowUpEvent,
}


# Columns added to a history table after rows had been sealed, newest first, each with
# the value every existing row took: a row sealed before its column existed was
# digested without it, so it verifies without it while the column holds that value.
LATER_COLUMNS = {
    "historicalassessment": [
        {"confirmations": []},  # migration 0019: what was confirmed on saving
        {  # migration 0015: pathology findings
            "resection_margin": "",
            "satellite_nodules": "",
            "mvi_grade": "",
            "afp_before_ng_ml": None,
            "afp_after_ng_ml": None,
            "tumor_rupture": "",
        },
        {"signed_version": None, "self_signed": False},  # migration 0011
    ],
}


def sealed_digests(name: str, row: dict) -> set[str]:
    """The digests a history row may have been sealed with: as it is now and, while the
    columns added later hold the values they were added with, as it was before them."""
    digests = {row_digest(row)}
    row = dict(row)
    for columns in LATER_COLUMNS.get(name, []):
        if any(row.get(column, value) != value for column, value in columns.items()):
            break
        for column in columns:
            row.pop(column, None)
        digests.add(row_digest(row))
    return digests


def _check_history(seals: dict) -> list[tuple[int | None, str, str]]:
    """Every history row sealed and unchanged; every record equal to its newest version;
    every record that has a history, or a seal, still there.

    seals: (history model name, history id) -> (event id, digest, record id), from the chain.
    Returns the problems as (event id or None, where, what).
    """
    problems = []
    for name, model in HISTORY_MODELS.items():
        history_model = model.history.model
        fields = [field.attname for field in model._meta.concrete_fields]
        # Record id -> the digest of its newest version, None once the app deleted it.
        newest = {}
        for row in history_model.objects.order_by("history_id").values().iterator():
            key = (name, str(row["history_id"]))
            event_id, digest, _ = seals.pop(key, (None, None, None))
            if event_id is None:
                problems.append(
                    (
                        None,
                        f"{name} {row['history_id']}",
                        gettext("it is sealed by no event (written behind the app)"),
                    )
                )
            elif digest not in sealed_digests(name, row):
                problems.append(
                    (
                        event_id,
                        _event(event_id),
                        gettext("the %(record)s it seals was changed")
                        % {"record": f"{name} {row['history_id']}"},
                    )
                )
            # Only the digest of the newest version: the record's fields, as its row has them.
            deleted = row["history_type"] == "-"
            newest[row["id"]] = None if deleted else row_digest({f: row[f] for f in fields})
        label = model._meta.model_name
        for (seal_name, history_id), (event_id, _, record_id) in list(seals.items()):
            if seal_name == name:
                del seals[(seal_name, history_id)]
                problems.append(
                    (
                        event_id,
                        _event(event_id),
                        gettext("the %(record)s it seals is missing")
                        % {"record": f"{name} {history_id}"},
                    )
                )
                # Newer seals name their record: it must outlive its missing history.
                if record_id is not None:
                    newest.setdefault(record_id, "")
        for row in model.objects.order_by("pk").values(*fields).iterator():
            digest = newest.pop(row["id"], "")
            if row_digest(row) != digest:
                problems.append(
                    (
                        None,
                        f"{label} {row['id']}",
                        gettext("it differs from its newest history row (changed behind the app)"),
                    )
                )
        for record_id in sorted(pk for pk, digest in newest.items() if digest is not None):
            problems.append(
                (
                    None,
                    f"{label} {record_id}",
                    gettext("it has a history but no row (deleted behind the app)"),
                )
            )
    return problems


def read_checkpoints(path) -> dict[int, str]:
    """The checkpoints audit_checkpoint wrote: event id -> hash."""
    checkpoints = {}
    with open(path) as lines:
        for line in lines:
            if line.strip():
                event_id, event_hash, *_ = line.split()
                checkpoints[int(event_id)] = event_hash
    return checkpoints


def _event(event_id) -> str:
    return gettext("event %(id)s") % {"id": event_id}


def broken_links(checkpoints: dict[int, str] | None = None) -> list[tuple[str, str]]:
    """Walk the chain and the clinical history; return every break as (where, what is
    wrong): in the chain's order, then history rows no event seals, then records. A break
    hides nothing after it: the walk goes on from the event that follows it."""

    checkpoints = dict(checkpoints or {})
    broken = []
    expected_prev = AuditEvent.GENESIS
    seals = {}
    accounts = {}  # the accounts' newest seals: (model, key) -> (event id, digest)
    # Events before the first chain_keyed event (migration 0009) were written unkeyed;
    # that event is keyed and follows them, so none of them can change unseen.
    keyed_from = (
        AuditEvent.objects.filter(action=AuditEvent.Action.CHAIN_KEYED).order_by("id").first()
    )
    if keyed_from is not None and not hmac.compare_digest(
        keyed_from.compute_hash(), keyed_from.hash
    ):
        broken.append(
            (_event(keyed_from.id), gettext("it was changed after it was written, or forged"))
        )
    for event in AuditEvent.objects.order_by("id").iterator():
        where = _event(event.id)
        if event.prev_hash != expected_prev:
            broken.append(
                (
                    where,
                    gettext("it does not follow the event before it (one was removed or inserted)"),
                )
            )
        legacy = keyed_from is not None and event.id < keyed_from.id
        hashes = event.hashes_it_may_have(legacy=legacy)
        if not any(hmac.compare_digest(expected, event.hash) for expected in hashes):
            if event != keyed_from:  # reported above
                broken.append((where, gettext("it was changed after it was written, or forged")))
        elif event.id in checkpoints and checkpoints[event.id] != event.hash:
            broken.append((where, gettext("it is not the event its checkpoint recorded")))
        checkpoints.pop(event.id, None)
        if event.action == AuditEvent.Action.ACCOUNT_SEALED:
            seals_module.note(accounts, event)
        if event.action == AuditEvent.Action.RECORD_CHANGED:
            key = (event.object_type, event.object_id)
            if key in seals:
                broken.append(
                    (
                        where,
                        gettext("it seals %(record)s a second time")
                        % {"record": f"{event.object_type} {event.object_id}"},
                    )
                )
            else:
                detail = event.detail if isinstance(event.detail, dict) else {}
                seals[key] = (event.id, detail.get("digest"), detail.get("record"))
        expected_prev = event.hash
    if checkpoints:
        missing = min(checkpoints)
        broken.append(
            (
                _event(missing),
                gettext("it is in a checkpoint but no longer in the chain (cut short)"),
            )
        )
    problems = _check_history(seals) + seals_module.check(accounts)
    problems.sort(key=lambda p: (p[0] is None, p[0] or 0))
    broken.extend((where, what) for _, where, what in problems)
    return broken


def first_broken_link(checkpoints: dict[int, str] | None = None) -> tuple[str, str] | None:
    """The first of broken_links, or None when the chain and the record are intact."""
    broken = broken_links(checkpoints)
    return broken[0] if broken else None
