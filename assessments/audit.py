"""The audit trail: append-only events with a hash chain, and what feeds them."""

import csv

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import IntegrityError, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from tace_site import proxy

from .models import AuditEvent, HistoryAction

# Tables nobody may UPDATE or DELETE, administrators included.
APPEND_ONLY_TABLES = [
    "assessments_auditevent",
    "assessments_historicalassessment",
    "assessments_historicalpatient",
]

_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb} BEFORE {verb.upper()} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
    for table in APPEND_ONLY_TABLES
    for verb in ("update", "delete")
]
_POSTGRES_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql""",
    *(
        f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()"
        for table in APPEND_ONLY_TABLES
    ),
]


def install_append_only_triggers(connection) -> None:
    """Refuse UPDATE and DELETE on the audit tables, below the application."""
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


def client_ip(request) -> str | None:
    """The client's address as the login throttle sees it (behind the proxy too)."""
    return proxy.client_ip(request) if request is not None else None


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
    """Append one event to the chain."""
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
    # prev_hash is unique: if another writer took our predecessor first, the
    # insert fails and we chain onto the new last event instead.
    for attempt in range(5):
        try:
            with transaction.atomic():
                last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
                event.pk = None
                event.timestamp = timezone.now()
                event.prev_hash = last or AuditEvent.GENESIS
                event.hash = event.compute_hash()
                event.save(force_insert=True)
                return event
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def first_broken_link() -> tuple[int, str] | None:
    """Walk the chain; return (event id, what is wrong) at the first break."""
    expected_prev = AuditEvent.GENESIS
    for event in AuditEvent.objects.order_by("id").iterator():
        if event.prev_hash != expected_prev:
            return event.id, "does not follow the event before it (one was removed or inserted)"
        if event.compute_hash() != event.hash:
            return event.id, "was changed after it was written"
        expected_prev = event.hash
    return None


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


def _acting_request():
    return getattr(HistoricalRecords.context, "request", None)


def on_account_saved(sender, instance, created, update_fields=None, **kwargs):
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    detail = {
        "target": f"{sender._meta.model_name} {instance}",
        "change": "created" if created else "changed",
    }
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
    user_logged_in.connect(on_login, dispatch_uid="audit_login")
    user_logged_out.connect(on_logout, dispatch_uid="audit_logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit_login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="audit_locked_out")
    for model in (User, Group):
        post_save.connect(on_account_saved, sender=model, dispatch_uid=f"audit_save_{model}")
        post_delete.connect(on_account_deleted, sender=model, dispatch_uid=f"audit_del_{model}")
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(on_membership_changed, sender=through, dispatch_uid=f"audit_{through}")
