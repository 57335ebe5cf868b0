"""An assessment as a FHIR R4 RiskAssessment (docs/fhir.md has the mapping).

Written in English, the language of the stored record: displays are the code
systems' own, the note is the stored rationale.
"""

from datetime import UTC

from django.conf import settings
from django.utils import translation

from assessments import rules
from assessments.models import Assessment, HistoryAction

from . import codes

OBSERVATIONS = codes.code_system  # the app's CodeSystem of the observations below
# (code, display) of each Observation in `basis`, by the assessment's field.
BASIS = {
    "resection_date": ("resection-date", "Date of the liver resection"),
    "tumor_size_cm": ("largest-tumor-diameter", "Largest tumor diameter"),
    "tumor_count": ("tumor-count", "Number of tumor nodules"),
    "vascular_invasion": ("vascular-invasion", "Vascular invasion"),
    "cirrhosis_grade": ("cirrhosis-grade", "Cirrhosis grade"),
    "prior_adjuvant_tace_sessions": (
        "prior-adjuvant-tace-sessions",
        "Adjuvant TACE sessions already given after this resection",
    ),
    "bilirubin": ("total-bilirubin", "Total bilirubin"),
    "albumin": ("serum-albumin", "Serum albumin"),
    "inr": ("inr", "INR"),
    "ascites": ("ascites", "Ascites"),
    "encephalopathy": ("hepatic-encephalopathy", "Hepatic encephalopathy (West Haven)"),
    "child_pugh_score": ("child-pugh-score", "Child-Pugh score"),
    "child_pugh_class": ("child-pugh-class", "Child-Pugh class"),
    "albi_score": ("albi-score", "ALBI score"),
    "albi_grade": ("albi-grade", "ALBI grade"),
}
# The labs also carry their LOINC code (sources in docs/fhir.md).
LOINC = {
    ("bilirubin", "umol_l"): (codes.LOINC_BILIRUBIN_MOLES, "Bilirubin.total [Moles/volume]"),
    ("bilirubin", "mg_dl"): (codes.LOINC_BILIRUBIN_MASS, "Bilirubin.total [Mass/volume]"),
    ("albumin", "g_l"): (codes.LOINC_ALBUMIN, "Albumin [Mass/volume]"),
    ("albumin", "g_dl"): (codes.LOINC_ALBUMIN, "Albumin [Mass/volume]"),
    ("inr", None): (codes.LOINC_INR, "INR in Platelet poor plasma by Coagulation assay"),
}
UCUM_UNITS = {"umol_l": "umol/L", "mg_dl": "mg/dL", "g_l": "g/L", "g_dl": "g/dL"}
UNIT_LABELS = {**rules.BILIRUBIN_UNITS, **rules.ALBUMIN_UNITS}
# The coded inputs' values, with their labels from the rules.
VALUE_SETS = {
    "vascular_invasion": rules.VASCULAR_INVASION,
    "cirrhosis_grade": rules.CIRRHOSIS_GRADES,
    "ascites": rules.ASCITES,
    "encephalopathy": rules.ENCEPHALOPATHY,
    "child_pugh_class": {name: f"Child-Pugh class {name}" for name, *_ in rules.CHILD_PUGH_CLASSES},
}
AMENDMENTS = [HistoryAction.AMENDED, HistoryAction.SIGNATURE_WITHDRAWN]


def status(assessment: Assessment) -> str:
    if assessment.status == Assessment.Status.VOIDED:
        return "entered-in-error"
    if assessment.status == Assessment.Status.DRAFT:
        return "preliminary"
    if assessment.history.filter(action__in=AMENDMENTS).exists():
        return "amended"
    return "final"


def _instant(moment) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _coding(system: str, code: str, display: str) -> dict:
    return {"system": system, "code": code, "display": display}


def _value(assessment: Assessment, field: str) -> dict:
    value = getattr(assessment, field)
    if field == "resection_date":
        return {"valueDateTime": value.isoformat()}
    if field in VALUE_SETS:
        display = VALUE_SETS[field][value]
        system = codes.code_system(field.replace("_", "-"))
        return {"valueCodeableConcept": {"coding": [_coding(system, value, display)]}}
    if field == "tumor_size_cm":
        return {"valueQuantity": _quantity(value, "cm", "cm")}
    if field in ("bilirubin", "albumin"):
        unit = getattr(assessment, f"{field}_unit")
        return {"valueQuantity": _quantity(value, UNIT_LABELS[unit], UCUM_UNITS[unit])}
    if field in ("inr", "albi_score"):
        return {"valueQuantity": _quantity(value, "1", "1")}
    return {"valueInteger": value}


def _quantity(value, unit: str, code: str) -> dict:
    return {"value": value, "unit": unit, "system": codes.UCUM, "code": code}


def _observation(assessment: Assessment, field: str, *, subject: dict, state: str) -> dict:
    code, display = BASIS[field]
    codings = [_coding(OBSERVATIONS("observation"), code, display)]
    unit = getattr(assessment, f"{field}_unit", None)
    if (field, unit) in LOINC:
        codings.insert(0, _coding(codes.LOINC, *LOINC[(field, unit)]))
    return {
        "resourceType": "Observation",
        "id": field.replace("_", "-"),
        # Both resources take their status from the same value set (ObservationStatus).
        "status": state,
        "code": {"coding": codings, "text": display},
        "subject": subject,
        "effectiveDateTime": _instant(assessment.created_at),
        **_value(assessment, field),
    }


def _mitigation(assessment: Assessment) -> str:
    window = assessment.first_session_window()
    if assessment.recommendation != rules.RECOMMENDED:
        return "Adjuvant TACE is not recommended."
    if window is None:
        return "A second and last adjuvant TACE session is recommended."
    return (
        "Adjuvant TACE is recommended: first session between "
        f"{window[0].isoformat()} and {window[1].isoformat()} (4 to 6 weeks after resection)."
    )


def risk_assessment(assessment: Assessment) -> dict:
    """The FHIR R4 RiskAssessment of an assessment, as a JSON object (numbers Decimal)."""
    with translation.override("en"):
        state = status(assessment)
        subject = {
            "identifier": {"system": settings.FHIR_MRN_SYSTEM, "value": assessment.patient.mrn},
            "type": "Patient",
        }
        fields = [
            "resection_date",
            *Assessment.RULE_INPUTS,
            *(f for f in Assessment.PANEL_INPUTS if not f.endswith("_unit")),
            *Assessment.LIVER_FUNCTION,
        ]
        present = [f for f in fields if getattr(assessment, f) is not None]
        condition = {
            "resourceType": "Condition",
            "id": "hcc",
            "code": {
                "coding": [_coding(codes.SNOMED, codes.SNOMED_HCC, "Liver cell carcinoma")],
                "text": "Hepatocellular carcinoma",
            },
            "subject": subject,
        }
        risk = assessment.risk_level
        return {
            "resourceType": "RiskAssessment",
            "id": str(assessment.pk),
            "meta": {"lastUpdated": _instant(assessment.updated_at)},
            "contained": [
                condition,
                *(_observation(assessment, f, subject=subject, state=state) for f in present),
            ],
            "status": state,
            "method": {
                "coding": [
                    _coding(
                        codes.code_system("ruleset"),
                        assessment.ruleset,
                        f"Adjuvant TACE ruleset {assessment.ruleset}",
                    )
                ],
                "text": f"Adjuvant TACE decision rules, ruleset {assessment.ruleset}",
            },
            "subject": subject,
            "occurrenceDateTime": _instant(assessment.created_at),
            "condition": {"reference": "#hcc", "display": "Hepatocellular carcinoma"},
            "basis": [{"reference": f"#{f.replace('_', '-')}"} for f in present],
            "prediction": [
                {
                    "outcome": {
                        "coding": [
                            _coding(
                                codes.code_system("outcome"),
                                "hcc-recurrence-after-resection",
                                "Recurrence of hepatocellular carcinoma after liver resection",
                            )
                        ]
                    },
                    "qualitativeRisk": {
                        "coding": [
                            _coding(
                                codes.RISK_PROBABILITY, risk, codes.RISK_PROBABILITY_DISPLAY[risk]
                            )
                        ]
                    },
                }
            ],
            "mitigation": _mitigation(assessment),
            "note": [{"text": sentence} for sentence in assessment.rationale],
        }


OUTCOME_CODES = {401: "login", 403: "forbidden", 404: "not-found", 429: "throttled"}


def operation_outcome(status_code: int, messages: list[str]) -> dict:
    """An error of the FHIR endpoint as FHIR says errors are told."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": OUTCOME_CODES.get(status_code, "processing"),
                "diagnostics": message,
            }
            for message in messages or ["Error."]
        ],
    }
