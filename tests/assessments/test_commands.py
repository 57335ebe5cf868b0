import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tests.assessments.test_rules import WORKED_EXAMPLES


def recommend(monkeypatch, text, *args):
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    out = io.StringIO()
    try:
        call_command("recommend", *args, stdout=out)
        code = 0
    except SystemExit as exit:
        code = exit.code
    return code, out.getvalue()


def as_input(size, count, invasion, cirrhosis, prior):
    return {
        "tumor_size_cm": size,
        "tumor_count": count,
        "vascular_invasion": invasion,
        "cirrhosis_grade": cirrhosis,
        "prior_adjuvant_tace_sessions": prior,
    }


@pytest.mark.parametrize("ruleset", ["1", "2"])
@pytest.mark.parametrize(
    ("args", "risk", "factors", "contra", "cautions", "recommendation"), WORKED_EXAMPLES
)
def test_worked_examples(
    monkeypatch, ruleset, args, risk, factors, contra, cautions, recommendation
):
    code, out = recommend(monkeypatch, json.dumps(as_input(*args)), "--ruleset", ruleset)
    assert code == 0
    result = json.loads(out)
    assert result["ruleset"] == ruleset
    assert ("liver_function" in result) is (ruleset == "2")
    assert result["recommendation"] == recommendation
    assert result["risk_level"] == risk
    assert result["risk_factors"] == factors
    assert result["contraindications"] == contra
    assert result["cautions"] == cautions
    assert len(result["rationale"]) == len(factors) + len(contra) + len(cautions) + 1


def test_numbers_may_be_json_numbers(monkeypatch):
    text = '{"tumor_size_cm": 5.1, "tumor_count": 1, "vascular_invasion": "none",'
    text += ' "cirrhosis_grade": "none"}'
    code, out = recommend(monkeypatch, text)
    assert code == 0
    assert json.loads(out)["risk_factors"] == ["tumor_gt_5cm"]


def test_invalid_input_names_each_field_and_exits_2(monkeypatch):
    bad = as_input("31", "0", "none", "terrible", 0) | {"colour": "blue"}
    code, out = recommend(monkeypatch, json.dumps(bad))
    assert code == 2
    errors = json.loads(out)["errors"]
    assert set(errors) == {"tumor_size_cm", "tumor_count", "cirrhosis_grade", "colour"}
    assert errors["tumor_size_cm"] == ["Enter a value between 0.1 and 30.0 cm."]
    assert errors["colour"] == ["Unknown field."]


@pytest.mark.parametrize("text", ["", "not json", "{", "[1, 2]"])
def test_non_json_or_non_object(monkeypatch, text):
    code, out = recommend(monkeypatch, text)
    assert code == 2
    assert list(json.loads(out)["errors"]) == ["__all__"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_and_huge_numbers_are_refused(monkeypatch, number):
    text = json.dumps(as_input("SIZE", 1, "none", "none", 0)).replace('"SIZE"', number)
    code, out = recommend(monkeypatch, text)
    assert code == 2
    assert list(json.loads(out)["errors"]) == ["tumor_size_cm"]


def test_jsonl_one_line_out_per_line_in(monkeypatch):
    lines = [
        json.dumps(as_input("5.1", 1, "none", "none", 0)),
        "this is not json",
        json.dumps(as_input("3.0", 0, "none", "none", 0)),
        json.dumps(as_input("2.0", 3, "none", "moderate", 0)),
    ]
    code, out = recommend(monkeypatch, "\n".join(lines) + "\n", "--jsonl")
    assert code == 2
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == 4
    assert results[0]["recommendation"] == "recommended"
    assert list(results[1]["errors"]) == ["__all__"]
    assert results[2] == {"errors": {"tumor_count": ["Enter a value between 1 and 50."]}}
    assert results[3]["cautions"] == ["moderate_cirrhosis", "liver_panel_missing"]


def test_jsonl_ruleset_3_agrees_with_every_worked_example(monkeypatch):
    """Under ruleset 3 the worked examples, given without a liver panel, keep their
    outcome and gain the caution liver_panel_missing."""
    lines = "".join(json.dumps(as_input(*example[0])) + "\n" for example in WORKED_EXAMPLES)
    code, out = recommend(monkeypatch, lines, "--jsonl", "--ruleset", "3")
    assert code == 0
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == len(WORKED_EXAMPLES)
    for result, (_, risk, factors, contra, cautions, recommendation) in zip(
        results, WORKED_EXAMPLES, strict=True
    ):
        assert result["ruleset"] == "3"
        assert (result["risk_level"], result["risk_factors"]) == (risk, factors)
        assert result["contraindications"] == contra
        assert result["cautions"] == [*cautions, "liver_panel_missing"]
        assert result["recommendation"] == recommendation
        assert result["liver_function"] is None


def test_jsonl_all_valid_exits_0(monkeypatch):
    line = json.dumps(as_input("3.0", 1, "none", "mild", 0))
    code, out = recommend(monkeypatch, f"{line}\n{line}\n", "--jsonl")
    assert code == 0
    assert [json.loads(x)["risk_level"] for x in out.splitlines()] == ["low", "low"]


@pytest.mark.django_db
def test_create_first_admin_only_once():
    out = io.StringIO()
    call_command("create_first_admin", stdout=out)
    admin = get_user_model().objects.get()
    assert admin.username == "admin" and admin.is_superuser
    password = out.getvalue().split()[-1]
    assert admin.check_password(password)
    again = io.StringIO()
    call_command("create_first_admin", stdout=again)
    assert again.getvalue() == ""
    assert get_user_model().objects.count() == 1


PANEL = {
    "bilirubin": 3.0,
    "bilirubin_unit": "mg_dl",
    "albumin": "40",
    "albumin_unit": "g_l",
    "inr": "1.0",
    "ascites": "none",
    "encephalopathy": "none",
}


def test_default_ruleset_is_4_with_liver_function(monkeypatch):
    code, out = recommend(monkeypatch, json.dumps(as_input("6.0", 1, "none", "none", 0) | PANEL))
    assert code == 0
    result = json.loads(out)
    assert result["ruleset"] == "4"
    # 3.0 mg/dL is exactly 51.3 umol/L: 2 points (the float trap would give 3).
    assert result["liver_function"] == {
        "child_pugh_score": 6,
        "child_pugh_class": "A",
        "albi_score": -2.271,
        "albi_grade": 2,
    }
    assert '"albi_score": -2.271' in out


@pytest.mark.parametrize("ruleset", ["2", "3"])
def test_without_panel_liver_function_is_null(monkeypatch, ruleset):
    data = json.dumps(as_input("6.0", 1, "none", "none", 0))
    code, out = recommend(monkeypatch, data, "--ruleset", ruleset)
    assert code == 0
    assert json.loads(out)["liver_function"] is None


def test_ruleset_1_refuses_the_panel_and_vp4(monkeypatch):
    data = as_input("6.0", 1, "portal_vein_main", "none", 0) | PANEL
    code, out = recommend(monkeypatch, json.dumps(data), "--ruleset", "1")
    assert code == 2
    errors = json.loads(out)["errors"]
    assert set(errors) == {"vascular_invasion", *PANEL}
    assert errors["bilirubin"] == ["Unknown field."]


def test_partial_panel_names_each_missing_field(monkeypatch):
    data = as_input("6.0", 1, "none", "none", 0) | {
        "bilirubin": "20",
        "bilirubin_unit": "umol_l",
        "ascites": "mild",
    }
    code, out = recommend(monkeypatch, json.dumps(data))
    assert code == 2
    assert set(json.loads(out)["errors"]) == {"albumin", "inr", "encephalopathy"}


def test_jsonl_with_panels(monkeypatch):
    lines = [
        json.dumps(as_input("6.0", 1, "none", "none", 0) | PANEL),
        json.dumps(as_input("6.0", 1, "none", "none", 0) | PANEL | {"bilirubin": 80}),
    ]
    code, out = recommend(monkeypatch, "\n".join(lines), "--jsonl")
    first, second = (json.loads(line) for line in out.splitlines())
    assert code == 2
    assert first["liver_function"]["child_pugh_class"] == "A"
    assert second == {"errors": {"bilirubin": ["Bilirubin must be between 0.06 and 58.0 mg/dL."]}}
