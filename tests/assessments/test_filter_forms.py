"""The lists' filters are parsed by forms: what parses is applied, the rest left out."""

from datetime import date

import pytest

from assessments.forms.filters import (
    ApiAssessmentFilterForm,
    AssessmentFilterForm,
    AuditFilterForm,
)


@pytest.mark.parametrize(
    ("params", "given"),
    [
        ({"clinician": "7"}, {"clinician": 7}),
        ({"clinician": "x"}, {}),
        ({"clinician": "-1"}, {}),
        ({"clinician": "9" * 19}, {}),
        ({"assessed_from": "2026-02-28"}, {"assessed_from": date(2026, 2, 28)}),
        ({"assessed_from": "2026-02-30"}, {}),
        ({"resection_to": "28/02/2026"}, {}),
        ({"status": "signed"}, {"status": "signed"}),
        ({"status": "x"}, {}),
        ({"window": "passed", "sort": "mrn"}, {"window": "passed", "sort": "mrn"}),
        ({"sort": "nonsense"}, {}),
    ],
)
def test_the_list_filters_that_parse_are_given(params, given):
    parsed = AssessmentFilterForm(params).given()
    assert {name: value for name, value in parsed.items() if value not in (None, "", False)} == (
        given
    )


@pytest.mark.parametrize(
    ("params", "given"),
    [
        ({"patient": "12", "date_to": "2025-01-31"}, {"patient": 12, "date_to": date(2025, 1, 31)}),
        ({"patient": "none", "date_from": "yesterday"}, {}),
        ({"action": "login"}, {"action": "login"}),
        ({"action": "not-an-action"}, {}),
    ],
)
def test_the_audit_filters_that_parse_are_given(params, given):
    parsed = AuditFilterForm(params).given()
    assert {name: value for name, value in parsed.items() if value not in (None, "")} == given


def test_the_api_refuses_a_filter_that_does_not_parse_naming_it():
    form = ApiAssessmentFilterForm({"created_from": "2026-02-30", "status": "gone"})
    assert not form.is_valid() and set(form.errors) == {"created_from", "status"}
    form = ApiAssessmentFilterForm({"created_to": "2026-02-28", "recommendation": "recommended"})
    assert form.is_valid() and form.cleaned_data["created_to"] == date(2026, 2, 28)
