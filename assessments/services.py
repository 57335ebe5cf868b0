"""Writes: each service owns its transaction, applies the rules and saves."""

from django.db import transaction

from . import rules
from .models import Assessment, Patient


def _store_result(assessment: Assessment, result: rules.Result) -> None:
    for name, value in result.as_dict().items():
        setattr(assessment, name, value)


@transaction.atomic
def record_assessment(*, data: dict, inputs: rules.Inputs, user) -> Assessment:
    """Create an assessment from validated form data and its rule inputs."""
    patient, _ = Patient.objects.get_or_create(mrn=data["mrn"])
    assessment = Assessment(
        patient=patient,
        resection_date=data["resection_date"],
        notes=data.get("notes", ""),
        created_by=user,
        **vars(inputs),
    )
    _store_result(assessment, rules.evaluate(inputs))
    assessment.save()
    return assessment
