"""Serializers that wrap the assessments forms.

Validation is the forms' own (JsonValidator, with the contract's JSON typing rules),
so a value refused on the web is refused here with the same message. The DRF fields
exist for the OpenAPI schema: each is made from the form field it documents (label,
help text, range, decimal places, codes), see schema.py.
"""

import copy
import threading

from django import forms as django_forms
from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from assessments import forms, rules
from assessments.models import Assessment, Patient


class FormField(serializers.Field):
    """Documents one form field; the form validates it."""

    def __init__(self, form_field: django_forms.Field, **kwargs):
        self.form_field = form_field
        super().__init__(required=form_field.required, **kwargs)

    def to_representation(self, value):
        return value

    def __deepcopy__(self, memo):
        # DRF copies every declared field for each serializer made, and a form field's copy
        # (its widget, validators and messages) cost a sixth of an evaluate call. The form
        # field is only read, for the schema: shared.
        return type(self)(self.form_field, **copy.deepcopy(self._kwargs, memo))


def form_fields(form_class, *, exclude=(), rename=None) -> dict:
    rename = rename or {}
    return {
        rename.get(name, name): FormField(field)
        for name, field in form_class.base_fields.items()
        if name not in exclude
    }


_local = threading.local()


def validator(form_class) -> forms.JsonValidator:
    """One JsonValidator per form class and thread: building a form costs more than
    validating with it (see JsonValidator)."""
    cache = _local.__dict__.setdefault("validators", {})
    if form_class not in cache:
        cache[form_class] = forms.JsonValidator(form_class)
    return cache[form_class]


class FormSerializer(serializers.Serializer):
    """Validates a decoded JSON object with a form; unknown keys are refused.

    `rename` maps the API's names to the form's (amend's `reason` is the form's
    `change_reason`); the context may give `form_class` (amend: the assessment's
    ruleset) and `form_data`, values the view supplies (the If-Match version), which
    a client may not send itself.
    """

    form_class: type[django_forms.Form]
    rename: dict[str, str] = {}

    def to_internal_value(self, data):
        form_class = self.context.get("form_class", self.form_class)
        supplied = self.context.get("form_data", {})
        unknown = {}
        if isinstance(data, dict):
            internal = set(self.rename.values()) | set(supplied)
            unknown = {key: ["Unknown field."] for key in data if key in internal}
            data = {
                self.rename.get(key, key): value
                for key, value in data.items()
                if key not in internal
            } | supplied
        form, errors = validator(form_class)(data)
        back = {form_name: api_name for api_name, form_name in self.rename.items()}
        errors = {back.get(name, name): messages for name, messages in errors.items()}
        for name, messages in unknown.items():
            errors.setdefault(name, []).extend(messages)
        if errors:
            raise serializers.ValidationError(errors)
        return dict(form.cleaned_data)


def form_serializer(name: str, form_class, *, exclude=(), rename=None, extra=None):
    """`rename` maps the form's field names to the API's."""
    rename = rename or {}
    attrs = {
        "form_class": form_class,
        "rename": {api_name: form_name for form_name, api_name in rename.items()},
        **form_fields(form_class, exclude=exclude, rename=rename),
        **(extra or {}),
    }
    return type(name, (FormSerializer,), attrs)


RULESET_FIELD = forms.CodeField(
    label="Ruleset",
    required=False,
    choices=[(r, f"Ruleset {r}") for r in rules.RULESETS],
    help_text=f"The ruleset to apply; default the newest, {rules.LATEST_RULESET}.",
)
LANGUAGE_FIELD = forms.CodeField(
    label="Language",
    required=False,
    choices=settings.LANGUAGES,
    help_text="The language of the rationale (en or zh-hans); default en. Codes never change.",
)

RULESET_FIELD.json_input = LANGUAGE_FIELD.json_input = True


class _Evaluate(FormSerializer):
    """The rule inputs of the chosen ruleset, plus `ruleset` and `language`."""

    def to_internal_value(self, data):
        errors, chosen = {}, {}
        if isinstance(data, dict):
            data = dict(data)
            for name, field in (("ruleset", RULESET_FIELD), ("language", LANGUAGE_FIELD)):
                try:
                    chosen[name] = field.clean(data.pop(name, None))
                except django_forms.ValidationError as error:
                    errors[name] = list(error.messages)
        ruleset = chosen.get("ruleset") or rules.LATEST_RULESET
        self.context["form_class"] = forms.RULESET_FORMS[ruleset]
        try:
            cleaned = super().to_internal_value(data)
        except serializers.ValidationError as error:
            errors = {**error.detail, **errors}
        if errors:
            raise serializers.ValidationError(errors)
        return {"ruleset": ruleset, "language": chosen.get("language") or "en", "data": cleaned}


EvaluateInput = type(
    "EvaluateInput",
    (_Evaluate,),
    {
        "form_class": forms.RULESET_FORMS[rules.LATEST_RULESET],
        **form_fields(forms.RULESET_FORMS[rules.LATEST_RULESET]),
        "ruleset": FormField(RULESET_FIELD),
        "language": FormField(LANGUAGE_FIELD),
    },
)
AssessmentInput = form_serializer("AssessmentInput", forms.AssessmentForm)
AmendInput = form_serializer(
    "AmendInput",
    forms.AmendForm,
    exclude=("version",),
    rename={"change_reason": "reason"},
)
VoidInput = form_serializer("VoidInput", forms.VoidForm, exclude=("version",))
LookupInput = form_serializer("LookupInput", forms.PatientLookupForm)


class Errors(serializers.Serializer):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='Messages by field; "__all__" for what belongs to no one field.',
    )


class LiverFunction(serializers.Serializer):
    child_pugh_score = serializers.IntegerField()
    child_pugh_class = serializers.CharField()
    albi_score = serializers.FloatField()
    albi_grade = serializers.IntegerField()


class Result(serializers.Serializer):
    """What `manage.py recommend` prints."""

    ruleset = serializers.ChoiceField(choices=rules.RULESETS)
    recommendation = serializers.ChoiceField(choices=list(rules.RECOMMENDATIONS))
    risk_level = serializers.ChoiceField(choices=list(rules.RISK_LEVELS))
    risk_factors = serializers.ListField(child=serializers.CharField())
    contraindications = serializers.ListField(child=serializers.CharField())
    cautions = serializers.ListField(child=serializers.CharField())
    rationale = serializers.ListField(child=serializers.CharField())
    liver_function = LiverFunction(
        required=False, allow_null=True, help_text="From ruleset 2; null without a panel."
    )
    pathology_findings = serializers.ListField(
        child=serializers.ChoiceField(choices=list(rules.PATHOLOGY_FINDINGS)),
        required=False,
        help_text="From ruleset 4: the findings adverse_pathology and narrow_margin name.",
    )


SUMMARY_FIELDS = [
    "id",
    "patient",
    "mrn",
    "created_at",
    "created_by",
    "ruleset",
    "recommendation",
    "risk_level",
    "risk_factors",
    "status",
    "fhir",
]


class AssessmentSummary(serializers.ModelSerializer):
    mrn = serializers.CharField(source="patient.mrn", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    risk_factors = serializers.ListField(child=serializers.CharField(), read_only=True)
    fhir = serializers.SerializerMethodField(
        help_text="The assessment as a FHIR R4 RiskAssessment (docs/fhir.md)."
    )

    def get_fhir(self, assessment) -> str:
        return reverse("ehr:fhir_risk_assessment", args=[assessment.pk])

    class Meta:
        model = Assessment
        fields = SUMMARY_FIELDS
        read_only_fields = fields


def _finding(name: str) -> serializers.ChoiceField:
    """A pathology finding: one of its codes, or "" when not recorded."""
    field = Assessment._meta.get_field(name)
    return serializers.ChoiceField(choices=field.choices, allow_blank=True, read_only=True)


class AssessmentOut(AssessmentSummary):
    resection_margin = _finding("resection_margin")
    satellite_nodules = _finding("satellite_nodules")
    mvi_grade = _finding("mvi_grade")
    tumor_rupture = _finding("tumor_rupture")
    contraindications = serializers.ListField(child=serializers.CharField(), read_only=True)
    cautions = serializers.ListField(child=serializers.CharField(), read_only=True)
    pathology_findings = serializers.ListField(child=serializers.CharField(), read_only=True)
    rationale = serializers.ListField(child=serializers.CharField(), read_only=True)
    liver_function = LiverFunction(read_only=True, allow_null=True)
    signed_by = serializers.CharField(source="signed_by.username", read_only=True, allow_null=True)
    voided_by = serializers.CharField(source="voided_by.username", read_only=True, allow_null=True)

    class Meta:
        model = Assessment
        fields = [
            *SUMMARY_FIELDS,
            "version",
            "resection_date",
            *Assessment.RULE_INPUTS,
            *Assessment.PANEL_INPUTS,
            *Assessment.PATHOLOGY,
            "notes",
            "contraindications",
            "cautions",
            "pathology_findings",
            "rationale",
            "liver_function",
            "updated_at",
            "signed_by",
            "signed_at",
            "signature_meaning",
            "voided_by",
            "voided_at",
            "void_reason",
        ]
        read_only_fields = fields


class Change(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    old = serializers.CharField()
    new = serializers.CharField()


class HistoryVersion(serializers.Serializer):
    history_id = serializers.IntegerField()
    history_date = serializers.DateTimeField()
    user = serializers.CharField(allow_null=True)
    action = serializers.CharField()
    reason = serializers.CharField(allow_null=True)
    version = serializers.IntegerField()
    status = serializers.CharField()
    changes = Change(many=True)


class PatientOut(serializers.ModelSerializer):
    assessments = AssessmentSummary(many=True, read_only=True)

    class Meta:
        model = Patient
        # Follow-up events join these when the follow-up record exists.
        fields = ["id", "mrn", "created_at", "assessments"]
        read_only_fields = fields
