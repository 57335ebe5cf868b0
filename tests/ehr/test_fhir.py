"""GET /fhir/RiskAssessment/{id}: every resource validated with the FHIR R4B models
(whose RiskAssessment matches R4), every status, the API's tokens, roles and audit."""

import io
import json
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.riskassessment import RiskAssessment

from assessments import services
from assessments.forms import AmendForm
from assessments.models import Assessment
from ehr import codes, fhir
from tests.api.conftest import ApiClient, token_for
from tests.ehr.r4 import assert_valid_r4
from tests.factories import PANEL, amend_data, events, record

pytestmark = pytest.mark.django_db

MODELS = {"Observation": Observation, "Condition": Condition}
RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"


def url(assessment) -> str:
    return reverse("ehr:fhir_risk_assessment", args=[assessment.pk])


def read(client, assessment) -> dict:
    response = client.get(url(assessment))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/fhir+json"
    resource = response.json()
    RiskAssessment.model_validate(resource)
    assert_valid_r4(resource)
    for contained in resource["contained"]:
        MODELS[contained["resourceType"]].model_validate(contained)
    return resource


def by_id(resource) -> dict:
    return {item["id"]: item for item in resource["contained"]}


def test_the_mapping(reviewer_client, clinician, settings):
    assessment = record(clinician, tumor_size_cm="6.0", tumor_count="2", **PANEL)
    resource = read(reviewer_client, assessment)
    assert resource["id"] == str(assessment.pk)
    assert resource["subject"] == {
        "identifier": {"system": settings.FHIR_MRN_SYSTEM, "value": "MRN-1"},
        "type": "Patient",
    }
    assert resource["occurrenceDateTime"].startswith(assessment.created_at.date().isoformat())
    assert resource["method"]["coding"][0]["code"] == "4"
    condition = by_id(resource)["hcc"]
    assert condition["code"]["coding"][0] == {
        "system": "http://snomed.info/sct",
        "code": "109841003",
        "display": "Liver cell carcinoma",
    }
    assert resource["condition"]["reference"] == "#hcc"
    prediction = resource["prediction"][0]
    assert prediction["qualitativeRisk"]["coding"][0] == {
        "system": RISK_PROBABILITY,
        "code": "high",
        "display": "High likelihood",
    }
    assert [note["text"] for note in resource["note"]] == assessment.rationale
    assert resource["mitigation"].startswith("Adjuvant TACE is not recommended")


def test_the_basis_has_every_input_and_the_liver_results(reviewer_client, clinician):
    assessment = record(clinician, tumor_size_cm="6.0", **PANEL)
    resource = read(reviewer_client, assessment)
    contained = by_id(resource)
    expected = {
        "resection-date", "tumor-size-cm", "tumor-count", "vascular-invasion",
        "cirrhosis-grade", "prior-adjuvant-tace-sessions", "bilirubin", "albumin", "inr",
        "ascites", "encephalopathy", "child-pugh-score", "child-pugh-class", "albi-score",
        "albi-grade",
    }  # fmt: skip
    assert {ref["reference"].lstrip("#") for ref in resource["basis"]} == expected
    assert set(contained) == expected | {"hcc"}
    assert contained["tumor-size-cm"]["valueQuantity"]["value"] == 6.0
    assert contained["bilirubin"]["valueQuantity"]["code"] == "mg/dL"
    assert contained["bilirubin"]["code"]["coding"][0]["code"] == "1975-2"
    assert contained["albumin"]["code"]["coding"][0]["code"] == "1751-7"
    assert contained["inr"]["code"]["coding"][0]["code"] == "6301-6"
    assert contained["child-pugh-score"]["valueInteger"] == 9
    assert contained["child-pugh-class"]["valueCodeableConcept"]["coding"][0]["code"] == "B"
    assert contained["albi-grade"]["valueInteger"] == assessment.albi_grade
    assert contained["albi-score"]["valueQuantity"]["value"] == float(assessment.albi_score)
    assert contained["ascites"]["valueCodeableConcept"]["coding"][0]["code"] == "mild"


def test_only_cited_codes_are_loinc_or_snomed(reviewer_client, clinician):
    """Every LOINC and SNOMED CT code used is one docs/fhir.md cites; 75622-1 never."""
    resource = read(reviewer_client, record(clinician, tumor_size_cm="6.0", **PANEL))
    found = set()

    def walk(item):
        if isinstance(item, dict):
            if item.get("system") in (codes.LOINC, codes.SNOMED):
                found.add(item["code"])
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(resource)
    assert found == {"109841003", "1975-2", "1751-7", "6301-6"}
    docs = (codes.__file__.rsplit("/ehr/", 1)[0]) + "/docs/fhir.md"
    with open(docs, encoding="utf-8") as text:
        cited = text.read()
    for code in found | {"14631-6", "441525007"}:
        assert code in cited
    assert "75622-1" not in str(resource)


def test_bilirubin_in_umol_l_has_its_own_loinc_code(reviewer_client, clinician):
    panel = {**PANEL, "bilirubin": "30", "bilirubin_unit": "umol_l"}
    resource = read(reviewer_client, record(clinician, tumor_size_cm="6.0", **panel))
    assert by_id(resource)["bilirubin"]["code"]["coding"][0]["code"] == "14631-6"


def test_without_a_panel_only_the_rule_inputs(reviewer_client, clinician):
    resource = read(reviewer_client, record(clinician, tumor_size_cm="3.0"))
    assert len(resource["basis"]) == 6
    assert resource["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] == "low"


@pytest.mark.parametrize("days_ago", [30, 100])
def test_the_mitigation_gives_the_window(reviewer_client, clinician, days_ago):
    resected = timezone.localdate() - timedelta(days=days_ago)
    assessment = record(clinician, tumor_size_cm="6.0", resection_date=resected.isoformat())
    start, end = assessment.first_session_window()
    mitigation = read(reviewer_client, assessment)["mitigation"]
    assert f"between {start.isoformat()} and {end.isoformat()}" in mitigation


def test_status_draft_is_preliminary(reviewer_client, clinician):
    assessment = record(clinician)
    resource = read(reviewer_client, assessment)
    assert resource["status"] == "preliminary"
    assert {item["status"] for item in resource["contained"] if "status" in item} == {"preliminary"}


def test_status_signed_is_final(reviewer_client, clinician, consultant):
    assessment = record(clinician)
    services.sign_assessment(assessment=assessment, user=consultant, version=1)
    assert read(reviewer_client, assessment)["status"] == "final"


def test_status_signed_after_an_amendment_is_amended(reviewer_client, clinician, consultant):
    assessment = record(clinician)
    form = AmendForm(data=amend_data(assessment, tumor_size_cm="3.5"))
    assert form.is_valid(), form.errors
    amended = services.amend_assessment(
        assessment=assessment, data=form.cleaned_data, user=clinician, reason="Remeasured",
        version=1,
    )  # fmt: skip
    assert read(reviewer_client, amended)["status"] == "preliminary"
    services.sign_assessment(assessment=amended, user=consultant, version=2)
    assert read(reviewer_client, amended)["status"] == "amended"


@pytest.mark.parametrize("signed_first", [False, True])
def test_status_voided_is_entered_in_error(reviewer_client, clinician, consultant, signed_first):
    assessment = record(clinician)
    version = 1
    if signed_first:
        services.sign_assessment(assessment=assessment, user=consultant, version=1)
        version = 2
    services.void_assessment(assessment=assessment, user=clinician, reason="Wrong", version=version)
    assert read(reviewer_client, assessment)["status"] == "entered-in-error"


def test_each_read_is_audited_with_the_token_name(reviewer, clinician):
    assessment = record(clinician)
    api = ApiClient(token_for(reviewer, name="ehr-integration"))
    response = api.client.get(url(assessment), headers=api.headers)
    assert response.status_code == 200
    RiskAssessment.model_validate(response.json())
    event = events("fhir_read")[-1]
    assert event.user == reviewer and event.patient == assessment.patient
    assert event.detail == {"via": "api", "token": "ehr-integration"}


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [("anonymous", 401, "login"), ("no role", 403, "forbidden"), ("missing", 404, "not-found")],
)
def test_errors_are_operation_outcomes(no_role_user, reviewer, clinician, who, status, code):
    assessment = record(clinician)
    token = {"anonymous": None, "no role": token_for(no_role_user)}.get(who, token_for(reviewer))
    api = ApiClient(token)
    path = url(assessment) if who != "missing" else "/fhir/RiskAssessment/999999"
    response = api.client.get(path, headers=api.headers)
    assert response.status_code == status
    assert response["Content-Type"] == "application/fhir+json"
    outcome = response.json()
    OperationOutcome.model_validate(outcome)
    assert_valid_r4(outcome)
    assert outcome["issue"][0]["code"] == code
    assert not events("fhir_read")


def test_the_api_links_the_fhir_form(clinician):
    assessment = record(clinician)
    clinician_api = ApiClient(token_for(clinician))
    body = clinician_api.get(f"assessments/{assessment.pk}").json()
    assert body["fhir"] == f"/fhir/RiskAssessment/{assessment.pk}"
    listed = clinician_api.get("assessments").json()
    assert listed["results"][0]["fhir"] == body["fhir"]


def test_a_timed_out_session_answers_401_not_the_login_page(client, reviewer, clinician, settings):
    assessment = record(clinician)
    client.force_login(reviewer)
    session = client.session
    session["session_active_at"] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT - 1
    session.save()
    response = client.get(url(assessment))
    assert response.status_code == 401
    assert "Location" not in response


def test_every_kind_of_assessment_maps_to_valid_fhir(clinician):
    """The demo's assessments: every ruleset, status, unit and code the app stores."""
    with override_settings(DEBUG=True):
        call_command("seed_demo", count=120, stdout=io.StringIO())
    assessments = list(Assessment.objects.select_related("patient"))
    assert {a.ruleset for a in assessments} == {"1", "2", "3", "4"}
    assert {a.status for a in assessments} == {"draft", "signed", "voided"}
    for assessment in assessments:
        resource = json.loads(json.dumps(fhir.risk_assessment(assessment), default=float))
        RiskAssessment.model_validate(resource)
        assert_valid_r4(resource)
        for contained in resource["contained"]:
            MODELS[contained["resourceType"]].model_validate(contained)
        assert resource["status"] == fhir.status(assessment)
