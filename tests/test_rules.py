import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest

from assessments import rules
from assessments.rules import Inputs, evaluate


def inputs(size="3.0", count=1, invasion="none", cirrhosis="none", prior=0):
    return Inputs(Decimal(size), count, invasion, cirrhosis, prior)


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


@pytest.mark.parametrize(
    ("args", "risk", "factors", "contra", "cautions", "recommendation"), WORKED_EXAMPLES
)
def test_worked_examples(args, risk, factors, contra, cautions, recommendation):
    result = evaluate(inputs(*args))
    assert result.ruleset == "1"
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


def test_result_shape():
    assert list(evaluate(inputs()).as_dict()) == [
        "ruleset",
        "recommendation",
        "risk_level",
        "risk_factors",
        "contraindications",
        "cautions",
        "rationale",
    ]


def test_unknown_ruleset_is_refused():
    with pytest.raises(ValueError):
        evaluate(inputs(), ruleset="0")


def test_first_session_window_is_28_to_42_days():
    assert rules.first_session_window(date(2026, 1, 31)) == (date(2026, 2, 28), date(2026, 3, 14))


def test_rules_module_imports_no_django():
    code = "import sys; sys.modules['django'] = None; import assessments.rules"
    subprocess.run([sys.executable, "-c", code], check=True)
