"""Strict JSON input: decoding a document for the forms, and validating decoded
objects with the web form's own fields, checks and messages."""

from django import forms
from django.utils.translation import gettext

from common.jsonio import parse_json  # noqa: F401 (the forms' JSON is common's)

from .. import rules
from .assessment import RULESET_FORMS


class JsonValidator:
    """Validate decoded JSON objects with one form of the given class.

    The same fields, checks and messages as the web form, with the JSON typing
    rules on. One bound form is reused from object to object, because building a
    form (a deep copy of every field) costs more than validating it: this keeps the
    command line fast on large batches. JSON input also refuses fields the form
    does not know, each under its own name.
    """

    def __init__(self, form_class=None):
        self.form = (form_class or RULESET_FORMS[rules.LATEST_RULESET])(data={}, json_input=True)

    def __call__(self, obj) -> tuple[forms.Form | None, dict[str, list[str]]]:
        """Return (the validated form, or None; the errors by field)."""
        if not isinstance(obj, dict):
            return None, {"__all__": [gettext("Expected a JSON object with the input fields.")]}
        form = self.form
        form.data = obj
        form.full_clean()  # the reused form validates the new data
        errors = {} if form.is_valid() else error_lists(form)
        for name in obj:
            if name not in form.fields:
                errors.setdefault(name, []).append(gettext("Unknown field."))
        return (None if errors else form), errors


def error_lists(form: forms.Form) -> dict[str, list[str]]:
    return {field: list(errors) for field, errors in form.errors.items()}
