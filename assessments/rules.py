"""The clinical rules for adjuvant TACE after liver resection for HCC.

Pure Python, no Django: this module is the contract in
shared/design/clinical-rules.md written as code. Every threshold is a named
constant beside its source.

Sources:
- Ren ZG et al., World J Gastroenterol 2004;10:2791 (549 patients): tumor
  > 5 cm, multiple nodules and vascular invasion are the high-risk factors;
  adjuvant TACE improved 5-year OS only with them (44.4% vs 37.4%, P=0.02).
- Wei W et al., Cancer Commun 2018;38:61 (randomised, 250 patients): 1 to 2
  sessions, the first 4 to 6 weeks after surgery.
- CNLC guidelines 2019/2022/2024: adjuvant TACE for high-risk patients; TACE
  contraindicated in decompensated liver disease (Child-Pugh C).
- AASLD 2023 guidance: deteriorating liver function makes TACE unsuitable.
"""

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal

RULESET_1 = "1"
LATEST_RULESET = RULESET_1

# Input ranges (the form checks them; the rules assume them).
TUMOR_SIZE_MIN_CM = Decimal("0.1")
TUMOR_SIZE_MAX_CM = Decimal("30.0")
TUMOR_COUNT_MIN = 1
TUMOR_COUNT_MAX = 50
PRIOR_SESSIONS_MIN = 0
PRIOR_SESSIONS_MAX = 10

# Ren 2004: "> 5 cm" is high risk; 5.0 cm itself is not.
TUMOR_SIZE_THRESHOLD_CM = Decimal("5.0")
# Ren 2004: two or more nodules is high risk.
MULTIPLE_TUMORS_MIN_COUNT = 2
# Wei 2018 / CNLC: the adjuvant course is 1 to 2 sessions; more damages the liver.
MAX_ADJUVANT_SESSIONS = 2
# Wei 2018: first session 4 to 6 weeks after resection.
FIRST_SESSION_WINDOW_DAYS = (28, 42)

VASCULAR_INVASION = {
    "none": "None",
    "microvascular": "Microvascular (seen only under the microscope, MVI)",
    "portal_vein_branch": "Portal vein branch thrombus (first- or second-order branch, Vp1 to Vp3)",
}
CIRRHOSIS_GRADES = {
    "none": "None: no cirrhosis",
    "mild": "Mild: compensated, no signs of portal hypertension",
    "moderate": "Moderate: compensated with portal hypertension "
    "(varices, splenomegaly, or platelets below 100 x 10^9/L)",
    "severe": "Severe: decompensated (ascites, variceal bleeding, hepatic encephalopathy "
    "or jaundice), now or in the past",
}

RECOMMENDED = "recommended"
NOT_RECOMMENDED = "not_recommended"
RECOMMENDATIONS = {RECOMMENDED: "Recommended", NOT_RECOMMENDED: "Not recommended"}
HIGH = "high"
LOW = "low"
RISK_LEVELS = {HIGH: "High", LOW: "Low"}

# Each code with its sentence, in the order the contract lists them.
RISK_FACTORS = {
    "tumor_gt_5cm": "The largest tumor is larger than 5 cm: a high risk of recurrence.",
    "multiple_tumors": "There are two or more tumor nodules: a high risk of recurrence.",
    "vascular_invasion": "There is vascular invasion (microscopic or portal vein tumor "
    "thrombus): a high risk of recurrence.",
}
CONTRAINDICATIONS = {
    "severe_cirrhosis": "Severe (decompensated) cirrhosis: TACE would damage the remaining "
    "liver function.",
    "repeated_tace": "Two or more adjuvant TACE sessions have already been given: more "
    "would damage liver function.",
}
CAUTIONS = {
    "moderate_cirrhosis": "Moderate cirrhosis with portal hypertension: check liver "
    "function carefully before TACE.",
    "prior_tace": "One adjuvant TACE session has already been given after this resection.",
}
PRE_TACE_CHECKS = (
    "Before it: imaging (CT or MRI) to exclude early recurrence, and liver function, "
    "platelets, creatinine and performance status checked."
)
OUTCOMES = {
    "low_risk": "No high-risk feature: adjuvant TACE has shown no benefit for such "
    "patients; routine surveillance.",
    "contraindicated": "The recurrence risk is high, but TACE is ruled out by the "
    "contraindication; discuss other options in a multidisciplinary meeting.",
    "first_session": "Adjuvant TACE is recommended: first session 4 to 6 weeks after "
    "resection, with hepatic angiography; 1 to 2 sessions in all. " + PRE_TACE_CHECKS,
    "second_session": "A second and last adjuvant TACE session is recommended, if liver "
    "function has recovered. " + PRE_TACE_CHECKS,
    "course_complete": "The adjuvant course (1 to 2 sessions) is complete; no further "
    "adjuvant TACE.",
}


@dataclass(frozen=True)
class Inputs:
    tumor_size_cm: Decimal
    tumor_count: int
    vascular_invasion: str
    cirrhosis_grade: str
    prior_adjuvant_tace_sessions: int = 0


@dataclass(frozen=True)
class Result:
    ruleset: str
    recommendation: str
    risk_level: str
    risk_factors: list[str]
    contraindications: list[str]
    cautions: list[str]
    rationale: list[str]

    def as_dict(self) -> dict:
        return asdict(self)


def _fired(table: dict[str, str], conditions: dict[str, bool]) -> list[str]:
    return [code for code in table if conditions[code]]


def evaluate(inputs: Inputs, *, ruleset: str = LATEST_RULESET) -> Result:
    """Apply the ruleset of clinical-rules.md to validated inputs."""
    if ruleset != RULESET_1:
        raise ValueError(f"unknown ruleset {ruleset!r}")
    risk_factors = _fired(
        RISK_FACTORS,
        {
            "tumor_gt_5cm": inputs.tumor_size_cm > TUMOR_SIZE_THRESHOLD_CM,
            "multiple_tumors": inputs.tumor_count >= MULTIPLE_TUMORS_MIN_COUNT,
            "vascular_invasion": inputs.vascular_invasion != "none",
        },
    )
    contraindications = _fired(
        CONTRAINDICATIONS,
        {
            "severe_cirrhosis": inputs.cirrhosis_grade == "severe",
            "repeated_tace": inputs.prior_adjuvant_tace_sessions >= MAX_ADJUVANT_SESSIONS,
        },
    )
    cautions = _fired(
        CAUTIONS,
        {
            "moderate_cirrhosis": inputs.cirrhosis_grade == "moderate",
            "prior_tace": inputs.prior_adjuvant_tace_sessions == 1,
        },
    )
    risk_level = HIGH if risk_factors else LOW
    recommended = risk_level == HIGH and not contraindications
    if "repeated_tace" in contraindications:
        outcome = "course_complete"
    elif risk_level == LOW:
        outcome = "low_risk"
    elif contraindications:
        outcome = "contraindicated"
    elif "prior_tace" in cautions:
        outcome = "second_session"
    else:
        outcome = "first_session"
    rationale = [
        *(RISK_FACTORS[code] for code in risk_factors),
        *(CONTRAINDICATIONS[code] for code in contraindications),
        *(CAUTIONS[code] for code in cautions),
        OUTCOMES[outcome],
    ]
    return Result(
        ruleset=ruleset,
        recommendation=RECOMMENDED if recommended else NOT_RECOMMENDED,
        risk_level=risk_level,
        risk_factors=risk_factors,
        contraindications=contraindications,
        cautions=cautions,
        rationale=rationale,
    )


def first_session_window(resection_date: date) -> tuple[date, date]:
    """The usual window for the first adjuvant session (Wei 2018: 4 to 6 weeks)."""
    start, end = FIRST_SESSION_WINDOW_DAYS
    return resection_date + timedelta(days=start), resection_date + timedelta(days=end)
