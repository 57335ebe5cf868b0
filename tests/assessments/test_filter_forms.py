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


def _list_box(form, name: str) -> str:
    return str(form[name])


def test_a_list_box_kept_from_one_drawing_shows_each_forms_choice_language_and_options():
    from django.utils import translation

    signed = AssessmentFilterForm(initial={"status": "signed"})
    with translation.override("en"):
        english = _list_box(signed, "status")
        assert "selected" not in _list_box(AssessmentFilterForm(initial={"status": "x"}), "status")
    with translation.override("zh-hans"):
        chinese = _list_box(AssessmentFilterForm(initial={"status": "signed"}), "status")
    assert 'value="signed" selected' in english and 'value="signed" selected' in chinese
    assert "Draft or signed" in english and "Draft or signed" not in chinese
    first = AssessmentFilterForm(initial={"clinician": "3"}, clinicians=[(3, "Dr A")])
    then = AssessmentFilterForm(initial={"clinician": "3"}, clinicians=[(3, "Dr B")])
    assert ">Dr A<" in _list_box(first, "clinician")
    assert ">Dr B<" in _list_box(then, "clinician")
    assert "Dr A" not in _list_box(then, "clinician")
