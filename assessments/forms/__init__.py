"""Input validation: the one place input is checked.

fields.py holds the field types, assessment.py the assessment form family,
json.py the strict JSON parsing, filters.py the list pages' filters. The names
other modules use are re-exported here, so that `from assessments import forms`
reads as one module.
"""

from .assessment import (
    AMEND_FORMS,
    IMPLAUSIBLE_FIELDS,
    POSSIBLE_DUPLICATE,
    RULESET_FORMS,
    AmendForm,
    AssessmentForm,
    PatientLookupForm,
    ReevaluateForm,
    RuleInputsForm,
    RuleInputsV2Form,
    RuleInputsV3Form,
    SignForm,
    VoidForm,
)
from .fields import (
    CodeField,
    ConfirmField,
    DateField,
    DecimalField,
    FocusFirstErrorMixin,
    IntegerField,
)
from .json import JsonValidator, parse_json

__all__ = [
    "AMEND_FORMS",
    "IMPLAUSIBLE_FIELDS",
    "POSSIBLE_DUPLICATE",
    "RULESET_FORMS",
    "AmendForm",
    "AssessmentForm",
    "CodeField",
    "ConfirmField",
    "DateField",
    "DecimalField",
    "FocusFirstErrorMixin",
    "IntegerField",
    "JsonValidator",
    "PatientLookupForm",
    "ReevaluateForm",
    "RuleInputsForm",
    "RuleInputsV2Form",
    "RuleInputsV3Form",
    "SignForm",
    "VoidForm",
    "parse_json",
]
