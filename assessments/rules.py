"""The clinical rules for adjuvant TACE after liver resection for HCC.

Pure Python, no Django: the project's clinical contract written as code,
shown to users on the /rules/ page and summarised in the README. Every
threshold is a named constant beside its source.

Sources:
- Ren ZG et al., World J Gastroenterol 2004;10:2791 (549 patients): tumor
  > 5 cm, multiple nodules and vascular invasion are the high-risk factors;
  adjuvant TACE improved 5-year OS only with them (44.4% vs 37.4%, P=0.02).
- Wei W et al., Cancer Commun 2018;38:61 (randomised, 250 patients): 1 to 2
  sessions, the first 4 to 6 weeks after surgery.
- CNLC guidelines 2019/2022/2024: adjuvant TACE for high-risk patients; TACE
  contraindicated in decompensated liver disease (Child-Pugh C).
- AASLD 2023 guidance: deteriorating liver function makes TACE unsuitable.
- Child-Pugh score (Pugh 1973), bands as in clinical-rules.md ruleset 2.
- ALBI grade: Johnson PJ et al., J Clin Oncol 2015;33:550; cut-offs -2.60 and
  -1.39 (Hiraoka 2017, Liver Cancer).
- EASL Clinical Practice Guidelines: management of hepatocellular carcinoma,
  J Hepatol 2018;69:182 (after Raoul JL et al., Cancer Treat Rev 2011;37:212):
  decompensated cirrhosis, Child-Pugh B with 8 points or more, is an absolute
  contraindication to TACE (ruleset 3).
- Ruleset 4 reads the pathology findings without scoring them: resection plus
  adjuvant TACE against resection alone, a meta-analysis of 26 studies
  (CardioVascular and Interventional Radiology 2019, doi 10.1007/s00270-019-02392-6),
  benefit greatest with MVI, subgroup benefit with satellite nodules and margins
  under 1 cm; adjuvant TACE with MVI, a propensity-matched cohort of 549 patients
  (The Oncologist, PMC6459238); Feng LH et al., Front Oncol 2023 (doi
  10.3389/fonc.2023.1104492): no benefit at low risk. The second session's
  window is the protocol's convention (sessions about a month apart), not evidence.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache


def gettext_noop(message: str) -> str:
    """Marks a sentence for the translation catalogue; the app translates it when shown.
    This module imports nothing of Django: every stored code and sentence is English."""
    return message


RULESET_1 = "1"
RULESET_2 = "2"
RULESET_3 = "3"
RULESET_4 = "4"
RULESETS = (RULESET_1, RULESET_2, RULESET_3, RULESET_4)
LATEST_RULESET = RULESET_4
# What each ruleset adds to the one before (shown beside an older assessment).
RULESET_ADDS = {
    RULESET_2: gettext_noop(
        "liver function (Child-Pugh, ALBI) and main portal vein thrombus (Vp4)"
    ),
    RULESET_3: gettext_noop(
        "Child-Pugh B8 to B9 as a contraindication, signs of decompensation and a "
        "missing liver panel as cautions, and advice that never contradicts itself"
    ),
    RULESET_4: gettext_noop(
        "the pathology findings read: adverse pathology and a margin under 1 cm as cautions, "
        "the MVI grade checked against vascular invasion, and the second session's window"
    ),
}

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
# Ruleset 4: the second session 4 to 8 weeks after the first. No trial fixes this
# interval: it is the protocol's convention (sessions about a month apart).
SECOND_SESSION_WINDOW_DAYS = (28, 56)

# Ruleset 4 reads the pathology findings (the form's codes: resection_margin ge_1cm,
# lt_1cm, r1; satellite_nodules and tumor_rupture yes, no; mvi_grade m0, m1, m2); it
# does not score them. AFP above 20 ng/mL after surgery has not normalised; 20 has.
AFP_NORMAL_MAX_NG_ML = Decimal("20")
# Each finding in words, in the contract's order; all but the last are adverse.
PATHOLOGY_FINDINGS = {
    "r1_margin": gettext_noop("R1 resection margin"),
    "satellite_nodules": gettext_noop("satellite nodules"),
    "tumor_rupture": gettext_noop("tumor rupture"),
    "mvi_m2": gettext_noop("MVI grade M2"),
    "afp_not_normalised": gettext_noop("AFP above 20 ng/mL after surgery"),
    "narrow_margin": gettext_noop("resection margin under 1 cm"),
}
ADVERSE_FINDINGS = (
    "r1_margin",
    "satellite_nodules",
    "tumor_rupture",
    "mvi_m2",
    "afp_not_normalised",
)
# Ruleset 4 refuses an MVI grade that contradicts the vascular invasion chosen
# (forms/assessment.py gives the messages, on both fields).
MVI_WITHOUT_INVASION = "mvi_without_invasion"  # M1 or M2 with vascular invasion "none"
INVASION_WITHOUT_MVI = "invasion_without_mvi"  # M0 with "microvascular"

VASCULAR_INVASION_RULESET_1 = {
    "none": gettext_noop("None"),
    "microvascular": gettext_noop("Microvascular (seen only under the microscope, MVI)"),
    "portal_vein_branch": gettext_noop(
        "Portal vein branch tumor thrombus (Vp1 to Vp3, Japanese classification)"
    ),
}
# Ruleset 2 adds Vp4, a thrombus of the main portal trunk removed at surgery.
VASCULAR_INVASION = {
    **VASCULAR_INVASION_RULESET_1,
    "portal_vein_main": gettext_noop("Main portal vein thrombus (Vp4), removed at surgery"),
}
CIRRHOSIS_GRADES = {
    "none": gettext_noop("None: no cirrhosis"),
    "mild": gettext_noop("Mild: compensated, no signs of portal hypertension"),
    "moderate": gettext_noop(
        "Moderate: compensated with portal hypertension "
        "(varices, splenomegaly, or platelets below 100 x 10^9/L)"
    ),
    "severe": gettext_noop(
        "Severe: decompensated (ascites, variceal bleeding, hepatic encephalopathy "
        "or jaundice), now or in the past"
    ),
}

# Ruleset 2: the liver-function panel. Ranges apply in the unit entered.
BILIRUBIN_UNITS = {"umol_l": "µmol/L", "mg_dl": "mg/dL"}
ALBUMIN_UNITS = {"g_l": "g/L", "g_dl": "g/dL"}
BILIRUBIN_RANGES = {
    "umol_l": (Decimal("1"), Decimal("1000")),
    "mg_dl": (Decimal("0.06"), Decimal("58.0")),
}
ALBUMIN_RANGES = {"g_l": (Decimal("10"), Decimal("60")), "g_dl": (Decimal("1.0"), Decimal("6.0"))}
INR_RANGE = (Decimal("0.8"), Decimal("10.0"))
BILIRUBIN_UMOL_PER_MG_DL = Decimal("17.1")
ALBUMIN_G_L_PER_G_DL = Decimal("10")
ASCITES = {
    "none": gettext_noop("None"),
    "mild": gettext_noop("Mild (slight, or controlled by diuretics)"),
    "moderate_severe": gettext_noop("Moderate to severe"),
}
ENCEPHALOPATHY = {
    "none": gettext_noop("None"),
    "grade_1_2": gettext_noop("West Haven grade 1 to 2"),
    "grade_3_4": gettext_noop("West Haven grade 3 to 4"),
}

# Child-Pugh: each item scores 1, 2 or 3. The bounds belong to the middle band.
CHILD_PUGH_BILIRUBIN_UMOL_L = (Decimal("34.2"), Decimal("51.3"))
CHILD_PUGH_ALBUMIN_G_L = (Decimal("28"), Decimal("35"))  # higher is better
CHILD_PUGH_INR = (Decimal("1.7"), Decimal("2.3"))
CHILD_PUGH_POINTS = {
    "ascites": {"none": 1, "mild": 2, "moderate_severe": 3},
    "encephalopathy": {"none": 1, "grade_1_2": 2, "grade_3_4": 3},
}
CHILD_PUGH_CLASSES = (("A", 5, 6), ("B", 7, 9), ("C", 10, 15))
# EASL 2018 (after Raoul 2011): Child-Pugh B with 8 points or more rules TACE out.
CHILD_PUGH_B_CONTRAINDICATED_MIN = 8

# ALBI = 0.66 x log10(bilirubin umol/L) - 0.085 x albumin g/L (Johnson 2015).
ALBI_BILIRUBIN_COEFFICIENT = Decimal("0.66")
ALBI_ALBUMIN_COEFFICIENT = Decimal("0.085")
ALBI_GRADE_1_MAX = Decimal("-2.60")  # grade 1 if <= -2.60
ALBI_GRADE_2_MAX = Decimal("-1.39")  # grade 2 if > -2.60 and <= -1.39; else grade 3
ALBI_SHOWN_PLACES = Decimal("0.001")
# 16 significant digits: far finer than the grade cut-offs and the 3 decimals
# shown, and twice as fast as the default 28 for log10.
ALBI_CONTEXT = Context(prec=16)

RECOMMENDED = "recommended"
NOT_RECOMMENDED = "not_recommended"
RECOMMENDATIONS = {
    RECOMMENDED: gettext_noop("Recommended"),
    NOT_RECOMMENDED: gettext_noop("Not recommended"),
}
HIGH = "high"
LOW = "low"
RISK_LEVELS = {HIGH: gettext_noop("High"), LOW: gettext_noop("Low")}

# Each code with its sentence, in the order the contract lists them.
RISK_FACTORS = {
    "tumor_gt_5cm": gettext_noop(
        "The largest tumor is larger than 5 cm: a high risk of recurrence."
    ),
    "multiple_tumors": gettext_noop(
        "There are two or more tumor nodules: a high risk of recurrence."
    ),
    "vascular_invasion": gettext_noop(
        "There is vascular invasion (microscopic or portal vein tumor "
        "thrombus): a high risk of recurrence."
    ),
}
CONTRAINDICATIONS = {
    "severe_cirrhosis": gettext_noop(
        "Severe (decompensated) cirrhosis: TACE would damage the remaining liver function."
    ),
    "child_pugh_b8_b9": gettext_noop(
        "Child-Pugh class B with 8 or 9 points: decompensated liver function rules TACE out."
    ),
    "child_pugh_c": gettext_noop("Child-Pugh class C: liver function is too poor for TACE."),
    "repeated_tace": gettext_noop(
        "Two or more adjuvant TACE sessions have already been given: more "
        "would damage liver function."
    ),
}
CAUTIONS = {
    "moderate_cirrhosis": gettext_noop(
        "Moderate cirrhosis with portal hypertension: check liver function carefully before TACE."
    ),
    "child_pugh_b": gettext_noop(
        "Child-Pugh class B: reduced liver function; weigh the harm of TACE carefully."
    ),
    "albi_grade_3": gettext_noop(
        "ALBI grade 3: poor liver function; weigh the harm of TACE carefully."
    ),
    "decompensation_signs": gettext_noop(
        "The liver panel records ascites or hepatic encephalopathy, "
        "signs of decompensated cirrhosis, which the chosen cirrhosis grade denies: confirm the "
        "grade (ascites soon after a resection may be transient); decompensated cirrhosis rules "
        "TACE out."
    ),
    "liver_panel_missing": gettext_noop(
        "No liver-function panel was entered: Child-Pugh and ALBI must be known before TACE."
    ),
    "adverse_pathology": gettext_noop(
        "The pathology records adverse findings (%(findings)s): each is an independent "
        "adverse prognostic finding after resection, for the multidisciplinary meeting."
    ),
    "narrow_margin": gettext_noop(
        "The resection margin is under 1 cm, which is associated with more recurrence."
    ),
    "main_portal_vein": gettext_noop(
        "Main portal vein thrombus (Vp4) was removed: confirm on imaging that "
        "the main portal vein is patent before TACE; a residual occlusion rules TACE out."
    ),
    "prior_tace": gettext_noop(
        "One adjuvant TACE session has already been given after this resection."
    ),
}
# In ruleset 3, a result that does not recommend TACE states these findings
# without advice on how to give TACE, so that no sentence contradicts the outcome.
CAUTION_FINDINGS = {
    "moderate_cirrhosis": gettext_noop("Moderate cirrhosis with portal hypertension."),
    "child_pugh_b": gettext_noop("Child-Pugh class B: reduced liver function."),
    "albi_grade_3": gettext_noop("ALBI grade 3: poor liver function."),
    "liver_panel_missing": gettext_noop("No liver-function panel was entered."),
    "main_portal_vein": gettext_noop("Main portal vein thrombus (Vp4) was removed at surgery."),
}
# From ruleset 4, the sentences that say a finding once and plainly: two prior
# sessions complete the course (it is not that more would harm), and one prior
# session is a fact stated by the outcome, no longer a caution.
SENTENCES_FROM_RULESET_4 = {
    "repeated_tace": gettext_noop(
        "Two or more adjuvant TACE sessions have already been given after this resection: the "
        "adjuvant course is one to two sessions."
    ),
}
# The ruleset that introduced each code; the others are ruleset 1's. A code
# never changes meaning: a new rule is a new code in a new ruleset.
INTRODUCED_IN = {
    "child_pugh_c": RULESET_2,
    "child_pugh_b": RULESET_2,
    "albi_grade_3": RULESET_2,
    "main_portal_vein": RULESET_2,
    "child_pugh_b8_b9": RULESET_3,
    "decompensation_signs": RULESET_3,
    "liver_panel_missing": RULESET_3,
    "adverse_pathology": RULESET_4,
    "narrow_margin": RULESET_4,
}
# The codes a ruleset no longer emits: from ruleset 4, one prior session is a fact
# (the outcome sentence says it), not a caution.
WITHDRAWN_IN = {"prior_tace": RULESET_4}


def _has(ruleset: str, introduced_in: str) -> bool:
    """Whether a ruleset has what another one introduced: each keeps what came before."""
    return RULESETS.index(ruleset) >= RULESETS.index(introduced_in)


def reads_pathology(ruleset: str) -> bool:
    """From ruleset 4 the pathology findings take part in the advice."""
    return ruleset in RULESETS and _has(ruleset, RULESET_4)


def newer_rulesets(ruleset: str) -> dict[str, str]:
    """The rulesets after this one, each with what it adds."""
    return {newer: adds for newer, adds in RULESET_ADDS.items() if not _has(ruleset, newer)}


# The codes each ruleset can emit.
RULESET_CODES = {
    ruleset: {
        code
        for code in (*RISK_FACTORS, *CONTRAINDICATIONS, *CAUTIONS)
        if _has(ruleset, INTRODUCED_IN.get(code, RULESET_1))
        and not (code in WITHDRAWN_IN and _has(ruleset, WITHDRAWN_IN[code]))
    }
    for ruleset in RULESETS
}
# When each code fires, in words, from the same constants (shown on /rules/).
# When each code fires, in words: a sentence with named values from the same
# constants (shown on /rules/; fires_when() fills them in).
FIRES_WHEN_VALUES = {
    "size": TUMOR_SIZE_THRESHOLD_CM,
    "count": MULTIPLE_TUMORS_MIN_COUNT,
    "sessions": MAX_ADJUVANT_SESSIONS,
    "b_low": CHILD_PUGH_CLASSES[1][1],
    "b_contraindicated": CHILD_PUGH_B_CONTRAINDICATED_MIN,
    "b_high": CHILD_PUGH_CLASSES[1][2],
    "c_low": CHILD_PUGH_CLASSES[2][1],
    "c_high": CHILD_PUGH_CLASSES[2][2],
    "albi": ALBI_GRADE_2_MAX,
    "afp": AFP_NORMAL_MAX_NG_ML,
}
FIRES_WHEN = {
    "tumor_gt_5cm": gettext_noop(
        "the largest tumor is larger than %(size)s cm (%(size)s itself does not fire)"
    ),
    "multiple_tumors": gettext_noop("%(count)s or more tumor nodules"),
    "vascular_invasion": gettext_noop(
        "any vascular invasion: microvascular, portal vein branch or main portal vein"
    ),
    "severe_cirrhosis": gettext_noop("cirrhosis grade severe (decompensated)"),
    "child_pugh_b8_b9": gettext_noop(
        "Child-Pugh class B with a score of %(b_contraindicated)s to %(b_high)s"
    ),
    "child_pugh_c": gettext_noop("Child-Pugh class C (score %(c_low)s to %(c_high)s)"),
    "repeated_tace": gettext_noop("%(sessions)s or more prior adjuvant TACE sessions"),
    "moderate_cirrhosis": gettext_noop("cirrhosis grade moderate (portal hypertension)"),
    "child_pugh_b": gettext_noop("Child-Pugh class B (score %(b_low)s to %(b_high)s)"),
    "albi_grade_3": gettext_noop("ALBI score above %(albi)s"),
    "decompensation_signs": gettext_noop(
        "the liver panel records ascites or hepatic encephalopathy and the cirrhosis grade is "
        "not severe"
    ),
    "liver_panel_missing": gettext_noop("no liver-function panel was entered"),
    "adverse_pathology": gettext_noop(
        "any of: resection margin R1, satellite nodules, tumor rupture, MVI grade M2, AFP "
        "above %(afp)s ng/mL after surgery"
    ),
    "narrow_margin": gettext_noop("resection margin under 1 cm"),
    "main_portal_vein": gettext_noop("vascular invasion is main portal vein (Vp4)"),
    "prior_tace": gettext_noop("exactly 1 prior adjuvant TACE session"),
}


def fires_when(code: str, translate=lambda text: text) -> str:
    """When a code fires, in words, in the language translate() gives."""
    return translate(FIRES_WHEN[code]) % FIRES_WHEN_VALUES


SCOPE_AND_LIMITS = [
    gettext_noop(
        "The tool supports, and does not replace, the judgement of the treating team and a "
        "multidisciplinary meeting."
    ),
    gettext_noop(
        "It applies to hepatocellular carcinoma after curative resection only; it is not "
        "validated for other tumor types or other treatments."
    ),
    gettext_noop(
        "The three risk factors come from a retrospective study (Ren 2004); the one randomised "
        "trial of this exact question (Wei 2018) enrolled single tumors of 5 cm or more with "
        "microvascular invasion. Tumor size alone is the most contested factor: a 2019 "
        "propensity-matched cohort and a meta-analysis found the benefit mainly in multinodular "
        "disease and vascular invasion."
    ),
    gettext_noop(
        "Western guidelines (EASL, AASLD) do not recommend adjuvant TACE; Chinese guidelines "
        "(CNLC) do, for patients at high risk of recurrence."
    ),
]
SOURCES = [
    gettext_noop(
        "Ren ZG et al., World J Gastroenterol 2004;10:2791. Retrospective, 549 patients; tumor "
        "> 5 cm, multiple nodules and vascular invasion as the risk factors; adjuvant TACE "
        "improved survival only with them (5-year OS 44.4% vs 37.4%, P=0.02)."
    ),
    gettext_noop(
        "Wei W et al., Cancer Commun 2018;38:61. Randomised phase III, 250 patients, single tumor "
        ">= 5 cm with MVI: 1 to 2 sessions, the first 4 to 6 weeks after surgery; median DFS "
        "17.5 vs 9.3 months, median OS 44.3 vs 22.4 months."
    ),
    gettext_noop(
        "China Liver Cancer (CNLC) guidelines 2019, 2022, 2024: adjuvant TACE for patients at "
        "high risk of recurrence; TACE contraindicated in Child-Pugh C."
    ),
    gettext_noop(
        "AASLD 2023 guidance (Table 5): deteriorating liver function makes a patient unsuitable "
        "for TACE."
    ),
    gettext_noop(
        "Johnson PJ et al., J Clin Oncol 2015;33:550 (ALBI); Hiraoka A et al., Liver Cancer 2017 "
        "(ALBI grade cut-offs)."
    ),
    gettext_noop(
        "European Association for the Study of the Liver. EASL Clinical Practice Guidelines: "
        "Management of hepatocellular carcinoma. J Hepatol 2018;69:182-236: decompensated "
        "cirrhosis (Child-Pugh B with 8 points or more) is an absolute contraindication to TACE, "
        "after Raoul JL et al., Cancer Treat Rev 2011;37:212 (ruleset 3)."
    ),
    gettext_noop(
        "Adjuvant TACE for hepatocellular carcinoma with microvascular invasion after radical "
        "resection, a propensity-matched cohort of 549 patients (The Oncologist, PMC6459238): "
        "benefit with MVI in tumors of 5 cm or less, none shown above 5 cm (ruleset 4)."
    ),
    gettext_noop(
        "Feng LH et al., Front Oncol 2023 (doi 10.3389/fonc.2023.1104492): adjuvant TACE did not "
        "improve RFS or OS in patients at low risk of recurrence (ruleset 4)."
    ),
    gettext_noop(
        "Resection plus adjuvant TACE against resection alone, a systematic review and "
        "meta-analysis of 26 studies, 6 of them randomised (CardioVascular and Interventional "
        "Radiology 2019, doi 10.1007/s00270-019-02392-6): benefit greatest with MVI; subgroup "
        "benefit also reported with satellite nodules and with margins under 1 cm. Subgroups of "
        "observational studies: a reason to name these findings and send them to the meeting, "
        "not to score them (ruleset 4)."
    ),
]

PRE_TACE_CHECKS = gettext_noop(
    "Before it: imaging (CT or MRI) to exclude early recurrence, and liver function, "
    "platelets, creatinine and performance status checked."
)
# Each outcome sentence whole, so that it is translated whole.
OUTCOMES = {
    "low_risk": gettext_noop(
        "No high-risk feature: adjuvant TACE has shown no benefit for such patients; routine "
        "surveillance."
    ),
    "low_risk_contraindicated": gettext_noop(
        "No high-risk feature, so adjuvant TACE is not indicated; the contraindication would "
        "rule it out in any case. Surveillance, and care of the liver disease."
    ),
    "contraindicated": gettext_noop(
        "The recurrence risk is high, but TACE is ruled out by the contraindication; discuss "
        "other options in a multidisciplinary meeting."
    ),
    "first_session": gettext_noop(
        "Adjuvant TACE is recommended: first session 4 to 6 weeks after resection, with "
        "hepatic angiography; 1 to 2 sessions in all. Before it: imaging (CT or MRI) to "
        "exclude early recurrence, and liver function, platelets, creatinine and performance "
        "status checked."
    ),
    "second_session": gettext_noop(
        "A second and last adjuvant TACE session is recommended, if liver function has "
        "recovered. Before it: imaging (CT or MRI) to exclude early recurrence, and liver "
        "function, platelets, creatinine and performance status checked."
    ),
    "course_complete": gettext_noop(
        "The adjuvant course (1 to 2 sessions) is complete; no further adjuvant TACE."
    ),
    "low_risk_adverse_pathology": gettext_noop(
        "None of the three scored risk factors is present, but the pathology records adverse "
        "findings (%(findings)s): adjuvant treatment, TACE included, is a decision for the "
        "multidisciplinary meeting, and surveillance must not be less close than for a "
        "high-risk patient."
    ),
    "second_session_after_one": gettext_noop(
        "One adjuvant TACE session has already been given after this resection. A second and "
        "last adjuvant TACE session is recommended, if liver function has recovered. Before "
        "it: imaging (CT or MRI) to exclude early recurrence, and liver function, platelets, "
        "creatinine and performance status checked."
    ),
}


@dataclass(frozen=True)
class LiverPanel:
    bilirubin: Decimal
    albumin: Decimal
    inr: Decimal
    ascites: str
    encephalopathy: str
    bilirubin_unit: str = "umol_l"
    albumin_unit: str = "g_l"

    @property
    def bilirubin_umol_l(self) -> Decimal:
        if self.bilirubin_unit == "mg_dl":
            return self.bilirubin * BILIRUBIN_UMOL_PER_MG_DL
        return self.bilirubin

    @property
    def albumin_g_l(self) -> Decimal:
        if self.albumin_unit == "g_dl":
            return self.albumin * ALBUMIN_G_L_PER_G_DL
        return self.albumin


@dataclass(frozen=True)
class Pathology:
    """Ruleset 4's pathology findings, each optional: "" (or None) when not recorded."""

    resection_margin: str = ""
    satellite_nodules: str = ""
    mvi_grade: str = ""
    afp_before_ng_ml: Decimal | None = None
    afp_after_ng_ml: Decimal | None = None
    tumor_rupture: str = ""

    def findings(self) -> list[str]:
        """The findings that fire, in the contract's order."""
        afp = self.afp_after_ng_ml
        fired = {
            "r1_margin": self.resection_margin == "r1",
            "satellite_nodules": self.satellite_nodules == "yes",
            "tumor_rupture": self.tumor_rupture == "yes",
            "mvi_m2": self.mvi_grade == "m2",
            "afp_not_normalised": afp is not None and afp > AFP_NORMAL_MAX_NG_ML,
            "narrow_margin": self.resection_margin == "lt_1cm",
        }
        return [code for code in PATHOLOGY_FINDINGS if fired[code]]


NO_PATHOLOGY = Pathology()


def mvi_inconsistency(vascular_invasion: str, mvi_grade: str) -> str | None:
    """Which way an MVI grade contradicts the vascular invasion chosen, if it does."""
    if mvi_grade in ("m1", "m2") and vascular_invasion == "none":
        return MVI_WITHOUT_INVASION
    if mvi_grade == "m0" and vascular_invasion == "microvascular":
        return INVASION_WITHOUT_MVI
    return None


@dataclass(frozen=True)
class Inputs:
    tumor_size_cm: Decimal
    tumor_count: int
    vascular_invasion: str
    cirrhosis_grade: str
    prior_adjuvant_tace_sessions: int = 0
    liver_panel: LiverPanel | None = None
    pathology: Pathology = NO_PATHOLOGY

    @classmethod
    def from_data(cls, data: Mapping) -> "Inputs":
        """The inputs from validated values keyed by field name (a form's cleaned data,
        an assessment's fields): the one mapping from entered or stored values to the
        rules. A bilirubin means a whole panel: the form refuses a partial one. The
        pathology findings are read where given (ruleset 4's forms take them)."""
        panel = None
        if data.get("bilirubin") is not None:
            panel = LiverPanel(**{name: data[name] for name in _PANEL_FIELDS})
        pathology = NO_PATHOLOGY
        values = {name: data.get(name) for name in _PATHOLOGY_FIELDS}
        if any(value not in (None, "") for value in values.values()):
            pathology = Pathology(**{k: v for k, v in values.items() if v is not None})
        return cls(
            **{name: data[name] for name in _INPUT_FIELDS}, liver_panel=panel, pathology=pathology
        )


# dataclasses.fields() is slow for a batch's every line: the names once.
_PANEL_FIELDS = tuple(field.name for field in fields(LiverPanel))
_PATHOLOGY_FIELDS = tuple(field.name for field in fields(Pathology))
_INPUT_FIELDS = tuple(
    field.name for field in fields(Inputs) if field.name not in ("liver_panel", "pathology")
)


@dataclass(frozen=True)
class Result:
    ruleset: str
    recommendation: str
    risk_level: str
    risk_factors: list[str]
    contraindications: list[str]
    cautions: list[str]
    rationale: list[str]
    liver_function: dict | None = None
    # Ruleset 4: the findings adverse_pathology and narrow_margin name.
    pathology_findings: list[str] = field(default_factory=list)
    # Not part of the result's shape: what the outcome sentence reads in ruleset 4.
    prior_adjuvant_tace_sessions: int = 0

    def as_dict(self) -> dict:
        result = {
            "ruleset": self.ruleset,
            "recommendation": self.recommendation,
            "risk_level": self.risk_level,
            "risk_factors": list(self.risk_factors),
            "contraindications": list(self.contraindications),
            "cautions": list(self.cautions),
            "rationale": list(self.rationale),
        }
        if self.ruleset != RULESET_1:
            result["liver_function"] = dict(self.liver_function) if self.liver_function else None
        if _has(self.ruleset, RULESET_4):
            result["pathology_findings"] = list(self.pathology_findings)
        return result


def _band(value: Decimal, low: Decimal, high: Decimal) -> int:
    """1, 2 or 3 points for a value where higher is worse; bounds score 2."""
    return 1 if value < low else 2 if value <= high else 3


def child_pugh_points(panel: LiverPanel) -> dict[str, int]:
    albumin_low, albumin_high = CHILD_PUGH_ALBUMIN_G_L
    albumin = panel.albumin_g_l
    return {
        "bilirubin": _band(panel.bilirubin_umol_l, *CHILD_PUGH_BILIRUBIN_UMOL_L),
        "albumin": 1 if albumin > albumin_high else 2 if albumin >= albumin_low else 3,
        "inr": _band(panel.inr, *CHILD_PUGH_INR),
        "ascites": CHILD_PUGH_POINTS["ascites"][panel.ascites],
        "encephalopathy": CHILD_PUGH_POINTS["encephalopathy"][panel.encephalopathy],
    }


def child_pugh_class(score: int) -> str:
    return next(name for name, low, high in CHILD_PUGH_CLASSES if low <= score <= high)


@lru_cache(maxsize=4096)
def _log10(value: Decimal) -> Decimal:
    """The logarithm is half the cost of a result, and lab values repeat (they are
    reported to a decimal or two): a batch computes each one once."""
    return value.log10(ALBI_CONTEXT)


def albi_score(panel: LiverPanel) -> Decimal:
    """Unrounded, in decimal arithmetic."""
    return (
        ALBI_BILIRUBIN_COEFFICIENT * _log10(panel.bilirubin_umol_l)
        - ALBI_ALBUMIN_COEFFICIENT * panel.albumin_g_l
    )


def albi_grade(score: Decimal) -> int:
    return 1 if score <= ALBI_GRADE_1_MAX else 2 if score <= ALBI_GRADE_2_MAX else 3


def liver_function(panel: LiverPanel) -> dict:
    score = sum(child_pugh_points(panel).values())
    albi = albi_score(panel)
    return {
        "child_pugh_score": score,
        "child_pugh_class": child_pugh_class(score),
        "albi_score": albi.quantize(ALBI_SHOWN_PLACES, rounding=ROUND_HALF_UP),
        "albi_grade": albi_grade(albi),
    }


def _fired(table: dict[str, str], conditions: dict[str, bool], ruleset: str) -> list[str]:
    """The codes of a table that fire, in the table's order, among the ruleset's codes."""
    known = RULESET_CODES[ruleset]
    return [code for code in table if code in known and conditions[code]]


def outcome(
    *,
    ruleset: str,
    risk_level: str,
    contraindications: list[str],
    cautions: list[str],
    prior_sessions: int = 0,
):
    """The code of the one outcome sentence, in the contract's order of precedence."""
    if "repeated_tace" in contraindications:
        return "course_complete"
    if risk_level == LOW and "adverse_pathology" in cautions:
        return "low_risk_adverse_pathology"
    if risk_level == LOW and contraindications and _has(ruleset, RULESET_3):
        return "low_risk_contraindicated"
    if risk_level == LOW:
        return "low_risk"
    if contraindications:
        return "contraindicated"
    if _has(ruleset, RULESET_4):
        return "second_session_after_one" if prior_sessions == 1 else "first_session"
    if "prior_tace" in cautions:
        return "second_session"
    return "first_session"


def contraindication_sentences(ruleset: str) -> dict[str, str]:
    """The contraindications' sentences in a result: each ruleset keeps its own."""
    if _has(ruleset, RULESET_4):
        return {**CONTRAINDICATIONS, **SENTENCES_FROM_RULESET_4}
    return CONTRAINDICATIONS


def caution_sentences(ruleset: str, *, recommended: bool) -> dict[str, str]:
    """The cautions' sentences in a result: from ruleset 3 on, findings only when TACE
    is not recommended, so that no sentence advises on giving it."""
    if not recommended and _has(ruleset, RULESET_3):
        return {**CAUTIONS, **CAUTION_FINDINGS}
    return CAUTIONS


def named_findings(pathology_findings: list[str], translate=lambda text: text) -> str:
    """The adverse findings, in words, for the sentences that name them."""
    adverse = [
        translate(PATHOLOGY_FINDINGS[c]) for c in pathology_findings if c in ADVERSE_FINDINGS
    ]
    return translate(", ").join(adverse)


def sentence(text: str, pathology_findings: list[str], translate=lambda text: text) -> str:
    """One sentence of a result in the language translate() gives, the findings named."""
    if "%(findings)s" not in text:
        return translate(text)
    return translate(text) % {"findings": named_findings(pathology_findings, translate)}


def evaluate(inputs: Inputs, *, ruleset: str = LATEST_RULESET) -> Result:
    """Apply a ruleset of the contract to validated inputs.

    Ruleset 1 knows neither the liver panel nor portal_vein_main: the forms
    refuse them, and here they are refused too.
    """
    if ruleset not in RULESETS:
        raise ValueError(f"unknown ruleset {ruleset!r}")
    if ruleset == RULESET_1 and (
        inputs.liver_panel is not None
        or inputs.vascular_invasion not in VASCULAR_INVASION_RULESET_1
    ):
        raise ValueError("ruleset 1 takes no liver panel and no portal_vein_main")
    reads_pathology = _has(ruleset, RULESET_4)
    pathology = inputs.pathology
    if reads_pathology and mvi_inconsistency(inputs.vascular_invasion, pathology.mvi_grade):
        raise ValueError("the MVI grade contradicts the vascular invasion (the form refuses it)")
    findings = pathology.findings() if reads_pathology else []
    panel = inputs.liver_panel
    function = liver_function(panel) if panel else None
    child_pugh = function["child_pugh_class"] if function else None
    risk_factors = _fired(
        RISK_FACTORS,
        {
            "tumor_gt_5cm": inputs.tumor_size_cm > TUMOR_SIZE_THRESHOLD_CM,
            "multiple_tumors": inputs.tumor_count >= MULTIPLE_TUMORS_MIN_COUNT,
            "vascular_invasion": inputs.vascular_invasion != "none",
        },
        ruleset,
    )
    contraindications = _fired(
        CONTRAINDICATIONS,
        {
            "severe_cirrhosis": inputs.cirrhosis_grade == "severe",
            "child_pugh_b8_b9": child_pugh == "B"
            and function["child_pugh_score"] >= CHILD_PUGH_B_CONTRAINDICATED_MIN,
            "child_pugh_c": child_pugh == "C",
            "repeated_tace": inputs.prior_adjuvant_tace_sessions >= MAX_ADJUVANT_SESSIONS,
        },
        ruleset,
    )
    cautions = _fired(
        CAUTIONS,
        {
            "moderate_cirrhosis": inputs.cirrhosis_grade == "moderate",
            # From ruleset 4 a finding is said once: B8 to B9 is a contraindication.
            "child_pugh_b": child_pugh == "B"
            and not (reads_pathology and "child_pugh_b8_b9" in contraindications),
            "albi_grade_3": function is not None and function["albi_grade"] == 3,
            "decompensation_signs": panel is not None
            and (panel.ascites != "none" or panel.encephalopathy != "none")
            and inputs.cirrhosis_grade != "severe",
            "liver_panel_missing": panel is None,
            "adverse_pathology": any(code in ADVERSE_FINDINGS for code in findings),
            "narrow_margin": "narrow_margin" in findings,
            "main_portal_vein": inputs.vascular_invasion == "portal_vein_main",
            "prior_tace": inputs.prior_adjuvant_tace_sessions == 1,
        },
        ruleset,
    )
    risk_level = HIGH if risk_factors else LOW
    codes = {
        "risk_level": risk_level,
        "risk_factors": risk_factors,
        "contraindications": contraindications,
        "cautions": cautions,
        "pathology_findings": findings,
        "prior_adjuvant_tace_sessions": inputs.prior_adjuvant_tace_sessions,
    }
    return Result(
        ruleset=ruleset,
        recommendation=RECOMMENDED
        if risk_level == HIGH and not contraindications
        else NOT_RECOMMENDED,
        **codes,
        rationale=rationale(ruleset=ruleset, **codes),
        liver_function=function,
    )


def rationale(
    *,
    ruleset: str,
    risk_level: str,
    risk_factors: list[str],
    contraindications: list[str],
    cautions: list[str],
    pathology_findings: list[str] = (),
    prior_adjuvant_tace_sessions: int = 0,
    translate=lambda text: text,
) -> list[str]:
    """The sentences of a result, from its codes: one per factor, contraindication and
    caution, then the outcome. translate() gives them in another language; the stored
    rationale is this in English."""
    caution_sentence = caution_sentences(
        ruleset, recommended=risk_level == HIGH and not contraindications
    )
    contraindication_sentence = contraindication_sentences(ruleset)
    sentences = [
        *(RISK_FACTORS[code] for code in risk_factors),
        *(contraindication_sentence[code] for code in contraindications),
        *(caution_sentence[code] for code in cautions),
        OUTCOMES[
            outcome(
                ruleset=ruleset,
                risk_level=risk_level,
                contraindications=contraindications,
                cautions=cautions,
                prior_sessions=prior_adjuvant_tace_sessions,
            )
        ],
    ]
    return [sentence(text, pathology_findings, translate) for text in sentences]


def first_session_window(resection_date: date) -> tuple[date, date]:
    """The usual window for the first adjuvant session (Wei 2018: 4 to 6 weeks); it
    applies to a recommendation of the first session only, never to a second."""
    start, end = FIRST_SESSION_WINDOW_DAYS
    return resection_date + timedelta(days=start), resection_date + timedelta(days=end)


def second_session_window(first_session: date) -> tuple[date, date]:
    """Ruleset 4: the second session's window, 4 to 8 weeks after the first session
    (the protocol's convention, see SECOND_SESSION_WINDOW_DAYS)."""
    start, end = SECOND_SESSION_WINDOW_DAYS
    return first_session + timedelta(days=start), first_session + timedelta(days=end)
