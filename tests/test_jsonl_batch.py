"""recommend --jsonl's batch path: the same form, the same results and the same errors."""

import pytest
from django.forms import ChoiceField

from assessments.forms import RULESET_FORMS, AssessmentForm, CodeField


@pytest.mark.parametrize("form_class", [*RULESET_FORMS.values(), AssessmentForm])
def test_a_code_is_checked_against_the_same_codes_as_django_checks(form_class):
    """CodeField keeps its codes in a set: the same answers as ChoiceField's own test."""
    fields = [f for f in form_class(json_input=True).fields.values() if isinstance(f, CodeField)]
    assert fields
    for field in fields:
        for value in [*(str(code) for code, _ in field.choices), "NONE", "none ", "1", "x"]:
            assert field.valid_value(value) is ChoiceField.valid_value(field, value), value


def test_grouped_and_lazy_choices_are_checked_as_django_checks():
    grouped = CodeField(choices=[("a", "A"), ("Group", [("b", "B")])])
    lazy = CodeField(choices=lambda: [("a", "A")])
    for field, value, expected in [
        (grouped, "b", True),
        (grouped, "Group", False),
        (lazy, "a", True),
    ]:
        assert field.valid_value(value) is expected
    grouped.choices = [("c", "C")]  # new choices: new codes
    assert grouped.valid_value("c") and not grouped.valid_value("a")
