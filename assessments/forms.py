"""Input validation: the one place the rule inputs' ranges are checked.

The web form, the command line and any API validate through these classes, so
a value refused in one place is refused everywhere with the same message.
"""

from django import forms
from django.contrib.auth import authenticate
from django.utils import timezone

from . import rules
from .models import MRN_VALIDATOR


def _range_messages(low, high, unit: str = "") -> dict[str, str]:
    unit = f" {unit}" if unit else ""
    message = f"Enter a value between {low} and {high}{unit}."
    return {"min_value": message, "max_value": message}


class RuleInputsForm(forms.Form):
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
        widget=forms.RadioSelect,
        help_text="Microvascular: seen only under the microscope. Portal vein branch: "
        "cancer thrombus in a first- or second-order portal vein branch.",
    )
    cirrhosis_grade = forms.ChoiceField(
        label="Cirrhosis grade",
        choices=rules.CIRRHOSIS_GRADES.items(),
        widget=forms.RadioSelect,
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
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
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


REASON_MIN_LENGTH = 5


class ReasonField(forms.CharField):
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


class AmendForm(AssessmentForm):
    """Amend an assessment: the patient stays, a reason is required."""

    mrn = None
    change_reason = ReasonField(
        label="Reason for change",
        help_text="Why the assessment is amended (at least 5 characters). Kept in the history.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class SignForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Re-enter your password to sign the assessment as reviewed and approved.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

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


class VoidForm(forms.Form):
    reason = ReasonField(
        label="Reason for voiding",
        help_text="Why this assessment is void (at least 5 characters). Shown with it.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


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
