"""The form tests' bad inputs, through the API: the same messages, in the same shape
as `manage.py recommend`."""

import json

import pytest

from assessments import rules
from assessments.forms import RULESET_FORMS, JsonValidator
from assessments.management.commands.recommend import score
from common.jsonio import encode
from tests.assessments import test_forms, test_json_input

pytestmark = pytest.mark.django_db


def cases(test):
    (marker,) = [m for m in test.pytestmark if m.name == "parametrize"]
    return marker.args[1]


def command_line(text: str, ruleset: str) -> dict:
    output, _ = score(text, ruleset, JsonValidator(RULESET_FORMS[ruleset]))
    return json.loads(encode(output))  # as the command prints it


def through_api(api, text: str, ruleset: str):
    obj = json.loads(text)
    if isinstance(obj, dict):
        obj["ruleset"] = ruleset
        text = json.dumps(obj)
    return api.post("evaluate", raw=text)


@pytest.mark.parametrize(
    ("field", "value", "message"), cases(test_forms.test_bad_input_names_the_field)
)
def test_the_form_tests_bad_inputs(clinician_api, field, value, message):
    data = {**test_forms.VALID, field: value}
    text = json.dumps({k: v for k, v in data.items() if v is not None})
    response = through_api(clinician_api, text, rules.RULESET_1)
    assert response.status_code == 400
    assert response.json() == command_line(text, rules.RULESET_1)
    if value == "":
        # The contract: in JSON "" is a value (not a code), not an empty box.
        message = "Choose one of:"
    assert response.json()["errors"][field][0].startswith(message)


@pytest.mark.parametrize(
    ("field", "value", "unit", "message"), cases(test_forms.test_ranges_apply_in_the_unit_entered)
)
def test_the_form_tests_panel_ranges(clinician_api, field, value, unit, message):
    # In JSON both units are required (the web form's select always sends one).
    units = {"bilirubin_unit": "umol_l", "albumin_unit": "g_l", f"{field}_unit": unit}
    data = {**test_forms.VALID, **test_forms.PANEL, **units, field: value}
    text = json.dumps(data)
    response = through_api(clinician_api, text, rules.RULESET_2)
    assert response.json() == command_line(text, rules.RULESET_2)
    if message is None:
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        assert response.json() == {"errors": {field: [message]}}


@pytest.mark.parametrize("field", test_json_input.DECIMALS + test_json_input.INTEGERS)
@pytest.mark.parametrize("value", test_json_input.NOT_A_VALUE)
def test_every_shape_that_is_not_a_value(clinician_api, field, value):
    text = test_json_input.line(field, value)
    response = clinician_api.post("evaluate", raw=text)
    assert response.status_code == 400
    assert response.json() == command_line(text, rules.LATEST_RULESET)
    assert field in response.json()["errors"]


@pytest.mark.parametrize("field", test_json_input.CODES)
@pytest.mark.parametrize("value", test_json_input.NOT_A_CODE)
def test_codes(clinician_api, field, value):
    text = test_json_input.line(field, value)
    response = clinician_api.post("evaluate", raw=text)
    assert response.status_code == 400
    assert response.json() == command_line(text, rules.LATEST_RULESET)


def test_a_comma_unknown_fields_and_units(clinician_api):
    for changes in (
        {"tumor_size_cm": "2,5"},
        {"size": 5},
        {"bilirubin_unit": None},
        {"albumin_unit": None},
    ):
        obj = {**test_json_input.BASE, **test_json_input.PANEL, **changes}
        text = json.dumps({k: v for k, v in obj.items() if v is not None})
        response = clinician_api.post("evaluate", raw=text)
        assert response.status_code == 400
        assert response.json() == command_line(text, rules.LATEST_RULESET), changes
