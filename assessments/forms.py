"""Input validation: the one place the rule inputs' ranges are checked.

The web form, the command line and any API validate through these classes, so
a value refused in one place is refused everywhere with the same message.
"""

from django import forms
from django.utils import timezone

from . import rules
from .models import MRN_VALIDATOR


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


class RuleInputsForm(FocusFirstErrorMixin, forms.Form):
    tumor_size_cm = forms.DecimalField(
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
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    tumor_count = forms.IntegerField(
        label="Number of tumors",
        min_value=rules.TUMOR_COUNT_MIN,
        max_value=rules.TUMOR_COUNT_MAX,
        help_text="Number of tumor nodules, 1 to 50.",
        error_messages={
            **_range_messages(rules.TUMOR_COUNT_MIN, rules.TUMOR_COUNT_MAX),
            "invalid": "Enter a whole number of tumors.",
        },
    )
    vascular_invasion = forms.ChoiceField(
        label="Vascular invasion",
        choices=rules.VASCULAR_INVASION.items(),
        widget=RadioSelect,
        help_text="Microvascular: seen only under the microscope. Portal vein branch: "
        "cancer thrombus in a first- or second-order portal vein branch.",
    )
    cirrhosis_grade = forms.ChoiceField(
        label="Cirrhosis grade",
        choices=rules.CIRRHOSIS_GRADES.items(),
        widget=RadioSelect,
        help_text="Severe means decompensated cirrhosis, now or in the past.",
    )
    prior_adjuvant_tace_sessions = forms.IntegerField(
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

    def rule_inputs(self) -> rules.Inputs:
        return rules.Inputs(
            **{name: self.cleaned_data[name] for name in rules.Inputs.__dataclass_fields__}
        )


class AssessmentForm(RuleInputsForm):
    mrn = forms.CharField(
        label="MRN (medical record number)",
        max_length=32,
        validators=[MRN_VALIDATOR],
        help_text="1 to 32 letters, digits or hyphens. No names are stored here.",
        error_messages={"max_length": "An MRN is at most 32 characters."},
    )
    resection_date = forms.DateField(
        label="Date of resection",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The day of the liver resection (not in the future).",
        error_messages={"invalid": "Enter a date, such as 2026-03-31."},
    )
    notes = forms.CharField(
        label="Notes",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional, at most 5,000 characters. No patient names.",
    )

    field_order = [
        "mrn",
        "resection_date",
        "tumor_size_cm",
        "tumor_count",
        "vascular_invasion",
        "cirrhosis_grade",
        "prior_adjuvant_tace_sessions",
        "notes",
    ]

    def clean_mrn(self):
        return self.cleaned_data["mrn"].upper()

    def clean_resection_date(self):
        value = self.cleaned_data["resection_date"]
        if value > timezone.localdate():
            raise forms.ValidationError("The resection date cannot be in the future.")
        return value


def validate_json(obj, form_class=RuleInputsForm):
    """Validate one decoded JSON object; return (form or None, errors).

    JSON input refuses fields the form does not know, each under its own name.
    """
    if not isinstance(obj, dict):
        return None, {"__all__": ["Expected a JSON object with the input fields."]}
    form = form_class(data=obj)
    errors = {} if form.is_valid() else {f: list(e) for f, e in form.errors.items()}
    for name in obj:
        if name not in form.fields:
            errors.setdefault(name, []).append("Unknown field.")
    return (None if errors else form), errors
