"""The CDS Hooks services' answers: discovery, every card case and its date edges,
412 for a missing or unusable prefetch. Every document is checked against the JSON
schemas written from the CDS Hooks 2.0 specification."""

from datetime import timedelta

import pytest
from django.utils import timezone

from assessments import services
from ehr.cds import inputs_recorded_at
from tests.ehr.conftest import hook_request, observation, schema_errors, tace_order
from tests.factories import events, record

pytestmark = pytest.mark.django_db

VIEW = "/cds-services/adjuvant-tace"
ORDER = "/cds-services/adjuvant-tace-order-check"
ZH = {"Accept-Language": "zh-Hans"}
# Child-Pugh A (5 points): bilirubin 20 µmol/L, albumin 40 g/L, INR 1.0, no ascites.
PANEL_A = {
    "bilirubin": "20",
    "bilirubin_unit": "umol_l",
    "albumin": "40",
    "albumin_unit": "g_l",
    "inr": "1.0",
    "ascites": "none",
    "encephalopathy": "none",
}


def resected(days_ago: int) -> str:
    return (timezone.localdate() - timedelta(days=days_ago)).isoformat()


def cards(ehr, path=VIEW, body=None, **headers) -> list[dict]:
    response = ehr.post(path, body or hook_request(), **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert schema_errors("card-response", response.json()) == []
    return response.json()["cards"]


def one_card(ehr, path=VIEW, body=None, **headers) -> dict:
    answer = cards(ehr, path, body, **headers)
    assert len(answer) == 1
    card = answer[0]
    assert len(card["summary"]) < 140
    assert card["links"][0]["type"] == "absolute"
    assert card["links"][0]["url"].startswith("http://testserver/")
    assert card["source"]["label"].startswith(
        ("Adjuvant TACE decision support, ruleset ", "辅助性TACE 决策支持，规则集 ")
    )
    return card


def sign(assessment, consultant):
    return services.sign_assessment(
        assessment=assessment, user=consultant, version=assessment.version
    )


# Discovery


def test_discovery_lists_both_services_with_their_prefetch(client):
    response = client.get("/cds-services")
    assert response.status_code == 200
    document = response.json()
    assert schema_errors("discovery-response", document) == []
    services_by_id = {s["id"]: s for s in document["services"]}
    assert {i: s["hook"] for i, s in services_by_id.items()} == {
        "adjuvant-tace": "patient-view",
        "adjuvant-tace-order-check": "order-select",
    }
    for service in services_by_id.values():
        assert service["title"] and service["description"]
        prefetch = service["prefetch"]
        assert prefetch["patient"] == "Patient/{{context.patientId}}"
        assert prefetch["bilirubin"] == (
            "Observation?patient={{context.patientId}}"
            "&code=http://loinc.org|1975-2,http://loinc.org|14631-6&_sort=-date&_count=1"
        )
        assert "code=http://loinc.org|1751-7&_sort=-date&_count=1" in prefetch["albumin"]
        assert "code=http://loinc.org|6301-6&_sort=-date&_count=1" in prefetch["inr"]


def test_discovery_needs_no_login_and_refuses_post(client):
    assert client.post("/cds-services").status_code == 405


# patient-view


def test_recommended_with_the_window_as_dates(ehr, clinician):
    assessment = record(clinician, tumor_size_cm="6.0", resection_date=resected(30))
    card = one_card(ehr)
    start, end = assessment.first_session_window()
    assert card["indicator"] == "info"
    assert card["summary"] == (
        f"Adjuvant TACE recommended: first session {start:%-d %b %Y} to {end:%-d %b %Y}"
    )
    assert card["links"][0]["url"] == f"http://testserver/assessments/{assessment.pk}/"
    assert card["source"]["label"] == "Adjuvant TACE decision support, ruleset 4"
    for text in ["Largest tumor > 5 cm", "No liver panel", "**Rationale**",
                 "The largest tumor is larger than 5 cm: a high risk of recurrence."]:  # fmt: skip
        assert text in card["detail"]
    event = events("cds_call")[-1]
    assert event.patient == assessment.patient and event.object_id == str(assessment.pk)
    assert event.detail["cards"] == [{"uuid": card["uuid"], "indicator": "info"}]
    assert "MRN-1" not in str(event.detail)


@pytest.mark.parametrize(("days_ago", "indicator"), [(42, "info"), (43, "warning")])
def test_the_window_passes_after_its_last_day(ehr, clinician, days_ago, indicator):
    record(clinician, tumor_size_cm="6.0", resection_date=resected(days_ago))
    card = one_card(ehr)
    assert card["indicator"] == indicator
    assert ("has passed" in card["summary"]) is (indicator == "warning")


def test_low_risk_is_info(ehr, clinician):
    record(clinician, tumor_size_cm="3.0")
    card = one_card(ehr)
    assert card["indicator"] == "info"
    assert card["summary"] == "Adjuvant TACE not recommended: low risk of recurrence"


def test_low_risk_after_the_window_is_still_info(ehr, clinician):
    record(clinician, tumor_size_cm="3.0", resection_date=resected(100))
    assert one_card(ehr)["indicator"] == "info"


def test_high_risk_with_a_contraindication_is_a_warning(ehr, clinician):
    record(clinician, tumor_size_cm="6.0", cirrhosis_grade="severe")
    card = one_card(ehr)
    assert card["indicator"] == "warning"
    assert "ruled out by a contraindication" in card["summary"]
    assert "Severe cirrhosis" in card["detail"]


def test_a_second_session_has_no_window(ehr, clinician):
    record(clinician, tumor_size_cm="6.0", prior_adjuvant_tace_sessions="1",
           resection_date=resected(100))  # fmt: skip
    card = one_card(ehr)
    assert card["indicator"] == "info"
    assert card["summary"] == "A second and last adjuvant TACE session is recommended"


def test_the_latest_non_voided_assessment_is_shown(ehr, clinician):
    kept = record(clinician, tumor_size_cm="3.0")
    voided = record(clinician, tumor_size_cm="6.0")
    services.void_assessment(assessment=voided, user=clinician, reason="Wrong", version=1)
    card = one_card(ehr)
    assert card["links"][0]["url"].endswith(f"/assessments/{kept.pk}/")


def test_no_assessment(ehr, clinician):
    record(clinician, mrn="MRN-2")  # another patient's
    card = one_card(ehr)
    assert card["indicator"] == "info"
    assert card["summary"] == "No adjuvant-TACE assessment recorded"
    assert card["links"][0]["url"] == "http://testserver/assessments/new/"
    assert "MRN" not in card["links"][0]["url"]
    assert events("cds_call")[-1].patient is None


def test_only_voided_assessments_count_as_none(ehr, clinician):
    voided = record(clinician, tumor_size_cm="6.0")
    services.void_assessment(assessment=voided, user=clinician, reason="Wrong", version=1)
    assert one_card(ehr)["summary"] == "No adjuvant-TACE assessment recorded"


def test_the_mrn_is_read_under_the_clients_system_only(ehr, clinician):
    record(clinician, mrn="OTHER-9", tumor_size_cm="6.0")  # the other system's value
    assert one_card(ehr)["summary"] == "No adjuvant-TACE assessment recorded"


def test_the_mrn_matches_whatever_its_case(ehr, clinician):
    assessment = record(clinician, tumor_size_cm="6.0")
    card = one_card(ehr, body=hook_request(mrn="mrn-1"))
    assert card["links"][0]["url"].endswith(f"/assessments/{assessment.pk}/")


def test_cards_in_chinese(ehr, clinician):
    record(clinician, tumor_size_cm="3.0")
    card = one_card(ehr, **ZH)
    assert card["summary"] == "不推荐辅助性TACE：复发风险低"
    assert card["source"]["label"] == "辅助性TACE 决策支持，规则集 4"
    assert card["links"][0]["label"] == "打开评估"
    assert "复发风险" in card["detail"]
    # The codes the EHR may send back are the same in every language.
    assert [r["code"] for r in card["overrideReasons"]][0] == "discussed-at-mdt"


# Liver tests newer than the assessment


def labs(when, bilirubin=20, albumin=40, inr=1.0) -> dict:
    return {
        "bilirubin": observation("bilirubin", bilirubin, when),
        "albumin": observation("albumin", albumin, when),
        "inr": observation("inr", inr, when),
    }


@pytest.mark.parametrize(("offset", "warns"), [(-1, False), (1, True)])
def test_worse_labs_newer_than_the_assessment_warn(ehr, clinician, offset, warns):
    assessment = record(clinician, tumor_size_cm="6.0", **PANEL_A)
    assert assessment.child_pugh_class == "A"
    when = inputs_recorded_at(assessment) + timedelta(seconds=offset)
    # Bilirubin 60 µmol/L and albumin 25 g/L: 3 + 3 + 1 + 1 + 1 = 9 points, class B.
    card = one_card(ehr, body=hook_request(labs=labs(when, bilirubin=60, albumin=25)))
    if warns:
        # B with 9 points: a contraindication of ruleset 3 the assessment did not have.
        assert card["indicator"] == "warning"
        assert card["summary"] == (
            "Newer liver tests give Child-Pugh B (9 points), which rules TACE out: re-evaluate"
        )
        assert "Child-Pugh B (9)" in card["detail"]
    else:
        assert card["indicator"] == "info"
        assert card["summary"].startswith("Adjuvant TACE recommended")
        assert "Child-Pugh B" not in card["detail"]


def test_newer_labs_of_the_same_class_do_not_warn(ehr, clinician):
    assessment = record(clinician, tumor_size_cm="6.0", **PANEL_A)
    when = inputs_recorded_at(assessment) + timedelta(minutes=5)
    card = one_card(ehr, body=hook_request(labs=labs(when, bilirubin=30)))
    assert card["indicator"] == "info"
    assert "Child-Pugh A (5)" in card["detail"]


def test_the_assessments_ascites_and_encephalopathy_are_kept(ehr, clinician):
    # Mild ascites (2 points) at assessment: 6 points, class A; a newer bilirubin of
    # 40 µmol/L (2 points) makes 7, class B.
    panel = {**PANEL_A, "ascites": "mild"}
    assessment = record(clinician, tumor_size_cm="6.0", **panel)
    assert assessment.child_pugh_score == 6
    when = inputs_recorded_at(assessment) + timedelta(minutes=1)
    only_bilirubin = {"bilirubin": observation("bilirubin", 40, when)}
    card = one_card(ehr, body=hook_request(labs=only_bilirubin))
    assert card["indicator"] == "warning"
    assert "Child-Pugh B (7)" in card["detail"]


@pytest.mark.parametrize(("days", "newer"), [(-1, False), (0, True)])
def test_a_lab_dated_by_day_only_counts_from_the_assessments_day(ehr, clinician, days, newer):
    assessment = record(clinician, tumor_size_cm="6.0", **PANEL_A)
    day = timezone.localdate(inputs_recorded_at(assessment)) + timedelta(days=days)
    worse = {"bilirubin": observation("bilirubin", 60, day.isoformat()),
             "albumin": observation("albumin", 25, day.isoformat())}  # fmt: skip
    card = one_card(ehr, body=hook_request(labs=worse))
    assert (card["indicator"] == "warning") is newer


def test_labs_in_other_units_are_converted(ehr, clinician):
    assessment = record(clinician, tumor_size_cm="6.0", **PANEL_A)
    when = inputs_recorded_at(assessment) + timedelta(minutes=1)
    # 3.5 mg/dL = 59.85 µmol/L (3 points); albumin 2.5 g/dL = 25 g/L (3 points).
    newer = {"bilirubin": observation("bilirubin_mg", 3.5, when),
             "albumin": observation("albumin_g_dl", 2.5, when)}  # fmt: skip
    card = one_card(ehr, body=hook_request(labs=newer))
    assert "Child-Pugh B (9)" in card["detail"]


def test_labs_not_final_are_left_out(ehr, clinician):
    assessment = record(clinician, tumor_size_cm="6.0", **PANEL_A)
    when = inputs_recorded_at(assessment) + timedelta(minutes=1)
    worse = {"bilirubin": observation("bilirubin", 60, when, status="entered-in-error"),
             "albumin": observation("albumin", 25, when, status="preliminary")}  # fmt: skip
    assert one_card(ehr, body=hook_request(labs=worse))["indicator"] == "info"


def test_newer_labs_without_a_panel_at_assessment_say_so(ehr, clinician):
    assessment = record(clinician, tumor_size_cm="6.0")
    when = inputs_recorded_at(assessment) + timedelta(minutes=1)
    card = one_card(ehr, body=hook_request(labs=labs(when)))
    assert card["indicator"] == "info"
    assert "which has no liver panel: re-evaluate with one" in card["detail"]


# order-select


def order_card(ehr, orders=None, **changes):
    return one_card(ehr, ORDER, hook_request("order-select", orders=orders, **changes))


def test_a_tace_order_with_a_signed_recommendation_is_info(ehr, clinician, consultant):
    assessment = sign(record(clinician, tumor_size_cm="6.0"), consultant)
    card = order_card(ehr)
    start, end = assessment.first_session_window()
    assert card["indicator"] == "info"
    assert card["summary"] == (
        "TACE order: the latest assessment supports it, first session "
        f"{start:%-d %b %Y} to {end:%-d %b %Y}"
    )


@pytest.mark.parametrize(
    ("changes", "concern"),
    [
        ({"tumor_size_cm": "3.0"}, "not recommended"),
        ({"cirrhosis_grade": "severe"}, "contraindicated"),
        ({"resection_date": resected(43)}, "window passed"),
    ],
)
def test_a_tace_order_against_the_assessment_warns(ehr, clinician, consultant, changes, concern):
    sign(record(clinician, **{"tumor_size_cm": "6.0", **changes}), consultant)
    card = order_card(ehr)
    assert card["indicator"] == "warning"
    assert card["summary"].startswith("Check before ordering TACE: the latest assessment is ")
    assert concern in card["summary"]


def test_a_tace_order_for_a_signed_second_session_is_info(ehr, clinician, consultant):
    sign(record(clinician, tumor_size_cm="6.0", prior_adjuvant_tace_sessions="1",
                resection_date=resected(100)), consultant)  # fmt: skip
    card = order_card(ehr)
    assert card["indicator"] == "info"
    assert card["summary"] == (
        "TACE order: the latest assessment recommends a second and last session"
    )


def test_a_tace_order_on_the_windows_last_day_is_info(ehr, clinician, consultant):
    sign(record(clinician, tumor_size_cm="6.0", resection_date=resected(42)), consultant)
    assert order_card(ehr)["indicator"] == "info"


def test_a_tace_order_with_an_unsigned_assessment_warns(ehr, clinician):
    record(clinician, tumor_size_cm="6.0")
    card = order_card(ehr)
    assert card["indicator"] == "warning"
    assert card["summary"] == "Check before ordering TACE: the latest assessment is unsigned"


def test_a_tace_order_with_a_voided_latest_assessment_warns(ehr, clinician, consultant):
    sign(record(clinician, tumor_size_cm="6.0"), consultant)
    latest = sign(record(clinician, tumor_size_cm="7.0"), consultant)
    services.void_assessment(assessment=latest, user=clinician, reason="Wrong", version=2)
    card = order_card(ehr)
    assert card["indicator"] == "warning"
    assert card["summary"] == "Check before ordering TACE: the latest assessment is voided"


def test_a_tace_order_with_worse_liver_tests_warns(ehr, clinician, consultant):
    assessment = sign(record(clinician, tumor_size_cm="6.0", **PANEL_A), consultant)
    when = inputs_recorded_at(assessment) + timedelta(minutes=1)
    card = order_card(ehr, labs=labs(when, bilirubin=60, albumin=25))
    assert card["indicator"] == "warning"
    assert "liver function worse" in card["summary"]


def test_a_tace_order_without_an_assessment(ehr):
    card = order_card(ehr)
    assert card["summary"] == "No adjuvant-TACE assessment recorded"
    assert card["links"][0]["url"] == "http://testserver/assessments/new/"


@pytest.mark.parametrize(
    "orders",
    [
        [tace_order(code="71388002")],  # another procedure
        [tace_order(status="active")],  # not a draft
        [{**tace_order(), "resourceType": "MedicationRequest"}],
        [],
    ],
)
def test_other_orders_get_no_card(ehr, clinician, orders):
    record(clinician, tumor_size_cm="3.0")
    body = hook_request("order-select", orders=orders)
    assert cards(ehr, ORDER, body) == []


def test_summaries_are_under_140_characters_in_both_languages(ehr, clinician, consultant):
    record(clinician, mrn="MRN-1", tumor_size_cm="6.0", tumor_count="3",
           vascular_invasion="microvascular", cirrhosis_grade="severe",
           resection_date=resected(200))  # fmt: skip
    for language in ["en", "zh-Hans"]:
        for path, hook in [(VIEW, "patient-view"), (ORDER, "order-select")]:
            card = one_card(ehr, path, hook_request(hook), **{"Accept-Language": language})
            assert len(card["summary"]) < 140
            assert ("规则集" in card["source"]["label"]) is (language == "zh-Hans")


# 412 and 400


@pytest.mark.parametrize(
    "changes",
    [
        {"patient": None},
        {"patient": {"resourceType": "Patient", "id": "someone-else", "identifier": []}},
        {"patient": {"resourceType": "Patient", "id": "pat-123"}},  # no MRN identifier
        {"patient": {"resourceType": "Observation", "id": "pat-123"}},
        {"patient": {"resourceType": "OperationOutcome", "issue": []}},
    ],
)
def test_an_unusable_patient_is_412(ehr, clinician, changes):
    record(clinician, tumor_size_cm="6.0")
    body = hook_request()
    body["prefetch"].update(changes)
    response = ehr.post(VIEW, body)
    assert response.status_code == 412, response.content
    assert response["Content-Type"] == "application/json"
    assert events("cds_call")[-1].detail["status"] == 412


def test_a_missing_patient_is_412(ehr):
    body = hook_request()
    del body["prefetch"]["patient"]
    response = ehr.post(VIEW, body)
    assert response.status_code == 412
    assert "no FHIR access" in response.json()["error"]


@pytest.mark.parametrize("key", ["bilirubin", "albumin", "inr"])
def test_a_missing_lab_key_still_gets_its_card_and_says_so(ehr, clinician, key):
    record(clinician, tumor_size_cm="6.0")
    body = hook_request()
    del body["prefetch"][key]
    card = one_card(ehr, body=body)
    assert card["summary"].startswith("Adjuvant TACE recommended")
    name = {"bilirubin": "Bilirubin", "albumin": "Albumin", "inr": "INR"}[key]
    assert (
        f"Not read ({name}): not provided, and the call gives no access to the EHR's FHIR server."
    ) in card["detail"]
    assert events("cds_call")[-1].detail["not_prefetched"] == {key: "not_fetched"}


def test_no_prefetch_at_all_is_412(ehr):
    body = hook_request()
    del body["prefetch"]
    assert ehr.post(VIEW, body).status_code == 412


def test_a_prefetch_that_is_not_an_object_is_400(ehr):
    body = {**hook_request(), "prefetch": []}
    assert ehr.post(VIEW, body).status_code == 400


def test_a_null_lab_is_no_lab(ehr, clinician):
    record(clinician, tumor_size_cm="6.0")
    body = hook_request()
    body["prefetch"]["inr"] = None
    assert one_card(ehr, body=body)["indicator"] == "info"


@pytest.mark.parametrize(
    "change",
    [
        {"hook": "order-select"},
        {"context": {}},
        {"context": "pat-123"},
        {"hookInstance": None},
    ],
)
def test_a_call_for_another_hook_or_without_context_is_400(ehr, change):
    body = {**hook_request(), **change}
    assert ehr.post(VIEW, body).status_code == 400


def test_order_select_needs_draft_orders(ehr):
    body = hook_request("order-select")
    del body["context"]["draftOrders"]
    assert ehr.post(ORDER, body).status_code == 400


def test_an_unknown_service_is_404(ehr):
    assert ehr.post("/cds-services/nothing-here", hook_request()).status_code == 404


def test_a_body_that_is_not_json_is_400(ehr):
    response = ehr.client.post(
        VIEW,
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {ehr.token('http://testserver' + VIEW)}"},
    )
    assert response.status_code == 400


def test_only_the_selected_orders_are_the_question(ehr, clinician):
    # A TACE draft from earlier in the session, and a CT just selected: no card.
    record(clinician, tumor_size_cm="3.0")
    ct = {**tace_order(code="77477000"), "id": "order-2"}
    body = hook_request("order-select", orders=[tace_order(), ct])
    body["context"]["selections"] = ["ServiceRequest/order-2"]
    assert cards(ehr, ORDER, body) == []
    # The TACE draft selected: its card.
    body["context"]["selections"] = ["ServiceRequest/order-2", "ServiceRequest/order-1"]
    assert len(cards(ehr, ORDER, body)) == 1


@pytest.mark.parametrize("selections", [None, [], "ServiceRequest/order-1", [1]])
def test_order_select_needs_its_selections(ehr, selections):
    body = hook_request("order-select")
    if selections is None:
        del body["context"]["selections"]
    else:
        body["context"]["selections"] = selections
    response = ehr.post(ORDER, body)
    assert response.status_code == 400
    assert "context.selections" in response.json()["error"]


@pytest.mark.parametrize("patient_id", ["../Patient/x", "a b", "x" * 65, ""])
def test_a_patient_id_that_is_not_a_fhir_id_is_400(ehr, patient_id):
    body = hook_request()
    body["context"]["patientId"] = patient_id
    assert ehr.post(VIEW, body).status_code == 400
