"""The codes the EHR integration speaks. A LOINC or SNOMED CT code appears only
where docs/fhir.md cites its source; everything else is a code of the app's own
CodeSystems, under settings.FHIR_CANONICAL_URL, with a display text."""

from django.conf import settings
from django.utils.translation import gettext, gettext_noop

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"

LOINC_BILIRUBIN_MASS = "1975-2"  # Bilirubin.total [Mass/volume] in Serum or Plasma
LOINC_BILIRUBIN_MOLES = "14631-6"  # Bilirubin.total [Moles/volume] in Serum or Plasma
LOINC_ALBUMIN = "1751-7"  # Albumin [Mass/volume] in Serum or Plasma
LOINC_INR = "6301-6"  # INR in Platelet poor plasma by Coagulation assay
SNOMED_HCC = "109841003"  # Liver cell carcinoma (disorder)
SNOMED_CHEMOEMBOLISATION = "441525007"  # Percutaneous transluminal chemoembolisation of artery

RISK_PROBABILITY_DISPLAY = {"high": "High likelihood", "low": "Low likelihood"}

OVERRIDE_REASONS = {
    "discussed-at-mdt": gettext_noop("Discussed at a multidisciplinary meeting"),
    "assessment-to-be-updated": gettext_noop("The assessment is about to be updated"),
    "other-clinical-reason": gettext_noop("Another clinical reason"),
}


def code_system(name: str) -> str:
    """The canonical URL of one of the app's own CodeSystems."""
    return f"{settings.FHIR_CANONICAL_URL.rstrip('/')}/CodeSystem/{name}"


def override_reasons() -> list[dict]:
    return [
        {"code": code, "system": code_system("override-reason"), "display": gettext(display)}
        for code, display in OVERRIDE_REASONS.items()
    ]
