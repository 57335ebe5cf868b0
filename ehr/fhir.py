"""An assessment as a FHIR R4 RiskAssessment (docs/fhir.md has the mapping).

Written in English, the language of the stored record: displays are the code
systems' own, the note is the stored rationale.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.utils import translation
from django.utils.html import format_html, format_html_join

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


def versions(assessment: Assessment, *, upto: int | None = None) -> list:
    """The assessment's history rows, oldest first; with `upto`, those of its versions
    up to that one (a vread)."""
    records = assessment.history.order_by("history_date", "history_id")
    if upto is not None:
        records = records.filter(version__lte=upto)
    return list(records)


def status(assessment: Assessment, records: list | None = None) -> str:
    if assessment.status == Assessment.Status.VOIDED:
        return "entered-in-error"
    if assessment.status == Assessment.Status.DRAFT:
        return "preliminary"
    if records is None:
        records = versions(assessment, upto=assessment.version)
    if any(record.action in AMENDMENTS for record in records):
        return "amended"
    return "final"


def recorded_at(records: list, fields: list[str]) -> dict:
    """When each field took the value it has in the last of `records`: a lab entered at
    creation keeps its time when the tumor size is amended later."""
    since, last = {}, {}
    for record in records:
        for field in fields:
            value = getattr(record, field)
            if field not in last or value != last[field]:
                since[field] = record.history_date
            last[field] = value
    return since


def etag(assessment: Assessment) -> str:
    return f'W/"{assessment.version}"'


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


def _observation(assessment: Assessment, field: str, *, subject: dict, state: str, when) -> dict:
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
        # When this value was recorded: the app keeps no time of the blood draw.
        "effectiveDateTime": _instant(when),
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


def narrative(assessment: Assessment, *, state: str, mitigation: str) -> dict:
    """The human-readable summary FHIR asks of a resource, its text escaped."""
    risk = codes.RISK_PROBABILITY_DISPLAY[assessment.risk_level]
    rows = format_html_join(
        "",
        "<li>{}</li>",
        ((sentence,) for sentence in assessment.rationale),
    )
    div = format_html(
        '<div xmlns="http://www.w3.org/1999/xhtml"><p>Adjuvant TACE assessment of patient '
        "{} (ruleset {}, {}): {} of recurrence. {}</p><ul>{}</ul></div>",
        assessment.patient.mrn,
        assessment.ruleset,
        state,
        risk,
        mitigation,
        rows,
    )
    return {"status": "generated", "div": str(div)}


def risk_assessment(assessment: Assessment, records: list | None = None) -> dict:
    """The FHIR R4 RiskAssessment of an assessment, as a JSON object (numbers Decimal).

    `records`: its history rows up to this version, oldest first (versions()); a vread
    passes the historical instance and its rows.
    """
    if records is None:
        records = versions(assessment, upto=assessment.version)
    with translation.override("en"):
        state = status(assessment, records)
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
        since = recorded_at(records, present)
        mitigation = _mitigation(assessment)
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
            "meta": {
                "versionId": str(assessment.version),
                "lastUpdated": _instant(assessment.updated_at),
            },
            "text": narrative(assessment, state=state, mitigation=mitigation),
            "contained": [
                condition,
                *(
                    _observation(
                        assessment,
                        f,
                        subject=subject,
                        state=state,
                        when=since.get(f, assessment.created_at),
                    )
                    for f in present
                ),
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
            "mitigation": mitigation,
            "note": [{"text": sentence} for sentence in assessment.rationale],
        }


OUTCOME_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    429: "throttled",
}


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


SEARCH_PARAMS = {
    "subject:identifier": "The patient's MRN as SYSTEM|MRN (the system DJANGO_FHIR_MRN_SYSTEM), "
    "or MRN alone.",
    "_lastUpdated": "When the assessment was last saved: a date (YYYY-MM-DD, the site's time "
    "zone) or an instant with its zone, prefixed ge, gt, le, lt or eq; may be given twice.",
    "_count": "At most this many entries a page (1 to 100; default 50).",
    "_offset": "Skip this many matches (the next link carries it).",
    "_format": "json or application/fhir+json only.",
}


# When the CapabilityStatement below last changed.
CAPABILITY_DATE = datetime(2026, 12, 3, tzinfo=UTC)


def capability_statement(*, base_url: str, date=CAPABILITY_DATE) -> dict:
    """What this FHIR endpoint does, for a client's discovery (GET /fhir/metadata)."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": _instant(date),
        "publisher": "Adjuvant TACE decision support",
        "kind": "instance",
        "software": {"name": "Adjuvant TACE decision support"},
        "implementation": {
            "description": "Assessments of adjuvant TACE after liver resection, as RiskAssessment",
            "url": base_url,
        },
        "fhirVersion": "4.0.1",
        "format": ["json", "application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "A bearer token (manage.py api_token) or a logged-in "
                    "session, of a user whose role may view assessments.",
                },
                "resource": [
                    {
                        "type": "RiskAssessment",
                        "interaction": [
                            {"code": "read"},
                            {"code": "vread"},
                            {"code": "search-type"},
                        ],
                        "versioning": "versioned",
                        "readHistory": True,
                        "searchParam": [
                            {
                                "name": "subject",
                                "type": "reference",
                                "documentation": "With the :identifier modifier only: "
                                + SEARCH_PARAMS["subject:identifier"],
                            },
                            {
                                "name": "_lastUpdated",
                                "type": "date",
                                "documentation": SEARCH_PARAMS["_lastUpdated"],
                            },
                        ],
                    }
                ],
            }
        ],
    }


def searchset(*, entries: list[tuple[str, dict]], total: int, links: dict) -> dict:
    """A search's answer: (fullUrl, resource) pairs, their total, self and next links."""
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": [{"relation": relation, "url": url} for relation, url in links.items()],
    }
    if entries:  # FHIR JSON has no empty arrays
        bundle["entry"] = [
            {"fullUrl": full_url, "resource": resource, "search": {"mode": "match"}}
            for full_url, resource in entries
        ]
    return bundle
