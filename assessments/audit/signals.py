"""What feeds the chain: history rows, logins, lockouts, accounts and their changes."""

from datetime import UTC

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from ..models import AuditEvent, HistoryAction, Patient
from .chain import append, client_ip, log_event, seal_detail


def _stored(model, pk) -> dict:
    return model.objects.filter(pk=pk).values().get()


def seal_event(history_model, row: dict, *, user, request=None, timestamp=None) -> AuditEvent:
    """The record_changed event, not yet chained, that seals a history row: from the row
    as the database returns it. An event without a timestamp takes its chaining time."""
    patient_id = row["id"] if history_model.instance_type is Patient else row["patient_id"]
    return AuditEvent(
        timestamp=timestamp,
        user=user,
        username=user.get_username() if user else "",
        action=AuditEvent.Action.RECORD_CHANGED,
        object_type=history_model._meta.model_name,
        object_id=str(row["history_id"]),
        patient_id=patient_id,
        client_ip=client_ip(request),
        detail=seal_detail(row),
    )


def seal_history_row(sender, instance, history_instance, **kwargs):
    """The history row as stored, digested into a record_changed event in the chain."""
    history_model = type(history_instance)
    row = _stored(history_model, history_instance.pk)
    user, request = history_instance.history_user, acting_request()
    append([seal_event(history_model, row, user=user, request=request)])


def history_seals(history_model, *, after: int, users: dict) -> list[AuditEvent]:
    """The seals, not yet chained, of the history rows stored after history id `after`,
    read in one query, each stamped with its row's time: for a writer of rows in bulk
    (seed_demo), which sends no signal. users: the rows' users by id."""
    rows = history_model.objects.filter(history_id__gt=after).order_by("history_id")
    return [
        seal_event(
            history_model, row, user=users[row["history_user_id"]], timestamp=row["history_date"]
        )
        for row in rows.values().iterator()
    ]


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
    log_event(action=AuditEvent.Action.ACCESS_DELETED, request=acting_request(), detail=detail)


def acting_request():
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
    log_event(action=AuditEvent.Action.USER_CHANGED, request=acting_request(), detail=detail)


def on_account_deleted(sender, instance, **kwargs):
    log_event(
        action=AuditEvent.Action.USER_CHANGED,
        request=acting_request(),
        detail={"target": f"{sender._meta.model_name} {instance}", "change": "deleted"},
    )


def on_membership_changed(sender, instance, action, model, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    names = sorted(str(item) for item in model.objects.filter(pk__in=pk_set or ()))
    log_event(
        action=AuditEvent.Action.USER_CHANGED,
        request=acting_request(),
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
