import hashlib
import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
    result = evaluate(inputs(size="6.0", cirrhosis=grade), ruleset="2")
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
    result = evaluate(inputs(count=2, prior=prior), ruleset="2")
    assert result.contraindications == contra
    assert result.cautions == cautions
    assert result.recommendation == recommendation


def test_lists_keep_contract_order():
    result = evaluate(inputs("9.9", 4, "portal_vein_branch", "severe", 3), ruleset="2")
    assert result.risk_factors == ["tumor_gt_5cm", "multiple_tumors", "vascular_invasion"]
    assert result.contraindications == ["severe_cirrhosis", "repeated_tace"]
    result = evaluate(inputs("9.9", 4, "none", "moderate", 1), ruleset="2")
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
    result = evaluate(inputs(*args), ruleset="2")
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
    # In binary floating point, 3.0 x 17.1 is 51.300000000000004 and would score 3.
    assert panel(bili="3.0", bu="mg_dl").bilirubin_umol_l == Decimal("51.3")


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


def test_each_ruleset_emits_its_own_codes_and_those_before_it():
    every = set(rules.RISK_FACTORS) | set(rules.CONTRAINDICATIONS) | set(rules.CAUTIONS)
    ruleset_2 = {"child_pugh_c", "child_pugh_b", "albi_grade_3", "main_portal_vein"}
    ruleset_3 = {"child_pugh_b8_b9", "decompensation_signs", "liver_panel_missing"}
    ruleset_4 = {"adverse_pathology", "narrow_margin"}
    # Ruleset 4 no longer lists one prior session as a caution.
    assert rules.RULESET_CODES["4"] == every - {"prior_tace"}
    every -= ruleset_4
    assert rules.RULESET_CODES["3"] == every
    assert rules.RULESET_CODES["2"] == every - ruleset_3
    assert rules.RULESET_CODES["1"] == every - ruleset_3 - ruleset_2
    assert set(rules.FIRES_WHEN) == every | ruleset_4


RECORDED = Path(__file__).parents[1] / "data" / "results_before_ruleset_3.jsonl"


def recorded_cases():
    """Results of rulesets 1 and 2 over a grid of inputs, recorded before ruleset 3 was
    written: each line holds the inputs and the SHA-256 of the result's JSON."""
    for line in RECORDED.read_text().splitlines():
        yield json.loads(line)


def test_rulesets_1_and_2_reproduce_their_recorded_results():
    cases = list(recorded_cases())
    assert len(cases) == 1680
    for case in cases:
        values = case["panel"]
        given_panel = values and panel(
            values[0], values[2], values[4], values[5], values[6], values[1], values[3]
        )
        result = evaluate(
            inputs(
                case["tumor_size_cm"],
                case["tumor_count"],
                case["vascular_invasion"],
                case["cirrhosis_grade"],
                case["prior_adjuvant_tace_sessions"],
                given_panel or None,
            ),
            ruleset=case["ruleset"],
        ).as_dict()
        canonical = json.dumps(result, sort_keys=True, default=str).encode()
        assert hashlib.sha256(canonical).hexdigest()[:20] == case["sha256"], (case, result)


# Ruleset 3: liver safety and coherent advice


def test_worked_examples_under_ruleset_3_add_only_the_missing_panel():
    for args, risk, factors, contra, cautions, recommendation in WORKED_EXAMPLES:
        result = evaluate(inputs(*args), ruleset="3")
        assert result.ruleset == "3"
        assert (result.risk_level, result.risk_factors) == (risk, factors)
        assert result.contraindications == contra
        assert result.cautions == [*cautions, "liver_panel_missing"]
        assert result.recommendation == recommendation


# Each Child-Pugh score from its five items, no ascites nor encephalopathy so that
# decompensation_signs stays out of it.
CHILD_PUGH_PANELS = {
    6: {"bili": "40"},  # 2+1+1+1+1
    7: {"bili": "40", "alb": "30"},  # 2+2+1+1+1
    8: {"bili": "40", "alb": "30", "inr": "1.8"},  # 2+2+2+1+1
    9: {"bili": "60", "alb": "30", "inr": "1.8"},  # 3+2+2+1+1
    10: {"bili": "60", "alb": "25", "inr": "1.8"},  # 3+3+2+1+1
}


@pytest.mark.parametrize(
    ("score", "b8_b9", "b", "c", "recommendation"),
    [
        (6, False, False, False, "recommended"),
        (7, False, True, False, "recommended"),
        (8, True, True, False, "not_recommended"),
        (9, True, True, False, "not_recommended"),
        (10, False, False, True, "not_recommended"),
    ],
)
def test_child_pugh_b8_b9_is_a_contraindication(score, b8_b9, b, c, recommendation):
    result = evaluate(inputs(size="6.0", panel=panel(**CHILD_PUGH_PANELS[score])), ruleset="3")
    assert result.liver_function["child_pugh_score"] == score
    assert ("child_pugh_b8_b9" in result.contraindications) is b8_b9
    assert ("child_pugh_b" in result.cautions) is b
    assert ("child_pugh_c" in result.contraindications) is c
    assert result.recommendation == recommendation
    # Ruleset 2 knows no B8-B9: the same patient is recommended there unless class C.
    older = evaluate(inputs(size="6.0", panel=panel(**CHILD_PUGH_PANELS[score])), ruleset="2")
    assert "child_pugh_b8_b9" not in older.contraindications
    assert older.recommendation == ("not_recommended" if c else "recommended")


@pytest.mark.parametrize("grade", list(rules.CIRRHOSIS_GRADES))
@pytest.mark.parametrize("enceph", list(rules.ENCEPHALOPATHY))
@pytest.mark.parametrize("ascites", list(rules.ASCITES))
def test_decompensation_signs(ascites, enceph, grade):
    result = evaluate(
        inputs(size="6.0", cirrhosis=grade, panel=panel(ascites=ascites, enceph=enceph)),
        ruleset="3",
    )
    signs = ascites != "none" or enceph != "none"
    assert ("decompensation_signs" in result.cautions) is (signs and grade != "severe")
    assert (
        "decompensation_signs"
        not in evaluate(
            inputs(size="6.0", cirrhosis=grade, panel=panel(ascites=ascites, enceph=enceph)),
            ruleset="2",
        ).cautions
    )


@pytest.mark.parametrize(("given_panel", "fires"), [(None, True), (panel(), False)])
def test_liver_panel_missing(given_panel, fires):
    result = evaluate(inputs(size="6.0", panel=given_panel), ruleset="3")
    assert ("liver_panel_missing" in result.cautions) is fires
    assert result.recommendation == "recommended"  # a caution: the recommendation stands
    assert "liver_panel_missing" not in evaluate(inputs(size="6.0"), ruleset="2").cautions


def test_decompensated_by_the_panel_with_no_cirrhosis_is_not_recommended():
    """Child-Pugh B9 from moderate-to-severe ascites and grade 3-4 encephalopathy, the
    grade saying no cirrhosis: ruleset 2 recommended TACE; ruleset 3 does not."""
    given = inputs(size="6.0", panel=panel(ascites="moderate_severe", enceph="grade_3_4"))
    assert evaluate(given, ruleset="2").recommendation == "recommended"
    result = evaluate(given, ruleset="3")
    assert result.liver_function["child_pugh_score"] == 9
    assert result.contraindications == ["child_pugh_b8_b9"]
    assert result.cautions == ["child_pugh_b", "decompensation_signs"]
    assert result.recommendation == "not_recommended"


def test_ruleset_3_list_order():
    result = evaluate(
        inputs(
            "9.9",
            4,
            "portal_vein_main",
            "moderate",
            1,
            panel(bili="60", alb="30", inr="1.8", ascites="mild"),  # 3+2+2+2+1 = 10
        ),
        ruleset="3",
    )
    assert result.contraindications == ["child_pugh_c"]
    assert result.cautions == [
        "moderate_cirrhosis",
        "albi_grade_3",
        "decompensation_signs",
        "main_portal_vein",
        "prior_tace",
    ]
    result = evaluate(
        inputs("9.9", 4, "portal_vein_main", "severe", 2, panel(bili="40", alb="30", inr="1.8")),
        ruleset="3",
    )
    assert result.contraindications == ["severe_cirrhosis", "child_pugh_b8_b9", "repeated_tace"]
    assert result.cautions == ["child_pugh_b", "main_portal_vein"]
    result = evaluate(inputs("9.9", 4, "none", "moderate", 1), ruleset="3")
    assert result.cautions == ["moderate_cirrhosis", "liver_panel_missing", "prior_tace"]


@pytest.mark.parametrize(
    ("args", "outcome"),
    [
        (("3.0", 2, "none", "severe", 2), "course_complete"),
        (("3.0", 1, "none", "severe", 0), "low_risk_contraindicated"),
        (("3.0", 1, "none", "none", 0), "low_risk"),
        (("3.0", 2, "none", "severe", 0), "contraindicated"),
        (("3.0", 2, "none", "none", 1), "second_session"),
        (("3.0", 2, "none", "none", 0), "first_session"),
    ],
)
def test_ruleset_3_one_outcome_sentence_in_order(args, outcome):
    result = evaluate(inputs(*args), ruleset="3")
    assert result.rationale[-1] == rules.OUTCOMES[outcome]
    outcomes = set(rules.OUTCOMES.values())
    assert [s for s in result.rationale if s in outcomes] == [rules.OUTCOMES[outcome]]


def test_child_pugh_c_at_low_risk_reads_as_one_piece_of_advice():
    given = inputs(panel=panel(**CHILD_PUGH_PANELS[10]))
    old = evaluate(given, ruleset="2").rationale
    assert any("weigh the harm" in s for s in old)
    assert any("routine surveillance" in s for s in old)
    result = evaluate(given, ruleset="3")
    assert result.contraindications == ["child_pugh_c"]
    assert result.cautions == ["albi_grade_3"]
    assert result.rationale == [
        rules.CONTRAINDICATIONS["child_pugh_c"],
        rules.CAUTION_FINDINGS["albi_grade_3"],
        rules.OUTCOMES["low_risk_contraindicated"],
    ]


# Phrases of each kind of advice: one rationale never holds two that disagree.
ADVICE_TO_GIVE_TACE = (
    "weigh the harm of TACE",
    "carefully before TACE",
    "patent before TACE",
    "is recommended",
    "must be known before TACE",
)
ADVICE_AGAINST = ("surveillance", "not indicated", "ruled out by", "no further adjuvant")

panels = st.builds(
    panel,
    bili=st.sampled_from(["10", "34.2", "40", "51.4", "60", "200"]),
    alb=st.sampled_from(["45", "35", "30", "27.9"]),
    inr=st.sampled_from(["1.0", "1.8", "2.4"]),
    ascites=st.sampled_from(list(rules.ASCITES)),
    enceph=st.sampled_from(list(rules.ENCEPHALOPATHY)),
)


@given(
    size=st.sampled_from(["3.0", "5.0", "5.1", "12.0"]),
    count=st.integers(1, 5),
    invasion=st.sampled_from(list(rules.VASCULAR_INVASION)),
    cirrhosis=st.sampled_from(list(rules.CIRRHOSIS_GRADES)),
    prior=st.integers(0, 3),
    given_panel=st.none() | panels,
)
def test_ruleset_3_never_contradicts_itself(size, count, invasion, cirrhosis, prior, given_panel):
    result = evaluate(inputs(size, count, invasion, cirrhosis, prior, given_panel), ruleset="3")
    text = " ".join(result.rationale)
    if result.recommendation == "recommended":
        assert not any(phrase in text for phrase in ADVICE_AGAINST), text
    else:
        assert not any(phrase in text for phrase in ADVICE_TO_GIVE_TACE), text
