"""Strict JSON input: decoding a document for the forms, and validating decoded
objects with the web form's own fields, checks and messages."""

import json
from decimal import Decimal

from django import forms
from django.utils.translation import gettext

from .. import rules
from .assessment import RULESET_FORMS


class DuplicateKey(ValueError):
    def __init__(self, key: str):
        self.key = key
        super().__init__(key)


def _refuse_duplicates(pairs):
    obj = dict(pairs)
    if len(obj) < len(pairs):
        seen = set()
        for key, _value in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return obj


def parse_json(text: str | bytes):
    """Decode one JSON document for the input forms; return (object, errors).

    Numbers become Decimal, never float, from the first byte (the contract's float
    trap); NaN and infinities become non-finite Decimals, which the fields refuse.
    A key given twice is refused under its own name.
    """
    try:
        obj = json.loads(
            text,
            parse_float=Decimal,
            parse_constant=Decimal,
            object_pairs_hook=_refuse_duplicates,
        )
    except DuplicateKey as duplicate:
        return None, {duplicate.key: [gettext("Given more than once: give each field once.")]}
    except json.JSONDecodeError as error:
        # The place, in the app's words: the decoder's own text is Python's, in English.
        message = gettext(
            "Not valid JSON: look at line %(line)d, column %(column)d "
            "(quotes, commas, brackets, or something after the end)."
        ) % {"line": error.lineno, "column": error.colno}
        return None, {"__all__": [message]}
    except RecursionError:  # absurdly deep nesting
        return None, {"__all__": [gettext("Not valid JSON: it is nested too deeply.")]}
    except ValueError:  # UnicodeDecodeError: the bytes are not text
        return None, {"__all__": [gettext("Not valid JSON: send it as UTF-8 text.")]}
    return obj, {}


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
