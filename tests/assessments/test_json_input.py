"""JSON input on every path: the contract's typing rules, enforced by the form fields.

Each bad value is refused under its own field's name; nothing is saved; a batch
goes on past a bad line; no value of any shape raises.
"""

import json

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments import rules
from assessments.forms import RULESET_FORMS, JsonValidator
from assessments.management.commands.recommend import score
from assessments.models import Assessment, Patient
from common.jsonio import parse_json
from tests.assessments.test_commands import recommend

BASE = {
    "tumor_size_cm": "6.0",
    "tumor_count": 1,
    "vascular_invasion": "none",
    "cirrhosis_grade": "none",
}
PANEL = {
    "bilirubin": "20",
    "bilirubin_unit": "umol_l",
    "albumin": "40",
    "albumin_unit": "g_l",
    "inr": "1.0",
    "ascites": "none",
    "encephalopathy": "none",
}
DECIMALS = ["tumor_size_cm", "bilirubin", "albumin", "inr"]
INTEGERS = ["tumor_count", "prior_adjuvant_tace_sessions"]
CODES = [
    "vascular_invasion",
    "cirrhosis_grade",
    "bilirubin_unit",
    "albumin_unit",
    "ascites",
    "encephalopathy",
]
# JSON text of values no field takes: what a mistaken or hostile client may send.
NOT_A_VALUE = [
    "[]",
    "{}",
    "[5]",
    '{"value": 5}',
    "true",
    "false",
    "NaN",
    "Infinity",
    "-Infinity",
    '""',
    '"NaN"',
    '"1e5"',
    '"５.１"',  # full-width digits
    '"٥"',  # an Arabic-Indic digit
    '"2,5"',
    '"5.1 cm"',
]
NOT_AN_INTEGER = ["2.0", "1.5", '"2.0"', "1e999", '"one"']
NOT_A_CODE = ["1", "0", '"NONE"', '"none "']


def line(field: str, value_json: str) -> str:
    """A complete, valid input with one field's value replaced by raw JSON text."""
    obj = {**BASE, **PANEL}
    obj[field] = "__VALUE__"
    return json.dumps(obj).replace('"__VALUE__"', value_json)


def errors_of(text: str, ruleset: str = rules.LATEST_RULESET) -> dict:
    output, valid = score(text, ruleset, JsonValidator(RULESET_FORMS[ruleset]))
    assert valid is ("errors" not in output)
    return output.get("errors", {})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (field, value)
        for field in DECIMALS + INTEGERS + CODES
        for value in NOT_A_VALUE
        # A non-empty string is a code's type: unknown codes are tested below.
        if field not in CODES or not value.startswith('"') or value == '""'
    ],
)
def test_every_shape_that_is_not_a_value_is_refused_naming_the_field(field, value):
    assert list(errors_of(line(field, value))) == [field]


@pytest.mark.parametrize("field", INTEGERS)
@pytest.mark.parametrize("value", NOT_AN_INTEGER)
def test_an_integer_is_a_json_integer_or_ascii_digits(field, value):
    assert list(errors_of(line(field, value))) == [field]


@pytest.mark.parametrize("field", CODES)
@pytest.mark.parametrize("value", NOT_A_CODE)
def test_a_code_is_one_of_its_strings(field, value):
    assert list(errors_of(line(field, value))) == [field]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("tumor_size_cm", "5.1", "5.1"),
        ("tumor_size_cm", '"5.1"', "5.1"),
        ("tumor_size_cm", "5", "5"),
        ("tumor_count", "2", 2),
        ("tumor_count", '"2"', 2),
        ("inr", "1.25", "1.25"),
        ("prior_adjuvant_tace_sessions", "null", 0),
    ],
)
def test_numbers_and_digit_strings_are_taken(field, value, expected):
    obj, errors = parse_json(line(field, value))
    form, errors = JsonValidator()(obj)
    assert errors == {}
    got = form.cleaned_data[field]
    assert got == (expected if isinstance(expected, int) else rules.Decimal(expected))
    assert not isinstance(got, float)


def test_huge_numbers_are_refused_by_range():
    errors = errors_of(line("tumor_size_cm", "1e999"))
    assert errors == {"tumor_size_cm": ["Enter a value between 0.1 and 30.0 cm."]}


def test_a_comma_is_refused_with_the_point_form():
    assert errors_of(line("bilirubin", '"1,2"')) == {
        "bilirubin": ["Use a decimal point, not a comma: enter 1.2, not 1,2."]
    }


def test_a_duplicated_key_is_refused():
    text = json.dumps({**BASE, **PANEL})[:-1] + ', "tumor_size_cm": "3.0"}'
    assert errors_of(text) == {"tumor_size_cm": ["Given more than once: give each field once."]}


@pytest.mark.parametrize("unit", ["bilirubin_unit", "albumin_unit"])
def test_with_a_panel_each_unit_is_required_in_json(unit):
    obj = {**BASE, **PANEL}
    del obj[unit]
    errors = errors_of(json.dumps(obj))
    assert list(errors) == [unit]
    assert "It has no default here" in errors[unit][0]


def test_null_means_not_given():
    obj = {**BASE, "prior_adjuvant_tace_sessions": None, **dict.fromkeys(PANEL)}
    assert errors_of(json.dumps(obj)) == {}


def test_an_empty_list_for_bilirubin_no_longer_drops_the_panel():
    """The other four values with "bilirubin": [] once scored as if no panel was given:
    a Child-Pugh C patient got "recommended"."""
    child_pugh_c = {**PANEL, "albumin": "25", "inr": "2.4", "ascites": "moderate_severe"}
    for shape in ("[]", "{}"):
        obj = json.dumps({**BASE, **child_pugh_c, "bilirubin": "__B__"})
        assert list(errors_of(obj.replace('"__B__"', shape))) == ["bilirubin"]


def test_a_bad_line_is_reported_on_its_own_and_the_batch_goes_on(monkeypatch):
    good = json.dumps({**BASE, **PANEL})
    bad = [line(field, "[]") for field in ["bilirubin", "albumin", "inr", "ascites"]]
    text = "\n".join([good, *bad, line("encephalopathy", "{}"), good]) + "\n"
    code, out = recommend(monkeypatch, text, "--jsonl")
    assert code == 2
    outputs = [json.loads(row) for row in out.splitlines()]
    assert len(outputs) == 7
    assert outputs[0]["recommendation"] == outputs[-1]["recommendation"] == "recommended"
    named = [list(output["errors"]) for output in outputs[1:-1]]
    assert named == [["bilirubin"], ["albumin"], ["inr"], ["ascites"], ["encephalopathy"]]


# Any JSON value at all, in any one field: a result, or errors naming that field alone.
any_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["５", "٥", "2,5", "1e999", "", " 5 "]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=4,
)


@settings(max_examples=400, deadline=None)
@given(
    field=st.sampled_from(DECIMALS + INTEGERS + CODES),
    value=any_json,
    ruleset=st.sampled_from(["2", "3"]),
)
def test_any_json_value_in_a_field_never_raises(field, value, ruleset):
    text = json.dumps({**BASE, **PANEL, field: value}, default=str)
    errors = errors_of(text, ruleset)
    assert errors == {} or list(errors) == [field]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "typed", "point"),
    [("tumor_size_cm", "2,5", "2.5"), ("bilirubin", "1,2", "1.2"), ("inr", ",9", "0.9")],
)
def test_the_web_form_refuses_a_comma_and_saves_nothing(
    clinician_client, valid_data, field, typed, point
):
    data = {**valid_data, **PANEL, field: typed}
    response = clinician_client.post(reverse("assessments:create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors == {
        field: [f"Use a decimal point, not a comma: enter {point}, not {typed}."]
    }
    assert not Assessment.objects.exists() and not Patient.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["５.１", "٥", "5.1cm", "true"])
def test_the_web_form_refuses_other_digits_and_words(clinician_client, valid_data, typed):
    response = clinician_client.post(
        reverse("assessments:create"), {**valid_data, "tumor_size_cm": typed}
    )
    assert list(response.context["form"].errors) == ["tumor_size_cm"]
    assert not Assessment.objects.exists()


@pytest.mark.django_db
def test_the_web_form_sends_what_was_typed(clinician_client):
    html = clinician_client.get(reverse("assessments:create")).content.decode()
    assert 'type="number"' not in html
    for name in DECIMALS:
        assert 'inputmode="decimal" autocomplete="off"' in html
        assert f'name="{name}"' in html
