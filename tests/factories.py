"""What tests make: users, assessments as the web form or an older ruleset saved them,
the amend form's data; and what they read back: the audit events of an action."""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone

from assessments import rules, services
from assessments.forms import IMPLAUSIBLE_FIELDS, POSSIBLE_DUPLICATE, AssessmentForm
from assessments.models import Assessment, AuditEvent, Patient

PASSWORD = "a-long-test-password"

# A full liver-function panel in mg/dL and g/dL: Child-Pugh 9 (class B), ALBI grade 2.
PANEL = {
    "bilirubin": "3.0",
    "bilirubin_unit": "mg_dl",
    "albumin": "3.4",
    "albumin_unit": "g_dl",
    "inr": "1.8",
    "ascites": "mild",
    "encephalopathy": "none",
}


def make_user(django_user_model, username, *groups):
    user = django_user_model.objects.create_user(username=username, password=PASSWORD)
    user.groups.set(Group.objects.filter(name__in=groups))
    return user


def record(user, **changes):
    data = {
        "mrn": "MRN-1",
        "resection_date": (timezone.localdate() - timedelta(days=30)).isoformat(),
        "tumor_size_cm": "3.0",
        "tumor_count": "1",
        "vascular_invasion": "none",
        "cirrhosis_grade": "none",
        "notes": "",
        # Tests record the same patient and resection many times, and unusual values.
        "confirm_duplicate": [POSSIBLE_DUPLICATE],
        "confirm_implausible": list(IMPLAUSIBLE_FIELDS),
        **changes,
    }
    form = AssessmentForm(data=data)
    assert form.is_valid(), form.errors
    return services.record_assessment(data=form.cleaned_data, user=user)


def ruleset_1_assessment(user, ruleset="1", **inputs) -> Assessment:
    """An assessment as an older ruleset saved it (by default ruleset 1, before ruleset 2
    existed), with no liver panel."""
    values = {
        "tumor_size_cm": Decimal("4.0"),
        "tumor_count": 1,
        "vascular_invasion": "microvascular",
        "cirrhosis_grade": "moderate",
        **inputs,
    }
    result = rules.evaluate(rules.Inputs(**values), ruleset=ruleset).as_dict()
    result.pop("liver_function", None)
    patient = Patient.objects.create(mrn=f"OLD-{ruleset}")
    resected = timezone.localdate() - timedelta(days=20)
    assessment = Assessment(
        patient=patient, resection_date=resected, created_by=user, **values, **result
    )
    assessment.save()
    return assessment


def amend_data(assessment, **changes):
    """The amend form's fields as the assessment holds them, with changes."""
    data = {
        "resection_date": assessment.resection_date.isoformat(),
        "tumor_size_cm": str(assessment.tumor_size_cm),
        "tumor_count": str(assessment.tumor_count),
        "vascular_invasion": assessment.vascular_invasion,
        "cirrhosis_grade": assessment.cirrhosis_grade,
        "prior_adjuvant_tace_sessions": str(assessment.prior_adjuvant_tace_sessions),
        "notes": assessment.notes,
        "change_reason": "Pathology report revised the tumor size.",
        "version": str(assessment.version),
    }
    return {**data, **changes}


def events(action):
    """The audit events of one action, oldest first."""
    return list(AuditEvent.objects.filter(action=action).order_by("id"))
