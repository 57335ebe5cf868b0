"""Writes: each service owns its transaction, applies the rules and saves.

Every write goes through save() so that simple-history records it, with the
acting user, the action and the reason.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import rules
from .models import Assessment, HistoryAction, Patient


class StaleVersion(Exception):
    """Someone else saved the assessment after this user opened it."""

    def __init__(self, current: Assessment):
        self.current = current
        who = current.history.values_list("history_user__username", flat=True).first()
        when = timezone.localtime(current.updated_at)
        super().__init__(
            f"{who or 'Someone'} changed this assessment at {when:%Y-%m-%d %H:%M %Z} after "
            "you opened it. Nothing was saved: your entries are kept below; compare them "
            "with the current version, then save again."
        )


class NotAllowed(Exception):
    """The action does not apply to the assessment in its present state."""


def _apply(assessment: Assessment, data: dict, inputs: rules.Inputs, ruleset: str) -> None:
    """Set the inputs and the result of the given ruleset on the assessment."""
    assessment.resection_date = data["resection_date"]
    assessment.notes = data.get("notes", "")
    for name in Assessment.RULE_INPUTS:
        setattr(assessment, name, getattr(inputs, name))
    panel = inputs.liver_panel
    for name in Assessment.PANEL_INPUTS:
        setattr(assessment, name, getattr(panel, name) if panel else None)
    result = rules.evaluate(inputs, ruleset=ruleset).as_dict()
    function = result.pop("liver_function", None) or {}
    for name, value in result.items():
        setattr(assessment, name, value)
    for name in Assessment.LIVER_FUNCTION:
        setattr(assessment, name, function.get(name))


def _save(assessment: Assessment, *, user, action: str, reason: str = "") -> Assessment:
    assessment._history_user = user
    assessment._history_action = action
    assessment._change_reason = reason or None
    assessment.save()
    return assessment


def _lock(assessment: Assessment, version: int) -> Assessment:
    current = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if current.version != version:
        raise StaleVersion(current)
    if current.is_voided:
        raise NotAllowed("This assessment is voided: it can no longer be changed.")
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
def record_assessment(*, data: dict, inputs: rules.Inputs, user) -> Assessment:
    """Create an assessment from validated form data and its rule inputs."""
    patient = Patient.objects.filter(mrn=data["mrn"]).first() or _new_patient(data["mrn"], user)
    assessment = Assessment(patient=patient, created_by=user)
    _apply(assessment, data, inputs, rules.LATEST_RULESET)
    return _save(assessment, user=user, action=HistoryAction.CREATED)


@transaction.atomic
def amend_assessment(
    *,
    assessment: Assessment,
    data: dict,
    inputs: rules.Inputs,
    user,
    reason: str,
    version: int,
    ruleset: str | None = None,
) -> Assessment:
    """Change the inputs, recompute under the assessment's own ruleset.

    Only re-evaluation (ruleset given) moves an assessment to another ruleset.
    """
    current = _lock(assessment, version)
    _apply(current, data, inputs, ruleset or current.ruleset)
    action = HistoryAction.AMENDED
    if current.status == Assessment.Status.SIGNED:
        action = HistoryAction.SIGNATURE_WITHDRAWN
        current.status = Assessment.Status.DRAFT
        current.signed_by = None
        current.signed_at = None
        current.signature_meaning = ""
    return _save(current, user=user, action=action, reason=reason)


REEVALUATION_REASON = f"re-evaluated under ruleset {rules.LATEST_RULESET}"


def reevaluate_assessment(
    *, assessment: Assessment, data: dict, inputs: rules.Inputs, user, version: int
) -> Assessment:
    """Move to the newest ruleset: an amendment like any other, with a fixed reason."""
    if assessment.ruleset == rules.LATEST_RULESET:
        raise NotAllowed(f"This assessment is already under ruleset {rules.LATEST_RULESET}.")
    return amend_assessment(
        assessment=assessment,
        data=data,
        inputs=inputs,
        user=user,
        reason=REEVALUATION_REASON,
        version=version,
        ruleset=rules.LATEST_RULESET,
    )


@transaction.atomic
def sign_assessment(*, assessment: Assessment, user, version: int) -> Assessment:
    """Sign as reviewed and approved; the caller has checked the password."""
    current = _lock(assessment, version)
    if current.status == Assessment.Status.SIGNED:
        raise NotAllowed("This assessment is already signed.")
    current.status = Assessment.Status.SIGNED
    current.signed_by = user
    current.signed_at = timezone.now()
    current.signature_meaning = Assessment.SIGNATURE_MEANING
    return _save(current, user=user, action=HistoryAction.SIGNED)


@transaction.atomic
def void_assessment(*, assessment: Assessment, user, reason: str, version: int) -> Assessment:
    """Void: the record stays, marked and hidden from the default list."""
    current = _lock(assessment, version)
    current.status = Assessment.Status.VOIDED
    current.voided_by = user
    current.voided_at = timezone.now()
    current.void_reason = reason
    return _save(current, user=user, action=HistoryAction.VOIDED, reason=reason)
