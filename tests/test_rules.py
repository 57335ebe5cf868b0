import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest

from assessments import rules
from assessments.rules import Inputs, LiverPanel, evaluate


def inputs(size="3.0", count=1, invasion="none", cirrhosis="none", prior=0, panel=None):
    return Inputs(Decimal(size), count, invasion, cirrhosis, prior, panel)


# The worked examples of clinical-rules.md, row by row.
WORKED_EXAMPLES = [
    (("3.0", 1, "none", "mild", 0), "low", [], [], [], "not_recommended"),
    (("5.0", 1, "none", "none", 0), "low", [], [], [], "not_recommended"),
    (("5.1", 1, "none", "none", 0), "high", ["tumor_gt_5cm"], [], [], "recommended"),
    (
        ("2.0", 3, "none", "moderate", 0),
        "high",
        ["multiple_tumors"],
        [],
        ["moderate_cirrhosis"],
        "recommended",
    ),
    (
        ("4.0", 1, "microvascular", "severe", 0),
        "high",
        ["vascular_invasion"],
        ["severe_cirrhosis"],
        [],
        "not_recommended",
    ),
    (
        ("7.5", 2, "portal_vein_branch", "none", 2),
        "high",
        ["tumor_gt_5cm", "multiple_tumors", "vascular_invasion"],
        ["repeated_tace"],
        [],
        "not_recommended",
    ),
]


@pytest.mark.parametrize("ruleset", ["1", "2"])
@pytest.mark.parametrize(
    ("args", "risk", "factors", "contra", "cautions", "recommendation"), WORKED_EXAMPLES
)
def test_worked_examples(ruleset, args, risk, factors, contra, cautions, recommendation):
    result = evaluate(inputs(*args), ruleset=ruleset)
    assert result.ruleset == ruleset
    assert result.risk_level == risk
    assert result.risk_factors == factors
    assert result.contraindications == contra
    assert result.cautions == cautions
    assert result.recommendation == recommendation


@pytest.mark.parametrize(
    ("size", "fires"),
    [("0.1", False), ("4.9", False), ("5.0", False), ("5.1", True), ("30.0", True)],
)
def test_size_threshold(size, fires):
    assert ("tumor_gt_5cm" in evaluate(inputs(size=size)).risk_factors) is fires


@pytest.mark.parametrize(("count", "fires"), [(1, False), (2, True), (50, True)])
def test_count_threshold(count, fires):
    assert ("multiple_tumors" in evaluate(inputs(count=count)).risk_factors) is fires


@pytest.mark.parametrize(
    ("invasion", "fires"),
    [("none", False), ("microvascular", True), ("portal_vein_branch", True)],
)
def test_vascular_invasion(invasion, fires):
    assert ("vascular_invasion" in evaluate(inputs(invasion=invasion)).risk_factors) is fires


@pytest.mark.parametrize(
    ("grade", "contra", "cautions"),
    [
        ("none", [], []),
        ("mild", [], []),
        ("moderate", [], ["moderate_cirrhosis"]),
        ("severe", ["severe_cirrhosis"], []),
    ],
)
def test_cirrhosis_grades(grade, contra, cautions):
    result = evaluate(inputs(size="6.0", cirrhosis=grade))
    assert result.contraindications == contra
    assert result.cautions == cautions
    assert result.recommendation == ("not_recommended" if contra else "recommended")


@pytest.mark.parametrize(
    ("prior", "contra", "cautions", "recommendation"),
    [
        (0, [], [], "recommended"),
        (1, [], ["prior_tace"], "recommended"),
        (2, ["repeated_tace"], [], "not_recommended"),
        (10, ["repeated_tace"], [], "not_recommended"),
    ],
)
def test_prior_sessions(prior, contra, cautions, recommendation):
    result = evaluate(inputs(count=2, prior=prior))
    assert result.contraindications == contra
    assert result.cautions == cautions
    assert result.recommendation == recommendation


def test_lists_keep_contract_order():
    result = evaluate(inputs("9.9", 4, "portal_vein_branch", "severe", 3))
    assert result.risk_factors == ["tumor_gt_5cm", "multiple_tumors", "vascular_invasion"]
    assert result.contraindications == ["severe_cirrhosis", "repeated_tace"]
    result = evaluate(inputs("9.9", 4, "none", "moderate", 1))
    assert result.cautions == ["moderate_cirrhosis", "prior_tace"]


@pytest.mark.parametrize(
    ("args", "outcome"),
    [
        (("3.0", 1, "none", "none", 0), "low_risk"),
        (("3.0", 1, "microvascular", "severe", 0), "contraindicated"),
        (("3.0", 2, "none", "none", 0), "first_session"),
        (("3.0", 2, "none", "none", 1), "second_session"),
        (("3.0", 2, "none", "none", 2), "course_complete"),
    ],
)
def test_rationale_one_sentence_per_code_and_outcome(args, outcome):
    result = evaluate(inputs(*args))
    fired = [
        *(rules.RISK_FACTORS[c] for c in result.risk_factors),
        *(rules.CONTRAINDICATIONS[c] for c in result.contraindications),
        *(rules.CAUTIONS[c] for c in result.cautions),
    ]
    assert result.rationale == [*fired, rules.OUTCOMES[outcome]]


RULESET_1_KEYS = [
    "ruleset",
    "recommendation",
    "risk_level",
    "risk_factors",
    "contraindications",
    "cautions",
    "rationale",
]


def test_result_shape():
    assert list(evaluate(inputs(), ruleset="1").as_dict()) == RULESET_1_KEYS
    result = evaluate(inputs(), ruleset="2").as_dict()
    assert list(result) == [*RULESET_1_KEYS, "liver_function"]
    assert result["liver_function"] is None


@pytest.mark.parametrize("case", ["panel", "main"])
def test_ruleset_1_refuses_ruleset_2_inputs(case):
    given = inputs(panel=panel()) if case == "panel" else inputs(invasion="portal_vein_main")
    with pytest.raises(ValueError):
        evaluate(given, ruleset="1")


def test_unknown_ruleset_is_refused():
    with pytest.raises(ValueError):
        evaluate(inputs(), ruleset="0")


def test_first_session_window_is_28_to_42_days():
    assert rules.first_session_window(date(2026, 1, 31)) == (date(2026, 2, 28), date(2026, 3, 14))


def test_rules_module_imports_no_django():
    code = "import sys; sys.modules['django'] = None; import assessments.rules"
    subprocess.run([sys.executable, "-c", code], check=True)


# Ruleset 2: the liver-function panel


def panel(bili="10", alb="40", inr="1.0", ascites="none", enceph="none", bu="umol_l", au="g_l"):
    return LiverPanel(Decimal(bili), Decimal(alb), Decimal(inr), ascites, enceph, bu, au)


def points(**kwargs):
    return rules.child_pugh_points(panel(**kwargs))


@pytest.mark.parametrize(
    ("bili", "unit", "expected"),
    [
        ("34.1", "umol_l", 1),
        ("34.2", "umol_l", 2),
        ("51.3", "umol_l", 2),
        ("51.4", "umol_l", 3),
        ("1.99", "mg_dl", 1),  # 34.029
        ("2.0", "mg_dl", 2),  # 34.2 exactly
        ("3.0", "mg_dl", 2),  # 51.3 exactly: the float trap would score 3
        ("3.01", "mg_dl", 3),  # 51.471
    ],
)
def test_child_pugh_bilirubin_bands(bili, unit, expected):
    assert points(bili=bili, bu=unit)["bilirubin"] == expected


def test_float_trap():
    assert panel(bili="3.0", bu="mg_dl").bilirubin_umol_l == Decimal("51.3")
    assert 3.0 * 17.1 != 51.3  # why Decimal: in floats this is 51.300000000000004


@pytest.mark.parametrize(
    ("alb", "unit", "expected"),
    [
        ("35.1", "g_l", 1),
        ("35", "g_l", 2),
        ("28", "g_l", 2),
        ("27.9", "g_l", 3),
        ("3.51", "g_dl", 1),
        ("3.5", "g_dl", 2),
        ("2.8", "g_dl", 2),
        ("2.79", "g_dl", 3),
    ],
)
def test_child_pugh_albumin_bands(alb, unit, expected):
    assert points(alb=alb, au=unit)["albumin"] == expected


@pytest.mark.parametrize(("inr", "expected"), [("1.69", 1), ("1.7", 2), ("2.3", 2), ("2.31", 3)])
def test_child_pugh_inr_bands(inr, expected):
    assert points(inr=inr)["inr"] == expected


@pytest.mark.parametrize(
    ("ascites", "enceph", "expected"),
    [
        ("none", "none", (1, 1)),
        ("mild", "grade_1_2", (2, 2)),
        ("moderate_severe", "grade_3_4", (3, 3)),
    ],
)
def test_child_pugh_ascites_and_encephalopathy(ascites, enceph, expected):
    result = points(ascites=ascites, enceph=enceph)
    assert (result["ascites"], result["encephalopathy"]) == expected


@pytest.mark.parametrize(
    ("score", "expected"), [(5, "A"), (6, "A"), (7, "B"), (9, "B"), (10, "C"), (15, "C")]
)
def test_child_pugh_classes(score, expected):
    assert rules.child_pugh_class(score) == expected


def test_albi_check_value():
    function = rules.liver_function(panel(bili="20.52", alb="35"))
    assert function["albi_score"] == Decimal("-2.109")
    assert function["albi_grade"] == 2


@pytest.mark.parametrize(
    ("score", "grade"),
    [("-2.61", 1), ("-2.60", 1), ("-2.599", 2), ("-1.39", 2), ("-1.389", 3), ("0", 3)],
)
def test_albi_grade_cutoffs(score, grade):
    assert rules.albi_grade(Decimal(score)) == grade


def albumin_for_albi(target: str, bili: str = "20") -> Decimal:
    """The albumin (g/L) that puts ALBI exactly at target for this bilirubin."""
    log = Decimal(bili).log10()
    return (Decimal("0.66") * log - Decimal(target)) / Decimal("0.085")


@pytest.mark.parametrize(("nudge", "grade"), [(Decimal("0.0001"), 1), (Decimal("-0.0001"), 2)])
def test_albi_grade_1_boundary_through_the_formula(nudge, grade):
    # More albumin lowers ALBI: a nudge up makes the score just below -2.60.
    albumin = albumin_for_albi("-2.60") + nudge
    assert rules.liver_function(panel(bili="20", alb=str(albumin)))["albi_grade"] == grade


@pytest.mark.parametrize(("nudge", "grade"), [(Decimal("0.0001"), 2), (Decimal("-0.0001"), 3)])
def test_albi_grade_2_boundary_through_the_formula(nudge, grade):
    albumin = albumin_for_albi("-1.39") + nudge
    assert rules.liver_function(panel(bili="20", alb=str(albumin)))["albi_grade"] == grade


def test_liver_function_in_both_units_agrees():
    si = rules.liver_function(panel(bili="51.3", alb="30"))
    conventional = rules.liver_function(panel(bili="3.0", alb="3.0", bu="mg_dl", au="g_dl"))
    assert si == conventional


@pytest.mark.parametrize(
    ("kwargs", "contra", "cautions", "klass"),
    [
        ({}, [], [], "A"),
        ({"bili": "40", "ascites": "mild"}, [], ["child_pugh_b"], "B"),  # 2+1+1+2+1 = 7
        (
            {"bili": "60", "alb": "25", "ascites": "mild", "enceph": "grade_1_2"},
            ["child_pugh_c"],
            ["albi_grade_3"],
            "C",
        ),  # 3+3+1+2+2 = 11
    ],
)
def test_child_pugh_and_albi_codes(kwargs, contra, cautions, klass):
    result = evaluate(inputs(size="6.0", panel=panel(**kwargs)), ruleset="2")
    assert result.liver_function["child_pugh_class"] == klass
    assert result.contraindications == contra
    assert result.cautions == cautions
    assert result.recommendation == ("not_recommended" if contra else "recommended")


def test_albi_grade_3_alone_is_a_caution():
    # Child-Pugh A (1+2+1+1+1 = 6) but ALBI 0.66*log10(34.1) - 0.085*28 = -1.368: grade 3
    result = evaluate(inputs(size="6.0", panel=panel(bili="34.1", alb="28")), ruleset="2")
    assert result.liver_function["child_pugh_class"] == "A"
    assert result.liver_function["albi_grade"] == 3
    assert result.cautions == ["albi_grade_3"]
    assert result.recommendation == "recommended"


def test_portal_vein_main():
    result = evaluate(inputs(invasion="portal_vein_main"), ruleset="2")
    assert result.risk_factors == ["vascular_invasion"]
    assert result.cautions == ["main_portal_vein"]
    assert result.recommendation == "recommended"


def test_ruleset_2_list_order():
    result = evaluate(
        inputs(
            "9.9",
            4,
            "portal_vein_main",
            "severe",
            1,
            panel(bili="60", alb="25", ascites="mild", enceph="grade_1_2"),
        ),
        ruleset="2",
    )
    assert result.contraindications == ["severe_cirrhosis", "child_pugh_c"]
    assert result.cautions == ["albi_grade_3", "main_portal_vein", "prior_tace"]
    result = evaluate(
        inputs("9.9", 4, "portal_vein_main", "moderate", 3, panel(bili="40", ascites="mild")),
        ruleset="2",
    )
    assert result.contraindications == ["repeated_tace"]
    assert result.cautions == ["moderate_cirrhosis", "child_pugh_b", "main_portal_vein"]


def test_every_code_has_a_sentence_and_a_ruleset():
    every = set(rules.RISK_FACTORS) | set(rules.CONTRAINDICATIONS) | set(rules.CAUTIONS)
    assert rules.RULESET_CODES["2"] == every
    assert rules.RULESET_CODES["1"] == every - {
        "child_pugh_c",
        "child_pugh_b",
        "albi_grade_3",
        "main_portal_vein",
    }
