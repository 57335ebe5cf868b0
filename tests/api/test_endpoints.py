"""Each endpoint's behaviour with a Clinicians token; roles are in tests/test_access.py."""

import io
import json
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from assessments import rules
from assessments.forms import RULESET_FORMS, JsonValidator
from assessments.management.commands.recommend import score
from assessments.models import Assessment
from common.jsonio import encode
from tests.factories import PANEL, record

pytestmark = pytest.mark.django_db

INPUTS = {
    "tumor_size_cm": 5.1,
    "tumor_count": 1,
    "vascular_invasion": "none",
    "cirrhosis_grade": "mild",
}


def new_assessment(**changes):
    return {
        "mrn": "api-0001",
        "resection_date": (timezone.localdate() - timedelta(days=30)).isoformat(),
        **INPUTS,
        "notes": "",
        **changes,
    }


def recommend(obj, *args) -> str:
    out = io.StringIO()
    saved, sys.stdin = sys.stdin, io.StringIO(json.dumps(obj))
    try:
        call_command("recommend", *args, stdout=out)
    finally:
        sys.stdin = saved
    return out.getvalue().rstrip("\n")


@pytest.mark.parametrize("ruleset", [None, "1", "2", "3", "4"])
@pytest.mark.parametrize("panel", [False, True])
def test_evaluate_answers_what_recommend_prints(clinician_api, ruleset, panel):
    inputs = {**INPUTS, **(PANEL if panel and ruleset != "1" else {})}
    body = {**inputs, **({"ruleset": ruleset} if ruleset else {})}
    response = clinician_api.post("evaluate", body)
    assert response.status_code == 200
    args = ["--ruleset", ruleset] if ruleset else []
    assert response.content.decode() == recommend(inputs, *args)  # byte for byte
    assert response.json()["ruleset"] == (ruleset or rules.LATEST_RULESET)


PATHOLOGY = {
    "resection_margin": "r1",
    "satellite_nodules": "no",
    "tumor_rupture": "yes",
    "mvi_grade": "m0",
    "afp_before_ng_ml": 1200,
    "afp_after_ng_ml": "850.5",
}


def test_evaluate_takes_the_pathology_under_ruleset_4(clinician_api):
    response = clinician_api.post("evaluate", {**INPUTS, **PATHOLOGY})
    assert response.status_code == 200
    assert response.content.decode() == recommend({**INPUTS, **PATHOLOGY})
    result = response.json()
    assert result["pathology_findings"] == ["r1_margin", "tumor_rupture", "afp_not_normalised"]
    assert "adverse_pathology" in result["cautions"]
    refused = clinician_api.post("evaluate", {**INPUTS, **PATHOLOGY, "ruleset": "3"})
    assert refused.status_code == 400
    assert set(refused.json()["errors"]) == set(PATHOLOGY)
    typed = clinician_api.post("evaluate", {**INPUTS, "satellite_nodules": True, "mvi_grade": "m2"})
    assert typed.json()["errors"]["satellite_nodules"] == ["Choose one of: yes, no."]
    assert set(typed.json()["errors"]) == {"satellite_nodules", "vascular_invasion", "mvi_grade"}


def test_evaluate_stores_nothing(clinician_api):
    clinician_api.post("evaluate", INPUTS)
    assert not Assessment.objects.exists()


def test_evaluate_refuses_a_bad_ruleset_and_language_naming_them(clinician_api):
    response = clinician_api.post("evaluate", {**INPUTS, "ruleset": 3, "language": "xx"})
    assert response.status_code == 400
    assert response.json() == {
        "errors": {
            "ruleset": ["Choose one of: 1, 2, 3, 4."],
            "language": ["Choose one of: en, zh-hans."],
        }
    }


def test_evaluate_gives_the_rationale_in_the_language_asked(clinician_api):
    """As `recommend --language zh-hans` prints it: the codes alike, the sentences in Chinese."""
    response = clinician_api.post("evaluate", {**INPUTS, "language": "zh-hans"})
    assert response.status_code == 200
    validate = JsonValidator(RULESET_FORMS[rules.LATEST_RULESET])
    expected, valid = score(json.dumps(INPUTS), rules.LATEST_RULESET, validate, "zh-hans")
    assert valid and response.content.decode() == encode(expected)
    english = clinician_api.post("evaluate", INPUTS).json()
    assert response.json()["rationale"] != english["rationale"]


def test_evaluate_reads_numbers_as_decimals_never_floats(clinician_api):
    # 5.0 is not above 5 cm; as a float 5.0000000000000001 would still be 5.0, but
    # as a decimal it is refused for its decimal places rather than misread.
    response = clinician_api.post(
        "evaluate",
        raw='{"tumor_size_cm": 5.0000000000000001, '
        '"tumor_count": 1, "vascular_invasion": "none", '
        '"cirrhosis_grade": "none"}',
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "tumor_size_cm": ["Enter at most one decimal place, such as 4.5."]
    }


@pytest.mark.parametrize(
    ("raw", "errors"),
    [
        (
            '{"tumor_count": 1, "tumor_count": 2}',
            {"tumor_count": ["Given more than once: give each field once."]},
        ),
        ("{not json", None),
        ("[1, 2]", {"__all__": ["Expected a JSON object with the input fields."]}),
    ],
)
def test_bodies_that_are_not_one_object_are_refused(clinician_api, raw, errors):
    response = clinician_api.post("evaluate", raw=raw)
    assert response.status_code == 400
    body = response.json()
    if errors is None:
        assert list(body["errors"]) == ["__all__"]
        assert body["errors"]["__all__"][0].startswith("Not valid JSON: look at line 1, column 2")
    else:
        assert body == {"errors": errors}


def test_a_body_over_1_mb_is_413_json(clinician_api):
    response = clinician_api.post("evaluate", raw='{"notes": "' + "x" * (1024 * 1024) + '"}')
    assert response.status_code == 413
    assert response.json() == {"errors": {"__all__": ["The body is larger than 1,048,576 bytes."]}}


def test_a_form_body_is_415(clinician_api):
    response = clinician_api.client.post(
        "/api/v1/evaluate", {"tumor_size_cm": "5"}, headers=clinician_api.headers
    )
    assert response.status_code == 415
    assert list(response.json()["errors"]) == ["__all__"]


def test_create_records_with_the_forms_checks_and_answers_etag_and_location(
    clinician_api, clinician
):
    response = clinician_api.post("assessments", new_assessment(**PANEL))
    assert response.status_code == 201, response.json()
    body = response.json()
    assessment = Assessment.objects.get()
    assert body["id"] == assessment.pk
    assert body["mrn"] == "API-0001"
    assert body["created_by"] == clinician.username
    assert body["version"] == 1 and response["ETag"] == '"1"'
    assert response["Location"] == f"/api/v1/assessments/{assessment.pk}"
    assert body["liver_function"]["child_pugh_class"] == "B"
    assert body["recommendation"] == assessment.recommendation


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"mrn": 123}, {"mrn": ["Enter this as a JSON string."]}),
        ({"notes": ["a"]}, {"notes": ["Enter this as a JSON string."]}),
        ({"resection_date": 20260101}, {"resection_date": ["Enter a date, such as 2026-03-31."]}),
        ({"ruleset": "2"}, {"ruleset": ["Unknown field."]}),
        (
            {"resection_date": (timezone.localdate() + timedelta(days=1)).isoformat()},
            {"resection_date": ["The resection date cannot be in the future."]},
        ),
    ],
)
def test_create_refuses_what_the_form_refuses(clinician_api, changes, errors):
    response = clinician_api.post("assessments", new_assessment(**changes))
    assert response.status_code == 400
    assert response.json() == {"errors": errors}
    assert not Assessment.objects.exists()


def test_detail_answers_the_version_as_etag(clinician_api, clinician):
    assessment = record(clinician)
    response = clinician_api.get(f"assessments/{assessment.pk}")
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    assert response.json()["tumor_size_cm"] == "3.0"
    assert clinician_api.get("assessments/999999").status_code == 404


def amend_body(reason="Size remeasured on the pathology report.", **changes):
    body = new_assessment(reason=reason, **changes)
    del body["mrn"]
    return body


def test_amend_with_if_match_recomputes_and_bumps_the_etag(clinician_api, clinician):
    assessment = record(clinician)
    response = clinician_api.post(
        f"assessments/{assessment.pk}/amend", amend_body(tumor_size_cm="6.2"), **{"If-Match": '"1"'}
    )
    assert response.status_code == 200, response.json()
    assert response["ETag"] == '"2"'
    assessment.refresh_from_db()
    assert assessment.tumor_size_cm == rules.Decimal("6.2")
    assert assessment.history.first().history_change_reason == (
        "Size remeasured on the pathology report."
    )


def test_a_stale_if_match_is_412_and_changes_nothing(clinician_api, clinician):
    assessment = record(clinician)
    response = clinician_api.post(
        f"assessments/{assessment.pk}/amend", amend_body(tumor_size_cm="6.2"), **{"If-Match": '"0"'}
    )
    assert response.status_code == 412
    assert response["ETag"] == '"1"'
    assert "Nothing was changed" in response.json()["errors"]["__all__"][0]
    assessment.refresh_from_db()
    assert assessment.version == 1 and assessment.tumor_size_cm == rules.Decimal("3.0")
    assert assessment.history.count() == 1


def test_amend_and_void_without_if_match_are_428(clinician_api, clinician):
    assessment = record(clinician)
    assert clinician_api.post(f"assessments/{assessment.pk}/amend", amend_body()).status_code == 428
    response = clinician_api.post(f"assessments/{assessment.pk}/void", {"reason": "Wrong patient"})
    assert response.status_code == 428
    assessment.refresh_from_db()
    assert assessment.version == 1


def test_amend_maps_reason_and_refuses_the_forms_own_names(clinician_api, clinician):
    assessment = record(clinician)
    body = amend_body(reason="abc", version=1, change_reason="Another reason")
    response = clinician_api.post(f"assessments/{assessment.pk}/amend", body, **{"If-Match": '"1"'})
    assert response.status_code == 400
    assert response.json() == {
        "errors": {
            "reason": ["Give a reason of at least 5 characters."],
            "version": ["Unknown field."],
            "change_reason": ["Unknown field."],
        }
    }


def test_amend_keeps_the_assessments_own_ruleset(clinician_api, clinician):
    from tests.factories import ruleset_1_assessment

    old = ruleset_1_assessment(clinician)
    body = amend_body(**PANEL)
    response = clinician_api.post(f"assessments/{old.pk}/amend", body, **{"If-Match": '"1"'})
    assert response.status_code == 400
    assert response.json()["errors"]["bilirubin"] == ["Unknown field."]
    response = clinician_api.post(
        f"assessments/{old.pk}/amend", amend_body(), **{"If-Match": '"1"'}
    )
    assert response.status_code == 200
    assert response.json()["ruleset"] == "1"


def test_void_then_nothing_more_changes(clinician_api, clinician):
    assessment = record(clinician)
    response = clinician_api.post(
        f"assessments/{assessment.pk}/void", {"reason": "Wrong patient"}, **{"If-Match": '"1"'}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "voided"
    assert response.json()["void_reason"] == "Wrong patient"
    again = clinician_api.post(
        f"assessments/{assessment.pk}/amend", amend_body(), **{"If-Match": '"2"'}
    )
    assert again.status_code == 409
    assert again.json() == {
        "errors": {"__all__": ["This assessment is voided: it can no longer be changed."]}
    }


def test_history_lists_every_version_newest_first(clinician_api, clinician):
    assessment = record(clinician)
    clinician_api.post(
        f"assessments/{assessment.pk}/amend", amend_body(tumor_size_cm="6.2"), **{"If-Match": '"1"'}
    )
    versions = clinician_api.get(f"assessments/{assessment.pk}/history").json()
    assert [v["action"] for v in versions] == ["amended", "created"]
    assert versions[0]["user"] == clinician.username
    assert {
        "field": "tumor_size_cm",
        "label": "Largest tumor diameter (cm)",
        "old": "3.0",
        "new": "6.2",
    } in versions[0]["changes"]


def test_list_filters_and_cursor_pages(clinician_api, clinician):
    for size in ("3.0", "6.0", "7.0"):
        record(clinician, tumor_size_cm=size)
    voided = record(clinician, mrn="MRN-2")
    clinician_api.post(
        f"assessments/{voided.pk}/void", {"reason": "Wrong patient"}, **{"If-Match": '"1"'}
    )
    page = clinician_api.get("assessments", {"page_size": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    rest = clinician_api.client.get(page["next"], headers=clinician_api.headers).json()
    assert len(rest["results"]) == 1 and rest["next"] is None
    recommended = clinician_api.get("assessments", {"recommendation": "recommended"}).json()
    assert len(recommended["results"]) == 2
    assert [
        a["id"] for a in clinician_api.get("assessments", {"status": "voided"}).json()["results"]
    ] == [voided.pk]
    today = timezone.localdate()
    assert len(clinician_api.get("assessments", {"created_from": today}).json()["results"]) == 3
    tomorrow = today + timedelta(days=1)
    assert clinician_api.get("assessments", {"created_from": tomorrow}).json()["results"] == []
    yesterday = today - timedelta(days=1)
    assert clinician_api.get("assessments", {"created_to": yesterday}).json()["results"] == []
    bad = clinician_api.get("assessments", {"created_from": "2026-02-30", "status": "gone"})
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"created_from", "status"}


def test_patient_lookup_by_mrn_in_the_body(clinician_api, clinician):
    assessment = record(clinician)
    response = clinician_api.post("patients/lookup", {"mrn": "mrn-1"})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == assessment.patient.pk and body["mrn"] == "MRN-1"
    assert [a["id"] for a in body["assessments"]] == [assessment.pk]
    missing = clinician_api.post("patients/lookup", {"mrn": "NOBODY"})
    assert missing.status_code == 404
    assert missing.json() == {"errors": {"mrn": ["No patient has this MRN."]}}
    assert clinician_api.post("patients/lookup", {"mrn": ["x"]}).json() == {
        "errors": {"mrn": ["Enter this as a JSON string."]}
    }


def test_patient_answers_its_assessments(clinician_api, clinician):
    first = record(clinician)
    second = record(clinician, tumor_size_cm="6.0")
    body = clinician_api.get(f"patients/{first.patient.pk}").json()
    assert [a["id"] for a in body["assessments"]] == [second.pk, first.pk]
    assert clinician_api.get("patients/999999").status_code == 404


def test_the_browser_session_works_with_csrf(clinician):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(clinician)
    assert client.get("/api/v1/assessments").status_code == 200
    refused = client.post("/api/v1/evaluate", INPUTS, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["errors"]["__all__"][0]
    client.get("/assessments/new/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    allowed = client.post(
        "/api/v1/evaluate", INPUTS, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert allowed.status_code == 200


def test_anonymous_is_401_json_never_a_redirect(anonymous_api):
    for path in ("assessments", "schema/"):
        response = anonymous_api.get(path)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"
    response = anonymous_api.post("evaluate", INPUTS)
    assert response.status_code == 401
    assert response.json() == {
        "errors": {"__all__": ["Authentication credentials were not provided."]}
    }


def test_docs_are_for_logged_in_users_only(client, clinician):
    assert client.get("/api/v1/docs/").status_code == 302
    client.force_login(clinician)
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    assert b"drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page.content
    assert b"<style" not in page.content and b"<script>" not in page.content
    script = client.get("/api/v1/docs/", {"script": ""})
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content


def test_djangos_own_body_limit_is_413_json_too():
    """Where Django itself refuses a body (RequestDataTooBig), the API answers the same."""
    from django.core.exceptions import RequestDataTooBig

    from api.exceptions import exception_handler

    response = exception_handler(RequestDataTooBig("too big"), {})
    assert response.status_code == 413
    assert response.data == {"errors": {"__all__": ["The body is larger than 1,048,576 bytes."]}}
