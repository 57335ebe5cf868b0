import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from assessments import forms, rules
from assessments.forms import AssessmentForm, JsonValidator, RuleInputsForm, RuleInputsV2Form

VALID = {
    "tumor_size_cm": "5.1",
    "tumor_count": "2",
    "vascular_invasion": "microvascular",
    "cirrhosis_grade": "moderate",
    "prior_adjuvant_tace_sessions": "1",
}


def validate_json(obj, form_class=None):
    return JsonValidator(form_class)(obj)


def inputs(form) -> rules.Inputs:
    return rules.Inputs.from_data(form.cleaned_data)


def errors_for(**changes):
    data = {**VALID, **changes}
    data = {k: v for k, v in data.items() if v is not None}
    form = RuleInputsForm(data=data)
    assert not form.is_valid()
    return form.errors


def test_valid_inputs_are_decimal_and_int():
    form = RuleInputsForm(data=VALID)
    assert form.is_valid(), form.errors
    given = inputs(form)
    assert given.tumor_size_cm == Decimal("5.1")
    assert isinstance(given.tumor_size_cm, Decimal)
    assert given.tumor_count == 2


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
        ("vascular_invasion", "macro", "Choose one of: none, microvascular, portal_vein_branch."),
        ("cirrhosis_grade", "", "This field is required."),
        ("cirrhosis_grade", "Severe", "Choose one of: none, mild, moderate, severe."),
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
    form, errors = validate_json(
        {**VALID, "tumour_size": "3", "bilirubin": "20"}, form_class=RuleInputsForm
    )
    assert form is None
    assert errors == {"tumour_size": ["Unknown field."], "bilirubin": ["Unknown field."]}


def test_json_accepts_numbers_and_strings():
    form, errors = validate_json({**VALID, "tumor_size_cm": Decimal("4.5"), "tumor_count": 3})
    assert errors == {}
    assert inputs(form).tumor_size_cm == Decimal("4.5")


@pytest.mark.parametrize("obj", [[], "text", 3, None])
def test_json_refuses_non_objects(obj):
    form, errors = validate_json(obj)
    assert form is None
    assert list(errors) == ["__all__"]


def test_json_refuses_booleans_and_lists():
    form, errors = validate_json({**VALID, "tumor_count": True, "tumor_size_cm": [5]})
    assert set(errors) == {"tumor_count", "tumor_size_cm"}


def assessment_data(**changes):
    resected = timezone.localdate() - timedelta(days=30)
    data = {**VALID, "mrn": "abc-123", "resection_date": resected.isoformat(), "notes": ""}
    return {**data, **changes}


@pytest.mark.django_db  # the form looks for a possible duplicate
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


@pytest.mark.django_db  # the form looks for a possible duplicate
def test_resection_date_today_is_accepted():
    today = timezone.localdate().isoformat()
    assert AssessmentForm(data=assessment_data(resection_date=today)).is_valid()


@pytest.mark.django_db  # the form looks for a possible duplicate
def test_notes_at_most_5000_characters():
    assert AssessmentForm(data=assessment_data(notes="x" * 5000)).is_valid()
    form = AssessmentForm(data=assessment_data(notes="x" * 5001))
    assert list(form.errors) == ["notes"]


# Ruleset 2: the liver panel

PANEL = {
    "bilirubin": "20",
    "albumin": "40",
    "inr": "1.1",
    "ascites": "none",
    "encephalopathy": "none",
}


def v2_errors(**changes):
    data = {k: v for k, v in {**VALID, **PANEL, **changes}.items() if v is not None}
    form = RuleInputsV2Form(data=data)
    assert not form.is_valid()
    return form.errors


def test_panel_defaults_to_si_units():
    form = RuleInputsV2Form(data={**VALID, **PANEL})
    assert form.is_valid(), form.errors
    panel = inputs(form).liver_panel
    assert (panel.bilirubin_unit, panel.albumin_unit) == ("umol_l", "g_l")
    assert panel.bilirubin == Decimal("20")


def test_no_panel_is_fine_and_clears_units():
    form = RuleInputsV2Form(data={**VALID, "bilirubin_unit": "mg_dl", "albumin_unit": "g_dl"})
    assert form.is_valid(), form.errors
    assert inputs(form).liver_panel is None
    assert form.cleaned_data["bilirubin_unit"] is None


def test_partial_panel_names_each_missing_field():
    errors = v2_errors(albumin="", inr=None, encephalopathy="")
    assert set(errors) == {"albumin", "inr", "encephalopathy"}
    assert errors["inr"] == [
        "Enter INR too: the liver-function panel needs all five values, or none."
    ]


@pytest.mark.parametrize(
    ("field", "value", "unit", "message"),
    [
        ("bilirubin", "0.9", "umol_l", "Bilirubin must be between 1 and 1000 µmol/L."),
        ("bilirubin", "1001", "umol_l", "Bilirubin must be between 1 and 1000 µmol/L."),
        ("bilirubin", "0.05", "mg_dl", "Bilirubin must be between 0.06 and 58.0 mg/dL."),
        ("bilirubin", "58.1", "mg_dl", "Bilirubin must be between 0.06 and 58.0 mg/dL."),
        ("bilirubin", "20", "mg_dl", None),
        ("albumin", "9", "g_l", "Albumin must be between 10 and 60 g/L."),
        ("albumin", "61", "g_l", "Albumin must be between 10 and 60 g/L."),
        ("albumin", "0.9", "g_dl", "Albumin must be between 1.0 and 6.0 g/dL."),
        ("albumin", "35", "g_dl", "Albumin must be between 1.0 and 6.0 g/dL."),
        ("albumin", "3.5", "g_dl", None),
    ],
)
def test_ranges_apply_in_the_unit_entered(field, value, unit, message):
    data = {**VALID, **PANEL, field: value, f"{field}_unit": unit}
    form = RuleInputsV2Form(data=data)
    if message is None:
        assert form.is_valid(), form.errors
    else:
        assert form.errors == {field: [message]}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("inr", "0.7"),
        ("inr", "10.1"),
        ("inr", "1.123"),
        ("bilirubin", "NaN"),
        ("bilirubin", "20.123"),
        ("albumin", "lots"),
        ("ascites", "severe"),
        ("encephalopathy", "grade_5"),
        ("bilirubin_unit", "mmol_l"),
        ("albumin_unit", "mg_dl"),
    ],
)
def test_bad_panel_values_name_the_field(field, value):
    assert field in v2_errors(**{field: value})


def test_ruleset_1_form_refuses_portal_vein_main():
    assert "vascular_invasion" in errors_for(vascular_invasion="portal_vein_main")
    form = RuleInputsV2Form(data={**VALID, "vascular_invasion": "portal_vein_main"})
    assert form.is_valid(), form.errors


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


def test_one_validator_judges_each_object_afresh():
    validate = JsonValidator(RuleInputsForm)
    good = {"tumor_size_cm": 5, "tumor_count": 1, "vascular_invasion": "none"}
    good["cirrhosis_grade"] = "none"
    bad = {**good, "tumor_size_cm": "5,5", "tumor_count": 0}
    assert set(validate(bad)[1]) == {"tumor_size_cm", "tumor_count"}
    form, errors = validate(good)
    assert errors == {} and form.cleaned_data["tumor_size_cm"] == Decimal(5)
    assert set(validate({**good, "tumor_count": 51})[1]) == {"tumor_count"}


def test_the_forms_use_only_the_public_form_api():
    """Django's private _clean_fields and _errors may change under an upgrade: the forms
    clean through full_clean, clean_<field> and add_error."""
    for path in Path(forms.__file__).parent.glob("*.py"):
        source = path.read_text()
        assert not re.search(r"\b_clean_fields\b|\._errors\b", source), path.name
