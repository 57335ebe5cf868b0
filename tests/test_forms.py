import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from assessments.forms import AssessmentForm, RuleInputsForm, validate_json

VALID = {
    "tumor_size_cm": "5.1",
    "tumor_count": "2",
    "vascular_invasion": "microvascular",
    "cirrhosis_grade": "moderate",
    "prior_adjuvant_tace_sessions": "1",
}


def errors_for(**changes):
    data = {**VALID, **changes}
    data = {k: v for k, v in data.items() if v is not None}
    form = RuleInputsForm(data=data)
    assert not form.is_valid()
    return form.errors


def test_valid_inputs_are_decimal_and_int():
    form = RuleInputsForm(data=VALID)
    assert form.is_valid(), form.errors
    inputs = form.rule_inputs()
    assert inputs.tumor_size_cm == Decimal("5.1")
    assert isinstance(inputs.tumor_size_cm, Decimal)
    assert inputs.tumor_count == 2


def test_prior_sessions_default_to_zero():
    data = {k: v for k, v in VALID.items() if k != "prior_adjuvant_tace_sessions"}
    form = RuleInputsForm(data=data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["prior_adjuvant_tace_sessions"] == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tumor_size_cm", None, "This field is required."),
        ("tumor_size_cm", "0.0", "Enter a value between 0.1 and 30.0 cm."),
        ("tumor_size_cm", "30.1", "Enter a value between 0.1 and 30.0 cm."),
        ("tumor_size_cm", "-1", "Enter a value between 0.1 and 30.0 cm."),
        ("tumor_size_cm", "5.15", "Enter at most one decimal place, such as 4.5."),
        ("tumor_size_cm", "five", "Enter a number of centimetres, such as 4.5."),
        ("tumor_size_cm", "NaN", "Enter a number of centimetres, such as 4.5."),
        ("tumor_size_cm", "Infinity", "Enter a number of centimetres, such as 4.5."),
        ("tumor_count", None, "This field is required."),
        ("tumor_count", "0", "Enter a value between 1 and 50."),
        ("tumor_count", "51", "Enter a value between 1 and 50."),
        ("tumor_count", "2.5", "Enter a whole number of tumors."),
        ("vascular_invasion", None, "This field is required."),
        ("vascular_invasion", "macro", "Select a valid choice. macro is not one of the"),
        ("cirrhosis_grade", "", "This field is required."),
        ("cirrhosis_grade", "Severe", "Select a valid choice. Severe is not one of the"),
        ("prior_adjuvant_tace_sessions", "-1", "Enter a value between 0 and 10."),
        ("prior_adjuvant_tace_sessions", "11", "Enter a value between 0 and 10."),
        ("prior_adjuvant_tace_sessions", "1.5", "Enter a whole number of sessions."),
    ],
)
def test_bad_input_names_the_field(field, value, message):
    errors = errors_for(**{field: value})
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)


@pytest.mark.parametrize("size", ["0.1", "30.0", "30", "5"])
def test_size_range_bounds_are_accepted(size):
    assert RuleInputsForm(data={**VALID, "tumor_size_cm": size}).is_valid()


def test_json_refuses_unknown_fields_under_their_own_name():
    form, errors = validate_json({**VALID, "tumour_size": "3", "bilirubin": "20"})
    assert form is None
    assert errors == {"tumour_size": ["Unknown field."], "bilirubin": ["Unknown field."]}


def test_json_accepts_numbers_and_strings():
    form, errors = validate_json({**VALID, "tumor_size_cm": Decimal("4.5"), "tumor_count": 3})
    assert errors == {}
    assert form.rule_inputs().tumor_size_cm == Decimal("4.5")


@pytest.mark.parametrize("obj", [[], "text", 3, None])
def test_json_refuses_non_objects(obj):
    form, errors = validate_json(obj)
    assert form is None
    assert list(errors) == ["__all__"]


def test_json_refuses_booleans_and_lists():
    form, errors = validate_json({**VALID, "tumor_count": True, "tumor_size_cm": [5]})
    assert set(errors) == {"tumor_count", "tumor_size_cm"}


def assessment_data(**changes):
    data = {**VALID, "mrn": "abc-123", "resection_date": "2026-01-05", "notes": ""}
    return {**data, **changes}


def test_mrn_is_upper_cased():
    form = AssessmentForm(data=assessment_data())
    assert form.is_valid(), form.errors
    assert form.cleaned_data["mrn"] == "ABC-123"


@pytest.mark.parametrize("mrn", ["", "abc 123", "abc_123", "x" * 33, "<script>", "ab\x00c"])
def test_bad_mrn(mrn):
    form = AssessmentForm(data=assessment_data(mrn=mrn))
    assert not form.is_valid()
    assert list(form.errors) == ["mrn"]


def test_resection_date_not_in_future():
    tomorrow = timezone.localdate() + timedelta(days=1)
    form = AssessmentForm(data=assessment_data(resection_date=tomorrow.isoformat()))
    assert form.errors == {"resection_date": ["The resection date cannot be in the future."]}


def test_resection_date_today_is_accepted():
    today = timezone.localdate().isoformat()
    assert AssessmentForm(data=assessment_data(resection_date=today)).is_valid()


def test_notes_at_most_5000_characters():
    assert AssessmentForm(data=assessment_data(notes="x" * 5000)).is_valid()
    form = AssessmentForm(data=assessment_data(notes="x" * 5001))
    assert list(form.errors) == ["notes"]


@pytest.mark.parametrize(
    ("changes", "focused_id"),
    [
        ({"tumor_count": "0", "cirrhosis_grade": None}, "id_tumor_count"),
        # In a radio group only the first option takes it.
        (
            {"vascular_invasion": None, "prior_adjuvant_tace_sessions": "11"},
            "id_vascular_invasion_0",
        ),
    ],
)
def test_the_first_invalid_field_alone_gets_autofocus(changes, focused_id):
    data = {k: v for k, v in {**VALID, **changes}.items() if v is not None}
    form = RuleInputsForm(data=data)
    assert not form.is_valid()
    tags = re.findall(r"<input[^>]*\bautofocus\b[^>]*>", str(form))
    assert len(tags) == 1
    assert f'id="{focused_id}"' in tags[0]


def test_a_valid_or_unbound_form_has_no_autofocus():
    assert "autofocus" not in str(RuleInputsForm())
    form = RuleInputsForm(data=VALID)
    assert form.is_valid()
    assert "autofocus" not in str(form)
