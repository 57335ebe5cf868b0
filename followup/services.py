"""Follow-up events recorded, amended and voided: keyword-only, each in its transaction,
each change in the event's history, as the assessments' services do for theirs."""

from django.db import transaction

from assessments.models import FollowUpEvent, HistoryAction, Patient
from assessments.services import lock_version, save_version, void_record


def _apply_event(event: FollowUpEvent, data: dict) -> None:
    """The date, the notes and the fields of the event's kind; the others emptied."""
    event.date = data["date"]
    event.notes = data.get("notes", "")
    taken = FollowUpEvent.KIND_FIELDS[event.kind]
    for name in FollowUpEvent.DETAIL_FIELDS:
        empty = None if name == "assessment" else ""
        setattr(event, name, data.get(name, empty) if name in taken else empty)


@transaction.atomic
def record_event(*, patient: Patient, kind: str, data: dict, user) -> FollowUpEvent:
    """Record a follow-up event from validated form data (followup.forms.EVENT_FORMS)."""
    event = FollowUpEvent(patient=patient, kind=kind, created_by=user)
    _apply_event(event, data)
    return save_version(event, user=user, action=HistoryAction.CREATED)


@transaction.atomic
def amend_event(
    *, event: FollowUpEvent, data: dict, user, reason: str, version: int
) -> FollowUpEvent:
    current = lock_version(event, version)
    _apply_event(current, data)
    return save_version(current, user=user, action=HistoryAction.AMENDED, reason=reason)


def void_event(*, event: FollowUpEvent, user, reason: str, version: int) -> FollowUpEvent:
    return void_record(record=event, user=user, reason=reason, version=version)
