"""The audit trail: append-only events with a hash chain, and what feeds them."""

import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from decimal import Decimal

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.utils import timezone
from django.utils.translation import gettext
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from tace_site import proxy

from .models import Assessment, AuditEvent, FollowUpEvent, HistoryAction, Patient

# Tables nobody may UPDATE or DELETE, administrators included.
APPEND_ONLY_TABLES = [
    "assessments_auditevent",
    "assessments_historicalassessment",
    "assessments_historicalpatient",
    "assessments_historicalfollowupevent",
]
# Tables whose rows are voided, never deleted (migration 0008).
NEVER_DELETED_TABLES = [
    "assessments_assessment",
    "assessments_patient",
    "assessments_followupevent",
]

_SQLITE_TRIGGERS = [
    *(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb} BEFORE {verb.upper()} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        for table in APPEND_ONLY_TABLES
        for verb in ("update", "delete")
    ),
    *(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} rows are voided, never deleted'); END"
        for table in NEVER_DELETED_TABLES
    ),
]
_POSTGRES_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql""",
    *(
        f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()"
        for table in APPEND_ONLY_TABLES
    ),
    """CREATE OR REPLACE FUNCTION refuse_record_delete() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION '% rows are voided, never deleted', TG_TABLE_NAME; END;
    $$ LANGUAGE plpgsql""",
    *(
        f"CREATE OR REPLACE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION refuse_record_delete()"
        for table in NEVER_DELETED_TABLES
    ),
    # TRUNCATE fires no row trigger: a statement trigger of its own (SQLite has none).
    """CREATE OR REPLACE FUNCTION refuse_truncate() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION '% is never truncated', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql""",
    *(
        f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate()"
        for table in APPEND_ONLY_TABLES + NEVER_DELETED_TABLES
    ),
]


def install_append_only_triggers(connection) -> None:
    """Refuse UPDATE, DELETE and TRUNCATE on the audit tables and DELETE and TRUNCATE
    on the records, below the application. After migrations too: SQLite drops a table's
    triggers when a schema change rebuilds it."""
    statements = {"sqlite": _SQLITE_TRIGGERS, "postgresql": _POSTGRES_TRIGGERS}
    with connection.cursor() as cursor:
        for statement in statements.get(connection.vendor, []):
            cursor.execute(statement)


def drop_append_only_triggers(connection) -> None:
    """Only for the test suite, whose database is emptied between some tests."""
    with connection.cursor() as cursor:
        for table in APPEND_ONLY_TABLES:
            if connection.vendor == "sqlite":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            elif connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        for table in NEVER_DELETED_TABLES:
            if connection.vendor == "sqlite":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            elif connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table}")
        if connection.vendor == "postgresql":
            for table in APPEND_ONLY_TABLES + NEVER_DELETED_TABLES:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")


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
    with transaction.atomic():
        _wait_for_the_chain_head(transaction.get_connection())
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event.timestamp = timezone.now()
        event.prev_hash = last or AuditEvent.GENESIS
        event.hash = event.compute_hash()
        event.save(force_insert=True)
    return event


# The clinical record: each history row sealed into the chain.

HISTORY_MODELS = {
    "historicalassessment": Assessment,
    "historicalpatient": Patient,
    "historicalfollowupevent": FollowUpEvent,
}


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


def _stored(model, pk) -> dict:
    return model.objects.filter(pk=pk).values().get()


def seal_history_row(sender, instance, history_instance, **kwargs):
    """The history row as stored, digested into a record_changed event in the chain."""
    history_model = type(history_instance)
    row = _stored(history_model, history_instance.pk)
    log_event(
        action=AuditEvent.Action.RECORD_CHANGED,
        request=_acting_request(),
        user=history_instance.history_user,
        obj=history_instance,
        patient=instance if isinstance(instance, Patient) else instance.patient,
        detail={
            "action": history_instance.action,
            "digest": row_digest(row),
            "record": instance.pk,
        },
    )


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
    from . import seals as seals_module  # it writes through this module

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


# Signal handlers, connected in AssessmentsConfig.ready().


def set_history_action(sender, instance, history_instance, **kwargs):
    default = {"+": HistoryAction.CREATED, "~": HistoryAction.AMENDED, "-": HistoryAction.DELETED}
    history_instance.action = (
        getattr(instance, "_history_action", None) or (default[history_instance.history_type])
    )


def on_login(sender, request, user, **kwargs):
    log_event(action=AuditEvent.Action.LOGIN, request=request, user=user)


def on_logout(sender, request, user, **kwargs):
    log_event(action=AuditEvent.Action.LOGOUT, request=request, user=user)


def on_login_failed(sender, credentials, request=None, **kwargs):
    log_event(
        action=AuditEvent.Action.LOGIN_FAILED,
        request=request,
        username=str(credentials.get("username", ""))[:150],
    )


def on_locked_out(sender, request, username, ip_address, **kwargs):
    log_event(
        action=AuditEvent.Action.LOCKED_OUT,
        request=request,
        username=str(username or "")[:150],
        detail={"client_ip": ip_address},
    )


def on_access_record_deleted(sender, instance, **kwargs):
    """A lockout or access log deleted (the admin, axes_reset, a reset on login): gone
    from its table, kept in the chain."""
    detail = {
        "target": sender._meta.model_name,
        "username": str(instance.username or "")[:150],
        "client_ip": instance.ip_address,
        "attempt_time": instance.attempt_time.astimezone(UTC).isoformat(),
    }
    for field in ("failures_since_start", "locked_out"):
        if hasattr(instance, field):
            detail[field] = getattr(instance, field)
    log_event(action=AuditEvent.Action.ACCESS_DELETED, request=_acting_request(), detail=detail)


def _acting_request():
    return getattr(HistoricalRecords.context, "request", None)


def remember_account_name(sender, instance, update_fields=None, **kwargs):
    """Before a save: the name as it was, for the event if the save renames."""
    if instance.pk is not None and not (update_fields and set(update_fields) <= {"last_login"}):
        instance._audit_old_name = (
            sender.objects.filter(pk=instance.pk)
            .values_list(_name_field(sender), flat=True)
            .first()
        )


def _name_field(model) -> str:
    return model.USERNAME_FIELD if model is get_user_model() else "name"


def on_account_saved(sender, instance, created, update_fields=None, **kwargs):
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    detail = {
        "target": f"{sender._meta.model_name} {instance}",
        "change": "created" if created else "changed",
    }
    old_name = getattr(instance, "_audit_old_name", None)
    if old_name is not None and old_name != getattr(instance, _name_field(sender)):
        detail["renamed_from"] = old_name
    if sender is get_user_model():
        detail.update(
            is_active=instance.is_active,
            is_staff=instance.is_staff,
            is_superuser=instance.is_superuser,
        )
    log_event(action=AuditEvent.Action.USER_CHANGED, request=_acting_request(), detail=detail)


def on_account_deleted(sender, instance, **kwargs):
    log_event(
        action=AuditEvent.Action.USER_CHANGED,
        request=_acting_request(),
        detail={"target": f"{sender._meta.model_name} {instance}", "change": "deleted"},
    )


def on_membership_changed(sender, instance, action, model, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    names = sorted(str(item) for item in model.objects.filter(pk__in=pk_set or ()))
    log_event(
        action=AuditEvent.Action.USER_CHANGED,
        request=_acting_request(),
        detail={
            "target": f"{instance._meta.model_name} {instance}",
            "change": f"{model._meta.verbose_name_plural} {action.removeprefix('post_')}",
            "items": names,
        },
    )


def connect_signals() -> None:
    User = get_user_model()
    pre_create_historical_record.connect(set_history_action, dispatch_uid="history_action")
    post_create_historical_record.connect(seal_history_row, dispatch_uid="history_seal")
    user_logged_in.connect(on_login, dispatch_uid="audit_login")
    user_logged_out.connect(on_logout, dispatch_uid="audit_logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit_login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="audit_locked_out")
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        post_delete.connect(on_access_record_deleted, sender=model, dispatch_uid=f"audit_{model}")
    for model in (User, Group):
        pre_save.connect(remember_account_name, sender=model, dispatch_uid=f"audit_pre_{model}")
        post_save.connect(on_account_saved, sender=model, dispatch_uid=f"audit_save_{model}")
        post_delete.connect(on_account_deleted, sender=model, dispatch_uid=f"audit_del_{model}")
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(on_membership_changed, sender=through, dispatch_uid=f"audit_{through}")
