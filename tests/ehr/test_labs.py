"""The labs of a call: the newest valid Observation of each Bundle, what is left out
said in the card, and newer labs that reach a Child-Pugh class ruling TACE out."""

from datetime import timedelta

import pytest

from ehr.cds import inputs_recorded_at
from tests.ehr.conftest import bundle, hook_request, observation
from tests.ehr.test_cards import ORDER, VIEW, ZH, labs, one_card
from tests.factories import events, record

pytestmark = pytest.mark.django_db

PANEL_A = {
    "bilirubin": "20",
    "bilirubin_unit": "umol_l",
    "albumin": "40",
    "albumin_unit": "g_l",
    "inr": "1.0",
    "ascites": "none",
    "encephalopathy": "none",
}


def after(assessment, **delta):
    return inputs_recorded_at(assessment) + timedelta(**delta)


# Newer labs and Child-Pugh


def test_newer_labs_scoring_child_pugh_c_without_a_panel_are_critical(ehr, clinician):
    # The finding: bilirubin 60 µmol/L (3), albumin 27 g/L (3), INR 2.0 (2) are at least
    # 10 points without ascites or encephalopathy: Child-Pugh C, TACE ruled out.
    assessment = record(clinician, tumor_size_cm="6.0")
    assert assessment.recommendation == "recommended" and assessment.liver_panel is None
    card = one_card(ehr, body=hook_request(labs=labs(after(assessment, minutes=1), 60, 27, 2)))
    assert card["indicator"] == "critical"
    assert card["summary"] == (
        "Newer liver tests alone score Child-Pugh C (at least 10 points), which rules TACE "
        "out: re-evaluate"
    )
    assert "Child-Pugh C (at least 10)" in card["detail"]
    assert events("cds_call")[-1].detail["cards"][0]["indicator"] == "critical"


def test_the_same_in_chinese_stays_under_140_characters(ehr, clinician):
    assessment = record(clinician, tumor_size_cm="6.0")
    body = hook_request(labs=labs(after(assessment, minutes=1), 60, 27, 2))
    card = one_card(ehr, body=body, **ZH)
    assert card["indicator"] == "critical"
    assert "Child-Pugh C" in card["summary"] and "TACE" in card["summary"]
    assert card["summary"] != card["summary"].encode("ascii", "ignore").decode()


@pytest.mark.parametrize(
    ("values", "indicator", "summary"),
    [
        # 3 + 3 + 1 + 1 + 1 = 9: B with 9 points rules TACE out (ruleset 3).
        ((60, 27, 1), "warning", "alone score Child-Pugh B (at least 9 points), which rules"),
        # 2 + 2 + 1 + 1 + 1 = 7: B, a caution only; still worse than nothing known.
        ((40, 30, 1), "warning", "Child-Pugh B (at least 7 points): re-evaluate with a liver"),
        # 2 + 1 + 1 + 1 + 1 = 6: A.
        ((40, 40, 1), "info", "Adjuvant TACE recommended"),
    ],
)
def test_newer_labs_alone_without_a_panel(ehr, clinician, values, indicator, summary):
    assessment = record(clinician, tumor_size_cm="6.0")
    card = one_card(ehr, body=hook_request(labs=labs(after(assessment, minutes=1), *values)))
    assert card["indicator"] == indicator
    assert summary in card["summary"]


def test_a_lab_not_given_counts_its_least_point(ehr, clinician):
    # Bilirubin 60 and albumin 27 only: 3 + 3 + INR 1 + 1 + 1 = 9.
    assessment = record(clinician, tumor_size_cm="6.0")
    when = after(assessment, minutes=1)
    two = {"bilirubin": observation("bilirubin", 60, when),
           "albumin": observation("albumin", 27, when)}  # fmt: skip
    card = one_card(ehr, body=hook_request(labs=two))
    assert "at least 9 points" in card["summary"]


def test_newer_labs_reaching_c_from_a_panel_are_critical(ehr, clinician):
    assessment = record(clinician, tumor_size_cm="6.0", **PANEL_A)
    card = one_card(ehr, body=hook_request(labs=labs(after(assessment, minutes=1), 60, 27, 2)))
    assert card["indicator"] == "critical"
    assert card["summary"] == (
        "Newer liver tests give Child-Pugh C (10 points), which rules TACE out: re-evaluate"
    )


def test_b7_to_b8_is_the_same_class_but_rules_tace_out(ehr, clinician):
    # At assessment: bilirubin 40 (2), albumin 30 (2): 7 points, B, recommended.
    panel = {**PANEL_A, "bilirubin": "40", "albumin": "30"}
    assessment = record(clinician, tumor_size_cm="6.0", **panel)
    assert (assessment.child_pugh_score, assessment.recommendation) == (7, "recommended")
    newer = {"bilirubin": observation("bilirubin", 60, after(assessment, minutes=1))}
    card = one_card(ehr, body=hook_request(labs=newer))
    assert card["indicator"] == "warning"
    assert "Child-Pugh B (8 points), which rules TACE out" in card["summary"]


def test_newer_labs_confirming_a_known_c_add_no_alarm(ehr, clinician):
    panel = {**PANEL_A, "bilirubin": "60", "albumin": "27", "inr": "2.0"}
    assessment = record(clinician, tumor_size_cm="3.0", **panel)
    assert assessment.child_pugh_class == "C"
    card = one_card(ehr, body=hook_request(labs=labs(after(assessment, minutes=1), 60, 27, 2)))
    assert card["indicator"] == "info"
    assert card["summary"] == "Adjuvant TACE not recommended: low risk of recurrence"


def test_a_tace_order_beside_newer_labs_of_child_pugh_c_is_critical(ehr, clinician):
    assessment = record(clinician, tumor_size_cm="6.0")
    body = hook_request("order-select", labs=labs(after(assessment, minutes=1), 60, 27, 2))
    card = one_card(ehr, ORDER, body)
    assert card["indicator"] == "critical"
    assert "ruled out by newer liver tests" in card["summary"]


# Reading a lab Bundle


def test_the_newest_observation_is_read_whatever_the_bundles_order(ehr, clinician):
    assessment = record(clinician, tumor_size_cm="6.0", **PANEL_A)
    older = observation("bilirubin", 20, after(assessment, minutes=1))
    newer = observation("bilirubin", 60, after(assessment, minutes=2))
    albumin = observation("albumin", 25, after(assessment, minutes=1))
    for entries in [(older, newer), (newer, older)]:
        body = hook_request()
        body["prefetch"].update(bilirubin=bundle(*entries), albumin=bundle(albumin))
        card = one_card(ehr, body=body)
        assert "Child-Pugh B (9)" in card["detail"], entries
    # The newest is fine: no alarm, whatever came first.
    body = hook_request()
    worse_first = observation("bilirubin", 60, after(assessment, minutes=1))
    fine_last = observation("bilirubin", 20, after(assessment, minutes=2))
    body["prefetch"]["bilirubin"] = bundle(worse_first, fine_last)
    assert one_card(ehr, body=body)["indicator"] == "info"


def test_a_day_only_lab_is_older_than_a_timed_lab_of_the_same_day(ehr, clinician):
    assessment = record(clinician, tumor_size_cm="6.0", **PANEL_A)
    timed = observation("bilirubin", 20, after(assessment, minutes=1))
    day = observation("bilirubin", 60, after(assessment, minutes=1).date().isoformat())
    body = hook_request()
    body["prefetch"]["bilirubin"] = bundle(day, timed)
    assert "Child-Pugh A (5)" in one_card(ehr, body=body)["detail"]


def test_effective_period_is_read_by_its_end_else_its_start(ehr, clinician):
    assessment = record(clinician, tumor_size_cm="6.0", **PANEL_A)
    body = hook_request()
    for period in [
        {"start": after(assessment, minutes=1).isoformat(),
         "end": after(assessment, minutes=3).isoformat()},
        {"start": after(assessment, minutes=1).isoformat()},
    ]:  # fmt: skip
        worse = {**observation("bilirubin", 60, "2000-01-01"), "effectivePeriod": period}
        del worse["effectiveDateTime"]
        albumin = {**observation("albumin", 25, "2000-01-01"), "effectivePeriod": period}
        del albumin["effectiveDateTime"]
        body["prefetch"].update(bilirubin=bundle(worse), albumin=bundle(albumin))
        response = ehr.post(VIEW, body)
        assert response.status_code == 200, response.content
        assert "Child-Pugh B (9)" in response.json()["cards"][0]["detail"]


def test_included_resources_and_outcomes_are_left_out_and_said(ehr, clinician):
    assessment = record(clinician, tumor_size_cm="6.0", **PANEL_A)
    worse = observation("bilirubin", 60, after(assessment, minutes=1))
    searchset = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": worse, "search": {"mode": "match"}},
            {"resource": {"resourceType": "Patient", "id": "pat-123"},
             "search": {"mode": "include"}},
            {"resource": {"resourceType": "OperationOutcome", "issue": []},
             "search": {"mode": "outcome"}},
        ],
    }  # fmt: skip
    body = hook_request()
    body["prefetch"].update(
        bilirubin=searchset,
        albumin=bundle(observation("albumin", 25, after(assessment, minutes=1))),
    )
    card = one_card(ehr, body=body)
    assert "Child-Pugh B (9)" in card["detail"]
    assert (
        "Not read (Bilirubin): an entry that is not an Observation; the EHR reported an "
        "error (OperationOutcome)."
    ) in card["detail"]


def test_a_value_quantity_without_system_is_read_by_its_code_or_unit(ehr, clinician):
    assessment = record(clinician, tumor_size_cm="6.0", **PANEL_A)
    when = after(assessment, minutes=1)
    bilirubin = observation("bilirubin", 60, when)
    bilirubin["valueQuantity"] = {"value": 60, "code": "umol/L"}
    albumin = observation("albumin", 25, when)
    albumin["valueQuantity"] = {"value": 25, "unit": "g/L"}
    card = one_card(ehr, body=hook_request(labs={"bilirubin": bilirubin, "albumin": albumin}))
    assert "Child-Pugh B (9)" in card["detail"]
    assert "Not read" not in card["detail"]


def test_an_operation_outcome_in_a_lab_key_is_no_lab_and_said(ehr, clinician):
    record(clinician, tumor_size_cm="6.0")
    body = hook_request()
    body["prefetch"]["inr"] = {"resourceType": "OperationOutcome", "issue": []}
    card = one_card(ehr, body=body)
    assert card["summary"].startswith("Adjuvant TACE recommended")
    assert "Not read (INR): the EHR reported an error (OperationOutcome)." in card["detail"]


def _quantity(unit_code):
    return {"value": 20, "unit": unit_code, "system": "http://unitsofmeasure.org",
            "code": unit_code}  # fmt: skip


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("inr", {"resourceType": "Observation"}, "not a search Bundle"),
        ("albumin", bundle({"resourceType": "Patient"}), "an entry that is not an Observation"),
        ("bilirubin", bundle({**observation("bilirubin", 20, "2026-01-01"),
                              "valueQuantity": _quantity("mmol/L")}),
         "an Observation in a unit not read here"),
        ("bilirubin", bundle({**observation("bilirubin", 20, "2026-01-01"), "code": {}}),
         "an Observation without the expected LOINC code"),
        ("inr", bundle(observation("inr", 0, "2026-01-01")),
         "an Observation without a positive number as its value"),
        ("inr", bundle(observation("inr", "1.1", "2026-01-01")),
         "an Observation without a positive number as its value"),
        ("inr", bundle(observation("inr", 1, "2026-01-01T10:00:00")),
         "an Observation without a readable effective time"),
        ("inr", bundle({**observation("inr", 1, "2026-01-01"), "effectiveDateTime": None}),
         "an Observation without a readable effective time"),
        ("inr", bundle(observation("inr", 1, "2026-01-01", status="preliminary")),
         "an Observation that is not final"),
        ("inr", bundle({**observation("inr", 1, "2026-01-01"),
                        "subject": {"reference": "Patient/someone-else"}}),
         "an Observation of another patient"),
    ],
)  # fmt: skip
def test_what_cannot_be_read_is_left_out_and_said(ehr, clinician, key, value, said):
    record(clinician, tumor_size_cm="6.0")
    body = hook_request()
    body["prefetch"][key] = value
    card = one_card(ehr, body=body)
    assert card["summary"].startswith("Adjuvant TACE recommended")
    assert said in card["detail"]


def test_several_left_out_are_counted(ehr, clinician):
    record(clinician, tumor_size_cm="6.0")
    body = hook_request()
    entries = [observation("inr", 1, "2026-01-01", status="preliminary")] * 2
    body["prefetch"]["inr"] = bundle(*entries)
    card = one_card(ehr, body=body)
    assert "Not read (INR): 2 × an Observation that is not final." in card["detail"]
