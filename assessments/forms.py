"""Input validation: the one place the rule inputs' ranges are checked.

The web form, the command line and any API validate through these classes, so
a value refused in one place is refused everywhere with the same message.
"""

import json
import re
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.contrib.auth import authenticate
from django.utils import timezone

from . import rules
from .models import MRN_VALIDATOR, Assessment


def _range_messages(low, high, unit: str = "") -> dict[str, str]:
    unit = f" {unit}" if unit else ""
    message = f"Enter a value between {low} and {high}{unit}."
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
        first = next((name for name in self.fields if name in self._errors), None)
        if first is not None:
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


class DecimalField(JsonTypedField, forms.DecimalField):
    """A decimal with a point: a JSON number or a string of ASCII digits."""

    def __init__(self, **kwargs):
        attrs = {"inputmode": "decimal", "autocomplete": "off"}
        super().__init__(widget=forms.TextInput(attrs=attrs), **kwargs)

    def to_python(self, value):
        if self.not_given(value):
            return None
        if isinstance(value, str):
            text = value.strip()
            if comma := COMMA_DECIMAL.fullmatch(text):
                point = f"{comma[1] or '0'}.{comma[2]}"
                raise forms.ValidationError(
                    f"Use a decimal point, not a comma: enter {point}, not {text}.", code="comma"
                )
            if len(text) > MAX_TEXT_LENGTH or not DECIMAL_TEXT.fullmatch(text):
                raise self.invalid()
            return Decimal(text)
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self.invalid()
        if isinstance(value, Decimal) and not value.is_finite():
            raise self.invalid()
        return Decimal(value)


class IntegerField(JsonTypedField, forms.IntegerField):
    """A whole number: a JSON integer or a string of ASCII digits (never 2.0)."""

    def __init__(self, **kwargs):
        attrs = {"inputmode": "numeric", "autocomplete": "off"}
        super().__init__(widget=forms.TextInput(attrs=attrs), **kwargs)

    def to_python(self, value):
        if self.not_given(value):
            return None
        if isinstance(value, str):
            text = value.strip()
            if len(text) > MAX_TEXT_LENGTH or not INTEGER_TEXT.fullmatch(text):
                raise self.invalid()
            return int(text)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.invalid()
        return value


class CodeField(JsonTypedField, forms.ChoiceField):
    """One of a list of codes, given as a string."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        codes = ", ".join(str(code) for code, _ in self.choices if code)
        self.error_messages["invalid"] = f"Choose one of: {codes}."
        self.error_messages["invalid_choice"] = self.error_messages["invalid"]

    def to_python(self, value):
        if self.not_given(value):
            return ""
        if not isinstance(value, str) or value == "":  # "" in JSON: not a code
            raise self.invalid()
        return value


class TextField(JsonTypedField, forms.CharField):
    """Text: in JSON, a string (a number, a boolean, an array or an object is refused)."""

    default_error_messages = {"invalid": "Enter this as a JSON string."}

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


class JsonInputMixin:
    """`json_input=True` applies the contract's JSON typing rules to every field."""

    def __init__(self, *args, json_input: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.json_input = json_input
        for field in self.fields.values():
            field.json_input = json_input


class RuleInputsForm(JsonInputMixin, FocusFirstErrorMixin, forms.Form):
    tumor_size_cm = DecimalField(
        label="Largest tumor diameter (cm)",
        min_value=rules.TUMOR_SIZE_MIN_CM,
        max_value=rules.TUMOR_SIZE_MAX_CM,
        decimal_places=1,
        help_text="Diameter of the largest tumor, 0.1 to 30.0 cm, one decimal place.",
        error_messages={
            **_range_messages(rules.TUMOR_SIZE_MIN_CM, rules.TUMOR_SIZE_MAX_CM, "cm"),
            "invalid": "Enter a number of centimetres, such as 4.5.",
            "max_decimal_places": "Enter at most one decimal place, such as 4.5.",
        },
    )
    tumor_count = IntegerField(
        label="Number of tumors",
        min_value=rules.TUMOR_COUNT_MIN,
        max_value=rules.TUMOR_COUNT_MAX,
        help_text="Number of tumor nodules, 1 to 50.",
        error_messages={
            **_range_messages(rules.TUMOR_COUNT_MIN, rules.TUMOR_COUNT_MAX),
            "invalid": "Enter a whole number of tumors.",
        },
    )
    vascular_invasion = CodeField(
        label="Vascular invasion",
        choices=rules.VASCULAR_INVASION_RULESET_1.items(),
        widget=RadioSelect,
        help_text="Microvascular: seen only under the microscope. Portal vein branch: "
        "cancer thrombus in a first- or second-order portal vein branch.",
    )
    cirrhosis_grade = CodeField(
        label="Cirrhosis grade",
        choices=rules.CIRRHOSIS_GRADES.items(),
        widget=RadioSelect,
        help_text="Severe means decompensated cirrhosis, now or in the past.",
    )
    prior_adjuvant_tace_sessions = IntegerField(
        label="Prior adjuvant TACE sessions",
        required=False,
        initial=0,
        min_value=rules.PRIOR_SESSIONS_MIN,
        max_value=rules.PRIOR_SESSIONS_MAX,
        help_text="Adjuvant TACE sessions already given after this resection, 0 to 10 "
        "(leave empty for none).",
        error_messages={
            **_range_messages(rules.PRIOR_SESSIONS_MIN, rules.PRIOR_SESSIONS_MAX),
            "invalid": "Enter a whole number of sessions.",
        },
    )

    def clean_prior_adjuvant_tace_sessions(self):
        value = self.cleaned_data["prior_adjuvant_tace_sessions"]
        return 0 if value is None else value

    ruleset = rules.RULESET_1


PANEL_VALUES = {
    "bilirubin": "bilirubin",
    "albumin": "albumin",
    "inr": "INR",
    "ascites": "ascites",
    "encephalopathy": "encephalopathy",
}
NOT_ENTERED = [("", "Not entered")]


def _unit_range_error(name: str, value, ranges: dict, units: dict, unit: str):
    low, high = ranges[unit]
    if value is not None and not low <= value <= high:
        return f"{name.capitalize()} must be between {low} and {high} {units[unit]}."
    return None


class RuleInputsV2Form(RuleInputsForm):
    """Ruleset 2: ruleset 1, the Vp4 code and an optional liver-function panel."""

    ruleset = rules.RULESET_2

    vascular_invasion = CodeField(
        label="Vascular invasion",
        choices=rules.VASCULAR_INVASION.items(),
        widget=RadioSelect,
        help_text="Microvascular: seen only under the microscope. Portal vein branch: "
        "cancer thrombus in a first- or second-order portal vein branch. Main portal "
        "vein: thrombus in the main trunk, removed at surgery.",
    )
    bilirubin = DecimalField(
        label="Total bilirubin",
        required=False,
        decimal_places=2,
        help_text="1 to 1000 µmol/L, or 0.06 to 58.0 mg/dL (1 mg/dL = 17.1 µmol/L).",
        error_messages={
            "invalid": "Enter the bilirubin as a number, such as 20.5.",
            "max_decimal_places": "Enter bilirubin with at most two decimal places.",
        },
    )
    bilirubin_unit = CodeField(
        label="Bilirubin unit",
        required=False,
        choices=rules.BILIRUBIN_UNITS.items(),
        initial="umol_l",
    )
    albumin = DecimalField(
        label="Serum albumin",
        required=False,
        decimal_places=2,
        help_text="10 to 60 g/L, or 1.0 to 6.0 g/dL (1 g/dL = 10 g/L).",
        error_messages={
            "invalid": "Enter the albumin as a number, such as 38.",
            "max_decimal_places": "Enter albumin with at most two decimal places.",
        },
    )
    albumin_unit = CodeField(
        label="Albumin unit", required=False, choices=rules.ALBUMIN_UNITS.items(), initial="g_l"
    )
    inr = DecimalField(
        label="INR",
        required=False,
        min_value=rules.INR_RANGE[0],
        max_value=rules.INR_RANGE[1],
        decimal_places=2,
        help_text="International normalised ratio, 0.8 to 10.0.",
        error_messages={
            **_range_messages(*rules.INR_RANGE),
            "invalid": "Enter the INR as a number, such as 1.1.",
            "max_decimal_places": "Enter the INR with at most two decimal places.",
        },
    )
    ascites = CodeField(
        label="Ascites",
        required=False,
        choices=NOT_ENTERED + list(rules.ASCITES.items()),
        help_text="Mild: slight, or controlled by diuretics.",
    )
    encephalopathy = CodeField(
        label="Hepatic encephalopathy",
        required=False,
        choices=NOT_ENTERED + list(rules.ENCEPHALOPATHY.items()),
        help_text="West Haven grade.",
    )

    def _given(self, name: str) -> bool:
        return not self.fields[name].not_given(self.data.get(name))

    def _default_unit(self, name: str, default: str) -> str:
        """The web form's select always sends a unit; JSON has no default unit, since
        a unit slip changes the Child-Pugh class (checked in clean())."""
        return self.cleaned_data[name] or ("" if self.json_input else default)

    def clean_bilirubin_unit(self):
        return self._default_unit("bilirubin_unit", "umol_l")

    def clean_albumin_unit(self):
        return self._default_unit("albumin_unit", "g_l")

    def clean(self):
        data = super().clean()
        given = [name for name in PANEL_VALUES if self._given(name)]
        for name, units in [("bilirubin", rules.BILIRUBIN_UNITS), ("albumin", rules.ALBUMIN_UNITS)]:
            unit = f"{name}_unit"
            if name in given and unit in data and not data[unit]:
                self.add_error(
                    unit,
                    f"Give the unit of {name}: {' or '.join(units)}. It has no default here: "
                    "a unit slip changes the Child-Pugh class.",
                )
        for name, ranges, units in [
            ("bilirubin", rules.BILIRUBIN_RANGES, rules.BILIRUBIN_UNITS),
            ("albumin", rules.ALBUMIN_RANGES, rules.ALBUMIN_UNITS),
        ]:
            unit = data.get(f"{name}_unit")
            if unit and (error := _unit_range_error(name, data.get(name), ranges, units, unit)):
                self.add_error(name, error)
        if given and len(given) < len(PANEL_VALUES):
            for name, label in PANEL_VALUES.items():
                if name not in given and name not in self.errors:
                    self.add_error(
                        name,
                        f"Enter {label} too: the liver-function panel needs all five "
                        "values, or none.",
                    )
        if not given:
            data["bilirubin_unit"] = data["albumin_unit"] = None
            for name in PANEL_VALUES:
                data[name] = None
        return data


class RuleInputsV3Form(RuleInputsV2Form):
    """Ruleset 3 takes the same inputs as ruleset 2; it applies more rules to them."""

    ruleset = rules.RULESET_3


RULESET_FORMS = {
    rules.RULESET_1: RuleInputsForm,
    rules.RULESET_2: RuleInputsV2Form,
    rules.RULESET_3: RuleInputsV3Form,
}


class RecordFields(forms.Form):
    """What an assessment stores beside the rule inputs."""

    resection_date = DateField(
        label="Date of resection",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The day of the liver resection (not in the future).",
        error_messages={"invalid": "Enter a date, such as 2026-03-31."},
    )
    notes = TextField(
        label="Notes",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional, at most 5,000 characters. No patient names.",
    )

    field_order = [
        "mrn",
        "resection_date",
        *Assessment.RULE_INPUTS,
        *Assessment.PANEL_INPUTS,
        "notes",
        "change_reason",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

        def present(*names):
            return [name for name in names if name in self.fields]

        parts = [
            Fieldset("Patient and surgery", *present("mrn", "resection_date")),
            Fieldset("Tumor findings", *Assessment.RULE_INPUTS),
        ]
        if "bilirubin" in self.fields:
            parts.append(
                Fieldset(
                    "Liver function (optional: all five values, or none)",
                    Row(Column("bilirubin"), Column("bilirubin_unit")),
                    Row(Column("albumin"), Column("albumin_unit")),
                    "inr",
                    "ascites",
                    "encephalopathy",
                )
            )
        parts.append(Fieldset("Notes", *present("notes", "change_reason")))
        self.helper.layout = Layout(*parts, *present("version"))

    def clean_resection_date(self):
        value = self.cleaned_data["resection_date"]
        if value > timezone.localdate():
            raise forms.ValidationError("The resection date cannot be in the future.")
        return value


class AssessmentForm(RecordFields, RuleInputsV3Form):
    """A new assessment: always under the newest ruleset."""

    mrn = TextField(
        label="MRN (medical record number)",
        max_length=32,
        validators=[MRN_VALIDATOR],
        help_text="1 to 32 letters, digits or hyphens. No names are stored here.",
        error_messages={"max_length": "An MRN is at most 32 characters."},
    )

    def clean_mrn(self):
        return self.cleaned_data["mrn"].upper()


REASON_MIN_LENGTH = 5


class ReasonField(TextField):
    def __init__(self, **kwargs):
        super().__init__(
            min_length=REASON_MIN_LENGTH,
            max_length=1000,
            widget=forms.Textarea(attrs={"rows": 2}),
            error_messages={
                "required": "Give a reason: it is kept in the audit trail.",
                "min_length": f"Give a reason of at least {REASON_MIN_LENGTH} characters.",
            },
            **kwargs,
        )


class VersionField(forms.IntegerField):
    widget = forms.HiddenInput


class AmendFields(forms.Form):
    change_reason = ReasonField(
        label="Reason for change",
        help_text="Why the assessment is amended (at least 5 characters). Kept in the history.",
    )
    version = VersionField()


class AmendFormV1(AmendFields, RecordFields, RuleInputsForm):
    """Amend an assessment made under ruleset 1: it stays under ruleset 1."""


class AmendFormV2(AmendFields, RecordFields, RuleInputsV2Form):
    """Amend an assessment made under ruleset 2: it stays under ruleset 2."""


class AmendForm(AmendFields, RecordFields, RuleInputsV3Form):
    """Amend an assessment made under ruleset 3."""


AMEND_FORMS = {
    rules.RULESET_1: AmendFormV1,
    rules.RULESET_2: AmendFormV2,
    rules.RULESET_3: AmendForm,
}


class ReevaluateForm(RecordFields, RuleInputsV3Form):
    """Move an assessment to the newest ruleset, adding a liver panel on the way."""

    version = VersionField()


class SignForm(FocusFirstErrorMixin, forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Re-enter your password to sign the assessment as reviewed and approved.",
    )
    version = VersionField()

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self):
        password = self.cleaned_data["password"]
        user = self.request.user
        # Through the authentication backends, so a wrong password counts as a
        # failed login (audited, and towards the lockout).
        if authenticate(self.request, username=user.get_username(), password=password) != user:
            raise forms.ValidationError("The password is not correct. Nothing was signed.")
        return password


class VoidForm(JsonInputMixin, FocusFirstErrorMixin, forms.Form):
    reason = ReasonField(
        label="Reason for voiding",
        help_text="Why this assessment is void (at least 5 characters). Shown with it.",
    )
    version = VersionField()


class PatientLookupForm(JsonInputMixin, forms.Form):
    """Find a patient by MRN, which travels in a body, never in a URL."""

    mrn = AssessmentForm.base_fields["mrn"]

    def clean_mrn(self):
        return self.cleaned_data["mrn"].upper()


class DuplicateKey(ValueError):
    def __init__(self, key: str):
        self.key = key
        super().__init__(key)


def _refuse_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise DuplicateKey(key)
        obj[key] = value
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
        return None, {duplicate.key: ["Given more than once: give each field once."]}
    except (ValueError, RecursionError) as error:  # RecursionError: absurdly deep nesting
        return None, {"__all__": [f"Not valid JSON: {error}"]}
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
        self.form = (form_class or RuleInputsV3Form)(data={}, json_input=True)

    def __call__(self, obj) -> tuple[forms.Form | None, dict[str, list[str]]]:
        """Return (the validated form, or None; the errors by field)."""
        if not isinstance(obj, dict):
            return None, {"__all__": ["Expected a JSON object with the input fields."]}
        form = self.form
        form.data = obj
        form._errors = None  # is_valid() cleans again
        errors = {} if form.is_valid() else error_lists(form)
        for name in obj:
            if name not in form.fields:
                errors.setdefault(name, []).append("Unknown field.")
        return (None if errors else form), errors


def error_lists(form: forms.Form) -> dict[str, list[str]]:
    return {field: list(errors) for field, errors in form.errors.items()}
