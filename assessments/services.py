"""Writes: each service owns its transaction, applies the rules and saves.

Every write goes through save() so that simple-history records it, with the
acting user, the action and the reason.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import rules
from .models import Assessment, FollowUpEvent, HistoryAction, Patient, VersionedRecord, person_name


class Refused(Exception):
    """A write that does not apply: nothing was saved; the message says why."""


class StaleVersion(Refused):
    """Someone else saved the assessment after this user opened it."""

    def __init__(self, current: Assessment | FollowUpEvent):
        self.current = current
        last = current.history.select_related("history_user").first()
        who = person_name(last.history_user) if last else ""
        when = date_format(timezone.localtime(current.updated_at), "DATETIME_FORMAT")
        if isinstance(current, FollowUpEvent):
            message = gettext(
                "%(who)s changed this event at %(when)s after you opened it. Nothing was "
                "saved: your entries are kept below; compare them with the current version, "
                "then save again."
            )
        else:
            message = gettext(
                "%(who)s changed this assessment at %(when)s after you opened it. Nothing was "
                "saved: your entries are kept below; compare them with the current version, "
                "then save again."
            )
        super().__init__(message % {"who": who or gettext("Someone"), "when": when})


class NotAllowed(Refused):
    """The action does not apply to the assessment in its present state."""


VOIDED = _("This assessment is voided: it can no longer be changed.")
EVENT_VOIDED = _("This event is voided: it can no longer be changed.")
ALREADY_NEWEST = format_lazy(
    _("This assessment is already under the newest ruleset, {ruleset}."),
    ruleset=rules.LATEST_RULESET,
)
ALREADY_SIGNED = _("This assessment is already signed.")
SELF_SIGN = _(
    "You created or last amended this assessment: a second person signs it. Nothing was signed."
)


def check_changeable(record: Assessment | FollowUpEvent) -> None:
    """Raise NotAllowed if the assessment or event may no longer be amended, signed or
    voided."""
    if record.is_voided:
        raise NotAllowed(EVENT_VOIDED if isinstance(record, FollowUpEvent) else VOIDED)


def check_reevaluable(assessment: Assessment) -> None:
    """Raise NotAllowed unless the assessment can move to the newest ruleset."""
    check_changeable(assessment)
    if assessment.newer_ruleset is None:
        raise NotAllowed(ALREADY_NEWEST)


def apply_inputs(assessment: Assessment, *, data: dict, ruleset: str) -> None:
    """Set validated form data and the result of the given ruleset on an assessment,
    without saving it (the preview shows it before the date is entered)."""
    inputs = rules.Inputs.from_data(data)
    assessment.resection_date = data.get("resection_date")
    assessment.notes = data.get("notes", "")
    assessment.confirmations = list(data.get("confirmations", []))
    for name in Assessment.RULE_INPUTS:
        setattr(assessment, name, getattr(inputs, name))
    panel = inputs.liver_panel
    for name in Assessment.PANEL_INPUTS:
        setattr(assessment, name, getattr(panel, name) if panel else None)
    for name in Assessment.PATHOLOGY:
        setattr(assessment, name, data.get(name, assessment._meta.get_field(name).get_default()))
    result = rules.evaluate(inputs, ruleset=ruleset).as_dict()
    function = result.pop("liver_function", None) or {}
    assessment.pathology_findings = result.pop("pathology_findings", [])
    for name, value in result.items():
        setattr(assessment, name, value)
    for name in Assessment.LIVER_FUNCTION:
        setattr(assessment, name, function.get(name))


def save_version(record, *, user, action: str, reason: str = ""):
    """Save a record (an assessment, an event) as a new version of its history."""
    record._history_user = user
    record._history_action = action
    record._change_reason = reason or None
    record.save()
    return record


def lock_version(record, version: int):
    """The record locked for a change, refused if another change came since `version`."""
    current = type(record).objects.select_for_update().get(pk=record.pk)
    if current.version != version:
        raise StaleVersion(current)
    check_changeable(current)
    current.version += 1
    return current


def _new_patient(mrn: str, user) -> Patient:
    patient = Patient(mrn=mrn)
    patient._history_user = user
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError:  # another clinician created the same patient just now
        return Patient.objects.get(mrn=mrn)
    return patient


@transaction.atomic
def record_assessment(*, data: dict, user) -> Assessment:
    """Create an assessment from validated form data, under the newest ruleset."""
    patient = Patient.objects.filter(mrn=data["mrn"]).first() or _new_patient(data["mrn"], user)
    assessment = Assessment(patient=patient, created_by=user)
    apply_inputs(assessment, data=data, ruleset=rules.LATEST_RULESET)
    return save_version(assessment, user=user, action=HistoryAction.CREATED)


@transaction.atomic
def amend_assessment(
    *,
    assessment: Assessment,
    data: dict,
    user,
    reason: str,
    version: int,
    ruleset: str | None = None,
) -> Assessment:
    """Change the inputs, recompute under the assessment's own ruleset.

    Only re-evaluation (ruleset given) moves an assessment to another ruleset.
    """
    current = lock_version(assessment, version)
    apply_inputs(current, data=data, ruleset=ruleset or current.ruleset)
    action = HistoryAction.AMENDED
    if current.status == Assessment.Status.SIGNED:
        action = HistoryAction.SIGNATURE_WITHDRAWN
        current.status = Assessment.Status.DRAFT
        current.signed_by = None
        current.signed_at = None
        current.signature_meaning = ""
        current.signed_version = None
        current.self_signed = False
    return save_version(current, user=user, action=action, reason=reason)


REEVALUATION_REASON = f"re-evaluated under ruleset {rules.LATEST_RULESET}"


def reevaluate_assessment(*, assessment: Assessment, data: dict, user, version: int) -> Assessment:
    """Move to the newest ruleset: an amendment like any other, with a fixed reason.
    The amendment's version check catches a re-evaluation by someone else meanwhile."""
    check_reevaluable(assessment)
    return amend_assessment(
        assessment=assessment,
        data=data,
        user=user,
        reason=REEVALUATION_REASON,
        version=version,
        ruleset=rules.LATEST_RULESET,
    )


def authors(assessment: Assessment) -> set[int]:
    """The ids of who created the assessment and who saved its present version."""
    last = assessment.history.order_by("-history_id").values_list("history_user_id", flat=True)
    return {assessment.created_by_id, *last[:1]} - {None}


def check_signable(*, assessment: Assessment, user) -> None:
    """Raise NotAllowed unless this user may sign: two people, superusers included,
    unless self-signing is allowed (settings.ALLOW_SELF_SIGN)."""
    check_changeable(assessment)
    if assessment.status == Assessment.Status.SIGNED:
        raise NotAllowed(ALREADY_SIGNED)
    if user.pk in authors(assessment) and not settings.ALLOW_SELF_SIGN:
        raise NotAllowed(SELF_SIGN)


@transaction.atomic
def sign_assessment(*, assessment: Assessment, user, version: int) -> Assessment:
    """Sign as reviewed and approved; the caller has checked the password."""
    current = lock_version(assessment, version)
    check_signable(assessment=current, user=user)
    current.self_signed = user.pk in authors(current)
    current.status = Assessment.Status.SIGNED
    current.signed_by = user
    current.signed_at = timezone.now()
    current.signature_meaning = Assessment.SIGNATURE_MEANING
    current.signed_version = version
    return save_version(current, user=user, action=HistoryAction.SIGNED)


@transaction.atomic
def void_record(*, record: VersionedRecord, user, reason: str, version: int) -> VersionedRecord:
    """Void an assessment or an event: the record stays, marked with who, when and why;
    the lists leave it out and nothing counts it."""
    current = lock_version(record, version)
    current.status = current.Status.VOIDED
    current.voided_by = user
    current.voided_at = timezone.now()
    current.void_reason = reason
    return save_version(current, user=user, action=HistoryAction.VOIDED, reason=reason)


def void_assessment(*, assessment: Assessment, user, reason: str, version: int) -> Assessment:
    return void_record(record=assessment, user=user, reason=reason, version=version)
