"""The field types every input form is built from, and their JSON typing rules.

Each field takes what a browser sends (text) or a decoded JSON value, and refuses
what the contract refuses, naming the field.
"""

import re
from decimal import Decimal

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..models import translated  # noqa: F401 (the filters read it here)


def range_messages(low, high, unit: str = "") -> dict[str, str]:
    if unit:
        message = format_lazy(
            _("Enter a value between {low} and {high} {unit}."), low=low, high=high, unit=unit
        )
    else:
        message = format_lazy(_("Enter a value between {low} and {high}."), low=low, high=high)
    return {"min_value": message, "max_value": message}


class RadioSelect(forms.RadioSelect):
    """A radio group whose first option alone takes the group's autofocus (one per page)."""

    def create_option(self, *args, **kwargs):
        option = super().create_option(*args, **kwargs)
        if option["index"] != "0":
            option["attrs"].pop("autofocus", None)
        return option


class FocusFirstErrorMixin:
    """Once validated, the first invalid field gets autofocus.

    The browser then moves the keyboard focus, and a screen reader, to it on
    load, without any script.
    """

    def full_clean(self):
        super().full_clean()
        if self.errors:
            first = next(name for name in self.fields if name in self.errors)
            self.fields[first].widget.attrs["autofocus"] = True

    def fields_with_errors(self):
        """For the error summary at the top of the page."""
        return [field for field in self if field.errors]


# The contract's input rules, for the web form, the command line and any API alike:
# a decimal uses a point and ASCII digits; JSON numbers arrive as Decimal, never float.
# A minus sign is read, so that -1 gets the field's range message.
DECIMAL_TEXT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
INTEGER_TEXT = re.compile(r"-?[0-9]+")
COMMA_DECIMAL = re.compile(r"([0-9]*),([0-9]+)")
MAX_TEXT_LENGTH = 32  # far longer than any valid value
# Full-width digits, point and minus, as a Chinese input method types them.
FULL_WIDTH = str.maketrans("０１２３４５６７８９．－", "0123456789.-")


class JsonTypedField:
    """A field that takes what a browser sends (text) or a decoded JSON value.

    Booleans, lists, objects, floats, NaN and infinities are refused, naming the
    field. `json_input` is set by the form for JSON input, where "" is a value
    (refused), not "not given" as it is for an empty box on the web form; None
    (JSON null) or a missing key is "not given" on every path.
    """

    json_input = False

    def not_given(self, value) -> bool:
        return value is None or (value == "" and not self.json_input)

    def invalid(self):
        return forms.ValidationError(self.error_messages["invalid"], code="invalid")


class NumberText(JsonTypedField):
    """A number typed in a text box, so that the browser sends what was typed (a
    number box drops "2,5"), or given in JSON."""

    inputmode = "decimal"
    pattern = DECIMAL_TEXT

    def __init__(self, **kwargs):
        attrs = {"inputmode": self.inputmode, "autocomplete": "off"}
        super().__init__(widget=forms.TextInput(attrs=attrs), **kwargs)

    def digits(self, text: str) -> str:
        """The text, stripped, if it is ASCII digits of the field's pattern."""
        text = text.strip()
        if len(text) > MAX_TEXT_LENGTH or not self.pattern.fullmatch(text):
            # A Chinese input method types full-width digits (５.５): say which to use.
            half = text.translate(FULL_WIDTH)
            if half != text and self.pattern.fullmatch(half):
                raise forms.ValidationError(
                    gettext("Use half-width digits: enter %(half)s, not %(typed)s.")
                    % {"half": half, "typed": text},
                    code="full_width",
                )
            raise self.invalid()
        return text


class DecimalField(NumberText, forms.DecimalField):
    """A decimal with a point: a JSON number or a string of ASCII digits."""

    # to_python gives None or a Decimal, never "", [], () or {}; and a set, because
    # comparing a Decimal with None (Django's emptiness test, three times a value) costs
    # an ABC check, where a set compares hashes.
    empty_values = frozenset({None})

    def to_python(self, value):
        if self.not_given(value):
            return None
        if isinstance(value, str):
            text = value.strip()
            if comma := COMMA_DECIMAL.fullmatch(text):
                point = f"{comma[1] or '0'}.{comma[2]}"
                raise forms.ValidationError(
                    gettext("Use a decimal point, not a comma: enter %(point)s, not %(typed)s.")
                    % {"point": point, "typed": text},
                    code="comma",
                )
            return Decimal(self.digits(text))
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self.invalid()
        if isinstance(value, Decimal) and not value.is_finite():
            raise self.invalid()
        return Decimal(value)


class IntegerField(NumberText, forms.IntegerField):
    """A whole number: a JSON integer or a string of ASCII digits (never 2.0)."""

    inputmode = "numeric"
    pattern = INTEGER_TEXT
    empty_values = frozenset({None})  # to_python gives None or an int (see DecimalField)

    def to_python(self, value):
        if self.not_given(value):
            return None
        if isinstance(value, str):
            return int(self.digits(value))
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.invalid()
        return value


class CodeField(JsonTypedField, forms.ChoiceField):
    """One of a list of codes, given as a string."""

    empty_values = frozenset({None, ""})  # to_python gives a string (see DecimalField)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        codes = ", ".join(str(code) for code, label in self.choices if code)
        self.error_messages["invalid"] = format_lazy(_("Choose one of: {codes}."), codes=codes)
        self.error_messages["invalid_choice"] = self.error_messages["invalid"]

    def to_python(self, value):
        if self.not_given(value):
            return ""
        if not isinstance(value, str) or value == "":  # "" in JSON: not a code
            raise self.invalid()
        return value

    _codes = (None, None)  # (the list of choices, its codes as strings)

    def valid_value(self, value):
        """ChoiceField's test, with the codes made into a set once per list of choices
        rather than compared one by one for every value (a batch checks thousands)."""
        choices = self.choices
        if self._codes[0] is not choices:
            flat = isinstance(choices, list) and all(
                type(c[1]) not in (list, tuple) for c in choices
            )
            codes = frozenset(str(code) for code, _label in choices) if flat else None
            self._codes = (choices, codes)  # None: lazy choices, or groups of choices
        codes = self._codes[1]
        return super().valid_value(value) if codes is None else str(value) in codes


class TextField(JsonTypedField, forms.CharField):
    """Text: in JSON, a string (a number, a boolean, an array or an object is refused)."""

    default_error_messages = {"invalid": _("Enter this as a JSON string.")}

    def to_python(self, value):
        if self.json_input and value is not None and not isinstance(value, str):
            raise self.invalid()
        return super().to_python(value)


class DateField(JsonTypedField, forms.DateField):
    """A date: in JSON, a string such as 2026-03-31."""

    def to_python(self, value):
        if self.json_input and value is not None and not isinstance(value, str):
            raise self.invalid()
        return super().to_python(value)


class ByNameBoundField(forms.BoundField):
    """A bound field whose widget reads its value as data.get(name): the value read so
    directly, without two calls through the form and the widget for every value."""

    @property
    def data(self):
        return self.form.data.get(self.html_name)


# The widgets that read a value as data.get(name) (Widget's and ChoiceWidget's own).
READ_BY_NAME = {forms.Widget.value_from_datadict, forms.widgets.ChoiceWidget.value_from_datadict}


class JsonInputMixin:
    """`json_input=True` applies the contract's JSON typing rules to every field."""

    def __init__(self, *args, json_input: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.json_input = json_input
        for field in self.fields.values():
            field.json_input = json_input
            widget = field.widget
            if (
                json_input
                and type(widget).value_from_datadict in READ_BY_NAME
                and not getattr(widget, "allow_multiple_selected", False)
            ):
                field.bound_field_class = ByNameBoundField


class ConfirmField(JsonTypedField, forms.Field):
    """A confirmation given on saving: on the web form, the boxes ticked, each naming what
    it confirms; in JSON, true or false (true confirms every warning the refusal names)."""

    widget = forms.CheckboxSelectMultiple  # the web form's boxes, all under one name
    default_error_messages = {"invalid": _("Enter true or false.")}

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        if self.json_input:
            if value is None:
                return False
            if not isinstance(value, bool):
                raise self.invalid()
            return value
        return [item for item in value or [] if isinstance(item, str)]

    def confirms(self, value, name: str) -> bool:
        return value is True or (isinstance(value, list) and name in value)


REASON_MIN_LENGTH = 5


class ReasonField(TextField):
    def __init__(self, **kwargs):
        super().__init__(
            min_length=REASON_MIN_LENGTH,
            max_length=1000,
            widget=forms.Textarea(attrs={"rows": 2}),
            error_messages={
                "required": _("Give a reason: it is kept in the audit trail."),
                "min_length": format_lazy(
                    _("Give a reason of at least {count} characters."), count=REASON_MIN_LENGTH
                ),
            },
            **kwargs,
        )


class VersionField(forms.IntegerField):
    widget = forms.HiddenInput
