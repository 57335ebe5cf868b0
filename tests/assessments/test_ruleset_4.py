"""Ruleset 4: the pathology findings are read, never silently ignored (clinical-rules.md)."""

import io
import json
import sys
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from assessments import rules
from assessments.forms import RULESET_FORMS, JsonValidator
from assessments.rules import Inputs, LiverPanel, Pathology, evaluate

MVI_REFUSAL = (
    "The MVI grade records microvascular invasion: choose Microvascular (or a portal vein "
    "thrombus) under Vascular invasion, or correct the grade."
)


def inputs(size="3.2", count=1, invasion="none", cirrhosis="none", prior=0, panel=None, **found):
    afp = {k: Decimal(v) for k, v in found.items() if k.startswith("afp") and v is not None}
    return Inputs(
        Decimal(size), count, invasion, cirrhosis, prior, panel, Pathology(**{**found, **afp})
    )


def panel(bili="20", alb="40", inr="1.0", ascites="none", enceph="none"):
    return LiverPanel(Decimal(bili), Decimal(alb), Decimal(inr), ascites, enceph)


GOOD_PANEL = panel()


# Each finding on both sides: (findings given, pathology_findings, adverse_pathology fires)
@pytest.mark.parametrize(
    ("found", "findings"),
    [
        ({}, []),
        ({"resection_margin": "ge_1cm"}, []),
        ({"resection_margin": "lt_1cm"}, ["narrow_margin"]),
        ({"resection_margin": "r1"}, ["r1_margin"]),
        ({"satellite_nodules": "no"}, []),
        ({"satellite_nodules": "yes"}, ["satellite_nodules"]),
        ({"tumor_rupture": "no"}, []),
        ({"tumor_rupture": "yes"}, ["tumor_rupture"]),
        ({"mvi_grade": "m1"}, []),
        ({"mvi_grade": "m2"}, ["mvi_m2"]),
        ({"afp_after_ng_ml": "20"}, []),  # 20 itself has normalised
        ({"afp_after_ng_ml": "20.1"}, ["afp_not_normalised"]),
        ({"afp_after_ng_ml": "0"}, []),
        ({"afp_before_ng_ml": "1200"}, []),  # before surgery alone says nothing
    ],
)
def test_each_finding_on_both_sides(found, findings):
    invasion = "microvascular" if found.get("mvi_grade") in ("m1", "m2") else "none"
    result = evaluate(inputs(invasion=invasion, panel=GOOD_PANEL, **found), ruleset="4")
    assert result.pathology_findings == findings
    adverse = [f for f in findings if f != "narrow_margin"]
    assert ("adverse_pathology" in result.cautions) is bool(adverse)
    assert ("narrow_margin" in result.cautions) is ("narrow_margin" in findings)
    assert result.as_dict()["pathology_findings"] == findings


ALL_ADVERSE = {
    "resection_margin": "r1",
    "satellite_nodules": "yes",
    "tumor_rupture": "yes",
    "mvi_grade": "m2",
    "afp_before_ng_ml": "1200",
    "afp_after_ng_ml": "850",
}


def test_the_surgeons_case_no_longer_reassures():
    """3.2 cm, single, R1, M2, satellites, rupture, AFP 1200 -> 850: with vascular invasion
    recorded as the MVI grade says, high risk; the findings are named in order."""
    result = evaluate(inputs(invasion="microvascular", **ALL_ADVERSE), ruleset="4")
    assert result.pathology_findings == [
        "r1_margin",
        "satellite_nodules",
        "tumor_rupture",
        "mvi_m2",
        "afp_not_normalised",
    ]
    assert result.cautions == ["liver_panel_missing", "adverse_pathology"]
    assert result.recommendation == "recommended"
    assert (
        "The pathology records adverse findings (R1 resection margin, satellite nodules, tumor "
        "rupture, MVI grade M2, AFP above 20 ng/mL after surgery)" in result.rationale[2]
    )
    assert not any("routine surveillance" in sentence for sentence in result.rationale)


@pytest.mark.parametrize("contraindicated", [False, True])
def test_low_risk_with_adverse_pathology_refuses_to_reassure(contraindicated):
    cirrhosis = "severe" if contraindicated else "none"
    result = evaluate(
        inputs(cirrhosis=cirrhosis, panel=GOOD_PANEL, resection_margin="r1", tumor_rupture="yes"),
        ruleset="4",
    )
    assert (result.risk_level, result.recommendation) == ("low", "not_recommended")
    assert result.contraindications == (["severe_cirrhosis"] if contraindicated else [])
    assert result.rationale[-1] == (
        "None of the three scored risk factors is present, but the pathology records adverse "
        "findings (R1 resection margin, tumor rupture): adjuvant treatment, TACE included, is a "
        "decision for the multidisciplinary meeting, and surveillance must not be less close "
        "than for a high-risk patient."
    )
    assert not any("surveillance." in s and "routine" in s for s in result.rationale)


@pytest.mark.parametrize(
    ("found", "outcome"),
    [
        ({}, "low_risk"),
        ({"resection_margin": "lt_1cm"}, "low_risk"),  # shown; it changes nothing
        ({"resection_margin": "ge_1cm", "mvi_grade": "m0"}, "low_risk"),
        ({"afp_after_ng_ml": "20"}, "low_risk"),
        ({"afp_after_ng_ml": "21"}, "low_risk_adverse_pathology"),
    ],
)
def test_the_low_risk_sentence_changes_only_with_adverse_pathology(found, outcome):
    result = evaluate(inputs(panel=GOOD_PANEL, **found), ruleset="4")
    assert result.rationale[-1] == rules.sentence(
        rules.OUTCOMES[outcome], result.pathology_findings
    )


def test_ruleset_3_reads_no_pathology():
    with_findings = evaluate(inputs(invasion="microvascular", **ALL_ADVERSE), ruleset="3")
    without = evaluate(inputs(invasion="microvascular"), ruleset="3")
    assert with_findings == without
    assert "pathology_findings" not in with_findings.as_dict()


# Consistency of the MVI grade with the vascular invasion: every pair.
@pytest.mark.parametrize(
    ("invasion", "grade", "refused"),
    [
        ("none", "", False),
        ("none", "m0", False),
        ("none", "m1", True),
        ("none", "m2", True),
        ("microvascular", "", False),
        ("microvascular", "m0", True),
        ("microvascular", "m1", False),
        ("microvascular", "m2", False),
        ("portal_vein_branch", "m0", False),
        ("portal_vein_branch", "m1", False),
        ("portal_vein_branch", "m2", False),
        ("portal_vein_main", "m0", False),
        ("portal_vein_main", "m2", False),
    ],
)
def test_mvi_grade_and_vascular_invasion_pairs(invasion, grade, refused):
    data = {
        "tumor_size_cm": "3.2",
        "tumor_count": 1,
        "vascular_invasion": invasion,
        "cirrhosis_grade": "none",
    }
    if grade:
        data["mvi_grade"] = grade
    form, errors = JsonValidator(RULESET_FORMS["4"])(data)
    if refused:
        assert set(errors) == {"vascular_invasion", "mvi_grade"}
        assert errors["vascular_invasion"] == errors["mvi_grade"]
        if grade != "m0":
            assert errors["mvi_grade"] == [MVI_REFUSAL]
        else:
            assert "M0" in errors["mvi_grade"][0]
        with pytest.raises(ValueError):
            evaluate(inputs(invasion=invasion, mvi_grade=grade), ruleset="4")
    else:
        assert errors == {}
        evaluate(rules.Inputs.from_data(form.cleaned_data), ruleset="4")


def test_afp_after_without_before_is_not_refused():
    form, errors = JsonValidator(RULESET_FORMS["4"])(
        {
            "tumor_size_cm": "3.2",
            "tumor_count": 1,
            "vascular_invasion": "none",
            "cirrhosis_grade": "none",
            "afp_after_ng_ml": 25,
        }
    )
    assert errors == {}
    result = evaluate(rules.Inputs.from_data(form.cleaned_data), ruleset="4")
    assert result.pathology_findings == ["afp_not_normalised"]


# One finding said once


@pytest.mark.parametrize(
    ("bili", "alb", "score", "ruleset", "contra", "b_caution"),
    [
        ("40", "40", 6, "4", [], False),  # A6
        ("40", "30", 7, "4", [], True),  # B7: a caution
        ("40", "30", 7, "3", [], True),
        ("60", "30", 8, "4", ["child_pugh_b8_b9"], False),  # B8: the contraindication alone
        ("60", "30", 8, "3", ["child_pugh_b8_b9"], True),  # ruleset 3 fired both
    ],
)
def test_child_pugh_b_is_not_given_beside_b8_b9(bili, alb, score, ruleset, contra, b_caution):
    result = evaluate(inputs(size="6.0", panel=panel(bili=bili, alb=alb)), ruleset=ruleset)
    assert result.liver_function["child_pugh_score"] == score
    assert result.contraindications == contra
    assert ("child_pugh_b" in result.cautions) is b_caution
    assert not set(result.cautions) & set(result.contraindications)


@pytest.mark.parametrize(
    ("prior", "outcome", "contra"),
    [
        (0, "first_session", []),
        (1, "second_session_after_one", []),
        (2, "course_complete", ["repeated_tace"]),
    ],
)
def test_one_prior_session_is_a_fact_not_a_caution(prior, outcome, contra):
    result = evaluate(inputs(size="6.0", prior=prior, panel=GOOD_PANEL), ruleset="4")
    assert "prior_tace" not in result.cautions
    assert result.cautions == []
    assert result.contraindications == contra
    assert result.rationale[-1] == rules.OUTCOMES[outcome]
    under_3 = evaluate(inputs(size="6.0", prior=prior, panel=GOOD_PANEL), ruleset="3")
    assert ("prior_tace" in under_3.cautions) is (prior == 1)


def test_two_prior_sessions_say_the_course_is_one_to_two_sessions():
    result = evaluate(inputs(size="6.0", prior=2, panel=GOOD_PANEL), ruleset="4")
    assert "the adjuvant course is one to two sessions" in result.rationale[1]
    assert not any("damage liver function" in sentence for sentence in result.rationale)
    # Ruleset 3 keeps the sentence it gave.
    under_3 = evaluate(inputs(size="6.0", prior=2, panel=GOOD_PANEL), ruleset="3")
    assert "more would damage liver function" in under_3.rationale[1]


@pytest.mark.parametrize(
    ("given_panel", "cautions"),
    [
        # B8 (2+2+1+2+1): the contraindication, so no child_pugh_b
        (
            panel(bili="40", alb="30", ascites="mild"),
            ["moderate_cirrhosis", "decompensation_signs", "adverse_pathology", "narrow_margin"],
        ),
        # B7 (2+2+1+1+1) with ALBI grade 3 (-1.289)
        (
            panel(bili="45", alb="28"),
            ["moderate_cirrhosis", "child_pugh_b", "albi_grade_3", "adverse_pathology"],
        ),
        (None, ["moderate_cirrhosis", "liver_panel_missing", "adverse_pathology"]),
    ],
)
def test_caution_order(given_panel, cautions):
    result = evaluate(
        inputs(
            "6.0",
            1,
            "portal_vein_main",
            "moderate",
            0,
            given_panel,
            resection_margin="lt_1cm",
            tumor_rupture="yes",
        ),
        ruleset="4",
    )
    narrow = ["narrow_margin"] if "narrow_margin" not in cautions else []
    assert result.cautions == [*cautions, *narrow, "main_portal_vein"]
    assert result.pathology_findings == ["tumor_rupture", "narrow_margin"]


def test_second_session_window_is_4_to_8_weeks_after_the_first():
    assert rules.second_session_window(date(2026, 3, 1)) == (date(2026, 3, 29), date(2026, 4, 26))


# The command line: the form's names and codes, the same strict JSON typing


def run(monkeypatch, text: str, *args) -> tuple[int, list[dict]]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    out = io.StringIO()
    try:
        call_command("recommend", *args, stdout=out)
        code = 0
    except SystemExit as exit:
        code = exit.code
    return code, [json.loads(line) for line in out.getvalue().splitlines() if line]


BASE = {"tumor_size_cm": 3.2, "tumor_count": 1, "vascular_invasion": "none"}


@pytest.mark.parametrize(
    ("extra", "bad"),
    [
        ({"resection_margin": "R1"}, "resection_margin"),
        ({"resection_margin": ""}, "resection_margin"),
        ({"satellite_nodules": True}, "satellite_nodules"),
        ({"tumor_rupture": "y"}, "tumor_rupture"),
        ({"mvi_grade": 2}, "mvi_grade"),
        ({"afp_after_ng_ml": "８５"}, "afp_after_ng_ml"),
        ({"afp_after_ng_ml": "8,5"}, "afp_after_ng_ml"),
        ({"afp_after_ng_ml": -1}, "afp_after_ng_ml"),
        ({"afp_before_ng_ml": 1000001}, "afp_before_ng_ml"),
        ({"afp_before_ng_ml": [1]}, "afp_before_ng_ml"),
        ({"afp_before_ng_ml": "NaN"}, "afp_before_ng_ml"),
    ],
)
def test_recommend_refuses_bad_pathology_naming_the_field(monkeypatch, extra, bad):
    line = json.dumps({**BASE, "cirrhosis_grade": "none", **extra}, ensure_ascii=False)
    good = json.dumps({**BASE, "cirrhosis_grade": "none", "afp_after_ng_ml": 1000000})
    code, out = run(monkeypatch, f"{line}\n{good}\n", "--jsonl", "--ruleset", "4")
    assert code == 2
    assert list(out[0]["errors"]) == [bad]
    assert out[1]["pathology_findings"] == ["afp_not_normalised"]


def test_recommend_takes_pathology_only_under_ruleset_4(monkeypatch):
    line = json.dumps({**BASE, "cirrhosis_grade": "none", "resection_margin": "r1"})
    code, (result,) = run(monkeypatch, line, "--ruleset", "4")
    assert code == 0
    assert result["cautions"] == ["liver_panel_missing", "adverse_pathology"]
    assert result["pathology_findings"] == ["r1_margin"]
    code, (result,) = run(monkeypatch, line)  # the default is the newest
    assert result["ruleset"] == "4"
    code, (result,) = run(monkeypatch, line, "--ruleset", "3")
    assert code == 2
    assert result == {"errors": {"resection_margin": ["Unknown field."]}}


def test_recommend_refuses_the_mvi_pair_on_both_fields(monkeypatch):
    line = json.dumps({**BASE, "cirrhosis_grade": "none", "mvi_grade": "m1"})
    code, (result,) = run(monkeypatch, line, "--ruleset", "4")
    assert code == 2
    assert result == {"errors": {"vascular_invasion": [MVI_REFUSAL], "mvi_grade": [MVI_REFUSAL]}}


def test_recommend_names_the_findings_in_chinese(monkeypatch):
    line = json.dumps({**BASE, "cirrhosis_grade": "none", "tumor_rupture": "yes"})
    code, (result,) = run(monkeypatch, line, "--ruleset", "4", "--language", "zh-hans")
    assert code == 0
    assert "肿瘤破裂" in result["rationale"][-1]
    assert result["pathology_findings"] == ["tumor_rupture"]
