"""The assessment form family: the rule inputs of each ruleset, what saving asks
beside them, and the forms to amend, re-evaluate, sign and void an assessment.

The web form, the command line and any API validate through these classes, so
a value refused in one place is refused everywhere with the same message.
"""

from datetime import timedelta
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Fieldset, Layout, Row
from django import forms
from django.contrib.auth import authenticate
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .. import rules
from ..models import (
    AFP_MAX_NG_ML,
    MRN_VALIDATOR,
    Assessment,
    MviGrade,
    ResectionMargin,
    YesNo,
    person_name,
    translated,
)
from .fields import (
    CodeField,
    ConfirmField,
    DateField,
    DecimalField,
    FocusFirstErrorMixin,
    IntegerField,
    JsonInputMixin,
    RadioSelect,
    ReasonField,
    TextField,
    VersionField,
    range_messages,
)


class RuleInputsForm(JsonInputMixin, FocusFirstErrorMixin, forms.Form):
    tumor_size_cm = DecimalField(
        label=_("Largest tumor diameter (cm)"),
        min_value=rules.TUMOR_SIZE_MIN_CM,
        max_value=rules.TUMOR_SIZE_MAX_CM,
        decimal_places=1,
        help_text=_("Diameter of the largest tumor, 0.1 to 30.0 cm, one decimal place."),
        error_messages={
            **range_messages(rules.TUMOR_SIZE_MIN_CM, rules.TUMOR_SIZE_MAX_CM, "cm"),
            "invalid": _("Enter a number of centimetres, such as 4.5."),
            "max_decimal_places": _("Enter at most one decimal place, such as 4.5."),
        },
    )
    tumor_count = IntegerField(
        label=_("Number of tumors"),
        min_value=rules.TUMOR_COUNT_MIN,
        max_value=rules.TUMOR_COUNT_MAX,
        help_text=_("Number of tumor nodules, 1 to 50."),
        error_messages={
            **range_messages(rules.TUMOR_COUNT_MIN, rules.TUMOR_COUNT_MAX),
            "invalid": _("Enter a whole number of tumors."),
        },
    )
    vascular_invasion = CodeField(
        label=_("Vascular invasion"),
        choices=translated(rules.VASCULAR_INVASION_RULESET_1),
        widget=RadioSelect,
        help_text=_(
            "Microvascular: seen only under the microscope. Portal vein branch: "
            "cancer thrombus in a first- or second-order portal vein branch."
        ),
    )
    cirrhosis_grade = CodeField(
        label=_("Cirrhosis grade"),
        choices=translated(rules.CIRRHOSIS_GRADES),
        widget=RadioSelect,
        help_text=_("Severe means decompensated cirrhosis, now or in the past."),
    )
    prior_adjuvant_tace_sessions = IntegerField(
        label=_("Prior adjuvant TACE sessions"),
        required=False,
        min_value=rules.PRIOR_SESSIONS_MIN,
        max_value=rules.PRIOR_SESSIONS_MAX,
        help_text=_(
            "Adjuvant TACE sessions already given after this resection, 0 to 10 "
            "(leave empty for none)."
        ),
        error_messages={
            **range_messages(rules.PRIOR_SESSIONS_MIN, rules.PRIOR_SESSIONS_MAX),
            "invalid": _("Enter a whole number of sessions."),
        },
    )

    def clean_prior_adjuvant_tace_sessions(self):
        value = self.cleaned_data["prior_adjuvant_tace_sessions"]
        return 0 if value is None else value

    ruleset = rules.RULESET_1


# The five values of the panel, as named inside a sentence.
PANEL_VALUES = {
    "bilirubin": pgettext_lazy("in a sentence", "bilirubin"),
    "albumin": pgettext_lazy("in a sentence", "albumin"),
    "inr": pgettext_lazy("in a sentence", "INR"),
    "ascites": pgettext_lazy("in a sentence", "ascites"),
    "encephalopathy": pgettext_lazy("in a sentence", "encephalopathy"),
}
PANEL_LABELS = {"bilirubin": _("Bilirubin"), "albumin": _("Albumin")}
NOT_ENTERED = [("", pgettext_lazy("a lab value", "Not entered"))]


def _unit_range_error(name: str, value, ranges: dict, units: dict, unit: str):
    low, high = ranges[unit]
    if value is not None and not low <= value <= high:
        return gettext("%(name)s must be between %(low)s and %(high)s %(unit)s.") % {
            "name": PANEL_LABELS[name],
            "low": low,
            "high": high,
            "unit": units[unit],
        }
    return None


class RuleInputsV2Form(RuleInputsForm):
    """Ruleset 2: ruleset 1, the Vp4 code and an optional liver-function panel."""

    ruleset = rules.RULESET_2

    vascular_invasion = CodeField(
        label=_("Vascular invasion"),
        choices=translated(rules.VASCULAR_INVASION),
        widget=RadioSelect,
        help_text=_(
            "Microvascular: seen only under the microscope. Portal vein branch: "
            "cancer thrombus in a first- or second-order portal vein branch. Main portal "
            "vein: thrombus in the main trunk, removed at surgery."
        ),
    )
    bilirubin = DecimalField(
        label=_("Total bilirubin"),
        required=False,
        decimal_places=2,
        help_text=_("1 to 1000 µmol/L, or 0.06 to 58.0 mg/dL (1 mg/dL = 17.1 µmol/L)."),
        error_messages={
            "invalid": _("Enter the bilirubin as a number, such as 20.5."),
            "max_decimal_places": _("Enter bilirubin with at most two decimal places."),
        },
    )
    bilirubin_unit = CodeField(
        label=_("Bilirubin unit"),
        required=False,
        choices=translated(rules.BILIRUBIN_UNITS),
        initial="umol_l",
    )
    albumin = DecimalField(
        label=_("Serum albumin"),
        required=False,
        decimal_places=2,
        help_text=_("10 to 60 g/L, or 1.0 to 6.0 g/dL (1 g/dL = 10 g/L)."),
        error_messages={
            "invalid": _("Enter the albumin as a number, such as 38."),
            "max_decimal_places": _("Enter albumin with at most two decimal places."),
        },
    )
    albumin_unit = CodeField(
        label=_("Albumin unit"),
        required=False,
        choices=translated(rules.ALBUMIN_UNITS),
        initial="g_l",
    )
    inr = DecimalField(
        label=_("INR"),
        required=False,
        min_value=rules.INR_RANGE[0],
        max_value=rules.INR_RANGE[1],
        decimal_places=2,
        help_text=_("International normalised ratio, 0.8 to 10.0."),
        error_messages={
            **range_messages(*rules.INR_RANGE),
            "invalid": _("Enter the INR as a number, such as 1.1."),
            "max_decimal_places": _("Enter the INR with at most two decimal places."),
        },
    )
    ascites = CodeField(
        label=_("Ascites"),
        required=False,
        choices=NOT_ENTERED + translated(rules.ASCITES),
        help_text=_("Mild: slight, or controlled by diuretics."),
    )
    encephalopathy = CodeField(
        label=_("Hepatic encephalopathy"),
        required=False,
        choices=NOT_ENTERED + translated(rules.ENCEPHALOPATHY),
        help_text=_("West Haven grade."),
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
                    gettext(
                        "Give the unit of %(name)s: %(units)s. It has no default here: a unit "
                        "slip changes the Child-Pugh class."
                    )
                    % {"name": PANEL_VALUES[name], "units": " / ".join(units)},
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
                        gettext(
                            "Enter %(value)s too: the liver-function panel needs all five "
                            "values, or none."
                        )
                        % {"value": label},
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


# Possible but unusual values, most often a slip of a digit (25 typed for 2.5): saved
# only once confirmed. Scoring alone (recommend, evaluate, the preview) takes them.
IMPLAUSIBLE_TUMOR_SIZE_CM = Decimal("15")  # 15 cm or more
IMPLAUSIBLE_TUMOR_COUNT = 10  # 10 or more
IMPLAUSIBLE_BILIRUBIN_UMOL_L = Decimal("300")  # above 300 µmol/L
PLAUSIBLE_ALBUMIN_G_L = (Decimal("15"), Decimal("60"))  # below 15 or above 60 g/L
IMPLAUSIBLE_INR = Decimal("5")  # above 5
IMPLAUSIBLE_FIELDS = ["tumor_size_cm", "tumor_count", "bilirubin", "albumin", "inr"]


def implausible_values(data: dict) -> dict[str, tuple[str, str, str]]:
    """Each unusual value of validated data, by field: (what, the value, the usual range)."""
    found = {}
    size, count, inr = data.get("tumor_size_cm"), data.get("tumor_count"), data.get("inr")
    if size is not None and size >= IMPLAUSIBLE_TUMOR_SIZE_CM:
        found["tumor_size_cm"] = (gettext("largest tumor diameter"), f"{size} cm", "< 15 cm")
    if count is not None and count >= IMPLAUSIBLE_TUMOR_COUNT:
        found["tumor_count"] = (gettext("number of tumors"), str(count), "< 10")
    if (bilirubin := data.get("bilirubin")) is not None and data.get("bilirubin_unit"):
        unit = data["bilirubin_unit"]
        umol_l = bilirubin * (rules.BILIRUBIN_UMOL_PER_MG_DL if unit == "mg_dl" else 1)
        if umol_l > IMPLAUSIBLE_BILIRUBIN_UMOL_L:
            shown = f"{bilirubin} {rules.BILIRUBIN_UNITS[unit]}"
            found["bilirubin"] = (gettext("total bilirubin"), shown, "≤ 300 µmol/L (17.5 mg/dL)")
    if (albumin := data.get("albumin")) is not None and data.get("albumin_unit"):
        unit = data["albumin_unit"]
        g_l = albumin * (rules.ALBUMIN_G_L_PER_G_DL if unit == "g_dl" else 1)
        low, high = PLAUSIBLE_ALBUMIN_G_L
        if not low <= g_l <= high:
            shown = f"{albumin} {rules.ALBUMIN_UNITS[unit]}"
            found["albumin"] = (gettext("serum albumin"), shown, "15–60 g/L (1.5–6.0 g/dL)")
    if inr is not None and inr > IMPLAUSIBLE_INR:
        found["inr"] = ("INR", str(inr), "≤ 5")
    return found


class SaveChecks(forms.Form):
    """What saving asks beside valid input: an unusual value is saved only once confirmed.
    cleaned_data["confirmations"] lists what was confirmed (stored, so in the history)."""

    confirm_implausible = ConfirmField(label=_("The value is correct"))

    def clean(self):
        data = super().clean()
        self.implausible = implausible_values(data)
        confirmed = data.get("confirm_implausible")
        field = self.fields["confirm_implausible"]
        data["confirmations"] = []
        self.unconfirmed = {}  # the values refused until confirmed, which the preview scores
        for name, (what, value, usual) in self.implausible.items():
            if field.confirms(confirmed, name):
                data["confirmations"].append(name)
                continue
            values = {"what": what, "value": value, "usual": usual}
            if self.json_input:
                message = gettext(
                    "The %(what)s, %(value)s, is outside the usual range (%(usual)s): check it "
                    'for a slip. If it is correct, send "confirm_implausible": true.'
                )
            else:
                message = gettext(
                    "The %(what)s, %(value)s, is outside the usual range (%(usual)s): check it "
                    "for a slip. If it is correct, tick “The value is correct” below it."
                )
            self.unconfirmed[name] = data[name]
            self.add_error(name, forms.ValidationError(message % values, code="implausible"))
        return data

    def confirm_box(self, name: str) -> dict | None:
        """The web form's box beside an unusual value, for _confirm_value.html."""
        found = getattr(self, "implausible", {}).get(name)
        if found is None:
            return None
        what, value, _usual = found
        ticked = self.is_bound and self.fields["confirm_implausible"].confirms(
            self.cleaned_data.get("confirm_implausible"), name
        )
        return {"name": name, "label": f"{what} {value}", "ticked": ticked}


# Codes that the warning of a possible duplicate and its confirmation use.
POSSIBLE_DUPLICATE = "possible_duplicate"
DUPLICATE_WITHIN = timedelta(days=1)


NOT_RECORDED = [("", pgettext_lazy("a finding", "Not recorded"))]
AFP_MESSAGES = {
    **range_messages(0, AFP_MAX_NG_ML, "ng/mL"),
    "max_decimal_places": _("Enter AFP with at most one decimal place."),
}
PATHOLOGY_LEGEND = _("Pathology and AFP (recorded for follow-up; not part of the recommendation)")
PATHOLOGY_LEGEND_READ = _(
    "Pathology and AFP (optional; read by the rules: adverse findings are named in the advice)"
)
MVI_MESSAGES = {
    rules.MVI_WITHOUT_INVASION: _(
        "The MVI grade records microvascular invasion: choose Microvascular (or a portal vein "
        "thrombus) under Vascular invasion, or correct the grade."
    ),
    rules.INVASION_WITHOUT_MVI: _(
        "The MVI grade M0 records no microvascular invasion: choose None (or a portal vein "
        "thrombus) under Vascular invasion, or correct the grade."
    ),
}


class PathologyFields(forms.Form):
    """The pathology findings and AFP: recorded since ruleset 3, read by ruleset 4."""

    resection_margin = CodeField(
        label=_("Resection margin"),
        required=False,
        choices=[*NOT_RECORDED, *ResectionMargin.choices],
    )
    satellite_nodules = CodeField(
        label=_("Satellite nodules"), required=False, choices=[*NOT_RECORDED, *YesNo.choices]
    )
    mvi_grade = CodeField(
        label=_("MVI grade"),
        required=False,
        choices=[*NOT_RECORDED, *MviGrade.choices],
        help_text=_("Microvascular invasion, graded as the Chinese pathology guideline does."),
    )
    afp_before_ng_ml = DecimalField(
        label=_("AFP before surgery (ng/mL)"),
        required=False,
        min_value=0,
        max_value=AFP_MAX_NG_ML,
        decimal_places=1,
        error_messages=AFP_MESSAGES,
    )
    afp_after_ng_ml = DecimalField(
        label=_("AFP after surgery (ng/mL)"),
        required=False,
        min_value=0,
        max_value=AFP_MAX_NG_ML,
        decimal_places=1,
        error_messages=AFP_MESSAGES,
    )
    tumor_rupture = CodeField(
        label=_("Tumor rupture"), required=False, choices=[*NOT_RECORDED, *YesNo.choices]
    )


class RuleInputsV4Form(PathologyFields, RuleInputsV3Form):
    """Ruleset 4 reads the pathology findings too, and refuses an MVI grade that
    contradicts the vascular invasion chosen, on both fields."""

    ruleset = rules.RULESET_4

    def clean(self):
        data = super().clean()
        invasion, grade = data.get("vascular_invasion"), data.get("mvi_grade")
        if invasion and grade and (way := rules.mvi_inconsistency(invasion, grade)):
            for name in ("vascular_invasion", "mvi_grade"):
                self.add_error(name, str(MVI_MESSAGES[way]))
        return data


RULESET_FORMS[rules.RULESET_4] = RuleInputsV4Form


class RecordFields(PathologyFields):
    """What an assessment stores beside the rule inputs."""

    resection_date = DateField(
        label=_("Date of resection"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_(
            "The day of the liver resection, not in the future: pick it in the calendar, or "
            "type it in the order the box shows."
        ),
        error_messages={"invalid": _("Enter a date, such as 2026-03-31.")},
    )
    notes = TextField(
        label=_("Notes"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional, at most 5,000 characters. No patient names."),
    )
    field_order = [
        "mrn",
        "resection_date",
        *Assessment.RULE_INPUTS,
        *Assessment.PANEL_INPUTS,
        *Assessment.PATHOLOGY,
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

        def box(name):  # the "value is correct" box under an unusual value (SaveChecks)
            return HTML(f'{{% include "assessments/_confirm_value.html" with name="{name}" %}}')

        parts = [
            Fieldset(_("Patient and surgery"), *present("mrn", "resection_date")),
            Fieldset(
                _("Tumor findings"),
                "tumor_size_cm",
                box("tumor_size_cm"),
                "tumor_count",
                box("tumor_count"),
                *Assessment.RULE_INPUTS[2:],
            ),
        ]
        if "bilirubin" in self.fields:
            parts.append(
                Fieldset(
                    _("Liver function (optional: all five values, or none)"),
                    Row(Column("bilirubin"), Column("bilirubin_unit")),
                    box("bilirubin"),
                    Row(Column("albumin"), Column("albumin_unit")),
                    box("albumin"),
                    "inr",
                    box("inr"),
                    "ascites",
                    "encephalopathy",
                )
            )
        reads_pathology = isinstance(self, RuleInputsV4Form)
        parts.append(
            Fieldset(
                PATHOLOGY_LEGEND_READ if reads_pathology else PATHOLOGY_LEGEND,
                Row(Column("resection_margin"), Column("mvi_grade")),
                Row(Column("satellite_nodules"), Column("tumor_rupture")),
                Row(Column("afp_before_ng_ml"), Column("afp_after_ng_ml")),
            )
        )
        parts.append(Fieldset(_("Notes"), *present("notes", "change_reason")))
        self.helper.layout = Layout(*parts, *present("version"))

    def clean_resection_date(self):
        value = self.cleaned_data["resection_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The resection date cannot be in the future."))
        return value


class AssessmentForm(SaveChecks, RecordFields, RuleInputsV4Form):
    """A new assessment: always under the newest ruleset. A second one for the same MRN
    and resection within a day is saved only once confirmed (a double entry, most often)."""

    confirm_duplicate = ConfirmField(label=_("Save it all the same"))

    mrn = TextField(
        label=_("MRN (medical record number)"),
        max_length=32,
        validators=[MRN_VALIDATOR],
        help_text=_("1 to 32 letters, digits or hyphens. No names are stored here."),
        error_messages={"max_length": _("An MRN is at most 32 characters.")},
    )

    def clean_mrn(self):
        return self.cleaned_data["mrn"].upper()

    def clean(self):
        data = super().clean()
        self.duplicate = None
        if not (data.get("mrn") and data.get("resection_date")):
            return data
        self.duplicate = (
            Assessment.objects.filter(
                patient__mrn=data["mrn"],
                resection_date=data["resection_date"],
                created_at__gte=timezone.now() - DUPLICATE_WITHIN,
            )
            .exclude(status=Assessment.Status.VOIDED)
            .select_related("created_by")
            .order_by("created_at")
            .first()
        )
        if self.duplicate is None:
            return data
        field = self.fields["confirm_duplicate"]
        if field.confirms(data.get("confirm_duplicate"), POSSIBLE_DUPLICATE):
            data["confirmations"].append(POSSIBLE_DUPLICATE)
            return data
        values = {
            "when": date_format(timezone.localtime(self.duplicate.created_at), "DATETIME_FORMAT"),
            "who": person_name(self.duplicate.created_by),
            "date": date_format(data["resection_date"]),
        }
        if self.json_input:
            message = gettext(
                "An assessment of this MRN for the resection on %(date)s was saved at %(when)s "
                'by %(who)s. If this is a second one on purpose, send "confirm_duplicate": true.'
            )
        else:
            message = gettext(
                "An assessment of this MRN for the resection on %(date)s was saved at %(when)s "
                "by %(who)s. If this is a second one on purpose, tick “Save it all the same”."
            )
        self.add_error(
            "confirm_duplicate", forms.ValidationError(message % values, code="duplicate")
        )
        return data


class AmendFields(forms.Form):
    change_reason = ReasonField(
        label=_("Reason for change"),
        help_text=_("Why the assessment is amended (at least 5 characters). Kept in the history."),
    )
    version = VersionField()


class AmendFormV1(SaveChecks, AmendFields, RecordFields, RuleInputsForm):
    """Amend an assessment made under ruleset 1: it stays under ruleset 1."""


class AmendFormV2(SaveChecks, AmendFields, RecordFields, RuleInputsV2Form):
    """Amend an assessment made under ruleset 2: it stays under ruleset 2."""


class AmendFormV3(SaveChecks, AmendFields, RecordFields, RuleInputsV3Form):
    """Amend an assessment made under ruleset 3: it stays under ruleset 3."""


class AmendForm(SaveChecks, AmendFields, RecordFields, RuleInputsV4Form):
    """Amend an assessment made under ruleset 4."""


AMEND_FORMS = {
    rules.RULESET_1: AmendFormV1,
    rules.RULESET_2: AmendFormV2,
    rules.RULESET_3: AmendFormV3,
    rules.RULESET_4: AmendForm,
}


class ReevaluateForm(SaveChecks, RecordFields, RuleInputsV4Form):
    """Move an assessment to the newest ruleset, adding a liver panel on the way."""

    version = VersionField()


class SignForm(FocusFirstErrorMixin, forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Re-enter your password to sign the assessment as reviewed and approved."),
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
            raise forms.ValidationError(_("The password is not correct. Nothing was signed."))
        return password


class VoidForm(JsonInputMixin, FocusFirstErrorMixin, forms.Form):
    reason = ReasonField(
        label=_("Reason for voiding"),
        help_text=_("Why this assessment is void (at least 5 characters). Shown with it."),
    )
    version = VersionField()


class PatientLookupForm(JsonInputMixin, forms.Form):
    """Find a patient by MRN, which travels in a body, never in a URL."""

    mrn = AssessmentForm.base_fields["mrn"]

    def clean_mrn(self):
        return self.cleaned_data["mrn"].upper()
