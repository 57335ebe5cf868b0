"""The FHIR endpoint beyond the read: metadata, versions (ETag, meta.versionId,
Last-Modified, vread), search, formats, unknown routes, the narrative and the labs'
own times. Every answer is validated against the official R4 JSON schema."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.http import urlencode

from assessments import services
from assessments.forms import AmendForm
from assessments.models import Assessment, AuditEvent
from ehr import fhir
from tests.api.conftest import token_for
from tests.ehr.r4 import assert_valid_r4
from tests.factories import PANEL, amend_data, events, record

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json"


class Fhir:
    def __init__(self, user=None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token_for(user)}"} if user else {}

    def get(self, path, params=None, **headers):
        response = self.client.get(path, params or {}, headers={**self.headers, **headers})
        return self._checked(response)

    def post(self, path, data, **headers):
        response = self.client.post(
            path,
            urlencode(data),
            content_type="application/x-www-form-urlencoded",
            headers={**self.headers, **headers},
        )
        return self._checked(response)

    @staticmethod
    def _checked(response):
        assert response["Content-Type"] == FHIR_JSON, response.content[:200]
        assert_valid_r4(response.json())
        return response


def amend(assessment, user, **changes):
    form = AmendForm(data=amend_data(assessment, **changes))
    assert form.is_valid(), form.errors
    return services.amend_assessment(
        assessment=assessment,
        data=form.cleaned_data,
        user=user,
        reason="Corrected",
        version=assessment.version,
    )


@pytest.fixture
def reader(reviewer):
    return Fhir(reviewer)


def test_metadata_is_a_capability_statement(reader):
    response = reader.get("/fhir/metadata")
    assert response.status_code == 200
    statement = response.json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    resource = statement["rest"][0]["resource"][0]
    assert resource["type"] == "RiskAssessment"
    assert {i["code"] for i in resource["interaction"]} == {"read", "vread", "search-type"}
    assert {p["name"] for p in resource["searchParam"]} == {"subject", "_lastUpdated"}


@pytest.mark.parametrize(("who", "status"), [("anonymous", 401), ("no role", 403)])
def test_metadata_needs_the_role_as_the_read_does(no_role_user, who, status):
    response = Fhir(no_role_user if who == "no role" else None).get("/fhir/metadata")
    assert response.status_code == status
    assert response.json()["resourceType"] == "OperationOutcome"


def test_the_read_carries_its_version(reader, clinician):
    assessment = record(clinician, **PANEL)
    response = reader.get(f"/fhir/RiskAssessment/{assessment.pk}")
    assert response["ETag"] == 'W/"1"'
    assert response.json()["meta"]["versionId"] == "1"
    assert response["Last-Modified"]
    amended = amend(assessment, clinician, tumor_size_cm="6.5")
    again = reader.get(f"/fhir/RiskAssessment/{assessment.pk}")
    assert again["ETag"] == f'W/"{amended.version}"' == 'W/"2"'
    assert again.json()["meta"]["versionId"] == "2"


def test_vread_answers_each_version_as_it_was(reader, clinician, consultant):
    assessment = record(clinician, tumor_size_cm="3.0")
    amended = amend(assessment, clinician, tumor_size_cm="6.5")
    services.sign_assessment(assessment=amended, user=consultant, version=2)
    first = reader.get(f"/fhir/RiskAssessment/{assessment.pk}/_history/1")
    assert first.status_code == 200 and first["ETag"] == 'W/"1"'
    resource = first.json()
    assert resource["meta"]["versionId"] == "1"
    assert resource["status"] == "preliminary"
    size = next(o for o in resource["contained"] if o["id"] == "tumor-size-cm")
    assert size["valueQuantity"]["value"] == 3.0
    assert resource["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] == "low"
    third = reader.get(f"/fhir/RiskAssessment/{assessment.pk}/_history/3").json()
    assert third["status"] == "amended" and third["meta"]["versionId"] == "3"
    assert third == reader.get(f"/fhir/RiskAssessment/{assessment.pk}").json()
    event = events("fhir_read")[0]
    assert event.detail["version"] == 1 and event.patient == assessment.patient


def test_vread_of_a_version_that_never_was(reader, clinician):
    assessment = record(clinician)
    response = reader.get(f"/fhir/RiskAssessment/{assessment.pk}/_history/9")
    assert response.status_code == 404
    assert response.json()["issue"][0]["code"] == "not-found"


def test_labs_are_dated_when_their_value_was_recorded(reader, clinician):
    assessment = record(clinician, tumor_size_cm="6.0", **PANEL)
    amend(
        assessment,
        clinician,
        bilirubin="2.0",
        **{k: v for k, v in PANEL.items() if k != "bilirubin"},
    )
    created, amended = assessment.history.order_by("history_id")
    resource = reader.get(f"/fhir/RiskAssessment/{assessment.pk}").json()
    when = {o["id"]: o["effectiveDateTime"] for o in resource["contained"] if o["id"] != "hcc"}
    assert when["bilirubin"] == fhir._instant(amended.history_date)
    assert when["albumin"] == when["inr"] == fhir._instant(created.history_date)
    assert when["tumor-size-cm"] == fhir._instant(created.history_date)
    assert when["bilirubin"] != when["albumin"]


def test_the_narrative_is_escaped_xhtml(clinician):
    assessment = record(clinician, tumor_size_cm="6.0")
    assessment.rationale = ['Size <b>"6"</b> & more']
    text = fhir.narrative(assessment, state="preliminary", mitigation="x < y")
    assert text["status"] == "generated"
    assert text["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
    assert "&lt;b&gt;&quot;6&quot;&lt;/b&gt; &amp; more" in text["div"]
    assert "x &lt; y" in text["div"] and "<b>" not in text["div"]
    resource = fhir.risk_assessment(assessment)
    assert "MRN-1" in resource["text"]["div"]


def search(reader, **params):
    return reader.get("/fhir/RiskAssessment", params)


def test_search_by_the_patients_identifier(reader, clinician, settings):
    mine = [record(clinician, mrn="MRN-1"), record(clinician, mrn="MRN-1", tumor_size_cm="6.0")]
    record(clinician, mrn="MRN-2")
    response = search(reader, **{"subject:identifier": f"{settings.FHIR_MRN_SYSTEM}|MRN-1"})
    assert response.status_code == 200
    bundle = response.json()
    assert bundle["type"] == "searchset" and bundle["total"] == 2
    assert [e["resource"]["id"] for e in bundle["entry"]] == [str(a.pk) for a in reversed(mine)]
    assert bundle["entry"][0]["fullUrl"].endswith(f"/fhir/RiskAssessment/{mine[1].pk}")
    assert {e["search"]["mode"] for e in bundle["entry"]} == {"match"}
    assert len(events("fhir_read")) == 2
    lookup = events("api_lookup")[-1]
    assert lookup.detail["found"] == 2 and lookup.patient == mine[0].patient
    alone = search(reader, **{"subject:identifier": "MRN-1"}).json()
    assert alone["total"] == 2


def test_another_systems_identifier_matches_nothing(reader, clinician):
    record(clinician, mrn="MRN-1")
    bundle = search(reader, **{"subject:identifier": "urn:oid:9.9.9|MRN-1"}).json()
    assert bundle["total"] == 0 and "entry" not in bundle


def test_search_by_last_updated(reader, clinician):
    old, new = record(clinician, mrn="MRN-1"), record(clinician, mrn="MRN-1")
    Assessment.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=10))
    day = (timezone.localdate() - timedelta(days=5)).isoformat()

    def ids(*values):
        bundle = search(reader, _lastUpdated=list(values)).json()
        return [e["resource"]["id"] for e in bundle.get("entry", [])]

    assert ids(f"ge{day}") == [str(new.pk)]
    assert ids(f"le{day}") == [str(old.pk)]
    assert ids(f"ge{day}", f"le{timezone.localdate().isoformat()}") == [str(new.pk)]
    assert ids("ge2000-01-01T00:00:00Z") == [str(new.pk), str(old.pk)]
    assert ids(f"lt{day}", f"gt{day}") == []


def test_search_pages_with_a_next_link(reader, clinician):
    for _ in range(3):
        record(clinician, mrn="MRN-1")
    bundle = search(reader, **{"subject:identifier": "MRN-1", "_count": "2"}).json()
    assert bundle["total"] == 3 and len(bundle["entry"]) == 2
    links = {link["relation"]: link["url"] for link in bundle["link"]}
    following = reader.get(links["next"]).json()
    assert len(following["entry"]) == 1 and "next" not in {
        lk["relation"] for lk in following["link"]
    }


def test_search_by_post_keeps_the_mrn_out_of_the_url(reader, clinician):
    record(clinician, mrn="MRN-1")
    response = reader.post("/fhir/RiskAssessment/_search", {"subject:identifier": "MRN-1"})
    assert response.status_code == 200 and response.json()["total"] == 1


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({}, "Search by subject:identifier"),
        ({"patient": "1"}, "Unknown search parameter(s): patient"),
        ({"_lastUpdated": "ge2026-13-01"}, "_lastUpdated"),
        ({"_lastUpdated": "ge2026-03-01T10:00:00"}, "time zone"),
        ({"subject:identifier": "MRN-1", "_count": "0"}, "_count: a whole number from 1 to 100."),
    ],
)
def test_a_search_it_cannot_run_says_why(reader, params, says):
    response = search(reader, **params)
    assert response.status_code == 400
    issue = response.json()["issue"][0]
    assert issue["code"] == "invalid" and says in issue["diagnostics"]


@pytest.mark.parametrize(("who", "status"), [("anonymous", 401), ("no role", 403)])
def test_search_needs_the_role(no_role_user, clinician, who, status):
    record(clinician, mrn="MRN-1")
    api = Fhir(no_role_user if who == "no role" else None)
    assert search(api, **{"subject:identifier": "MRN-1"}).status_code == status
    assert not AuditEvent.objects.filter(action__in=["fhir_read", "api_lookup"]).exists()


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({"_format": "xml"}, {}),
        ({"_format": "application/fhir+xml"}, {}),
        ({}, {"Accept": "application/fhir+xml"}),
        ({}, {"Accept": "application/xml, text/xml"}),
    ],
)
def test_xml_is_answered_406_in_json(reader, clinician, params, headers):
    assessment = record(clinician)
    response = reader.get(f"/fhir/RiskAssessment/{assessment.pk}", params, **headers)
    assert response.status_code == 406
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "JSON only" in outcome["issue"][0]["diagnostics"]
    assert not events("fhir_read")


@pytest.mark.parametrize("fmt", ["json", "application/fhir+json"])
def test_json_formats_are_answered(reader, clinician, fmt):
    assessment = record(clinician)
    response = reader.get(f"/fhir/RiskAssessment/{assessment.pk}", {"_format": fmt})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/fhir/Patient/1", "/fhir/RiskAssessment/abc", "/fhir/", "/fhir/RiskAssessment/1/_history"],
)
def test_unknown_routes_are_operation_outcomes(reader, path):
    for response in (reader.get(path), reader.post(path, {})):
        assert response.status_code == 404
        assert response.json()["issue"][0]["code"] == "not-found"


def test_every_kind_of_answer_is_valid_r4(reader, clinician, consultant):
    """The read of every status, with and without a panel, against the official schema."""
    draft = record(clinician, **PANEL)
    signed = record(clinician, tumor_size_cm="6.0")
    services.sign_assessment(assessment=signed, user=consultant, version=1)
    voided = record(clinician)
    services.void_assessment(assessment=voided, user=clinician, reason="Wrong", version=1)
    for assessment in (draft, signed, voided):
        assert reader.get(f"/fhir/RiskAssessment/{assessment.pk}").status_code == 200
    bundle = search(reader, **{"subject:identifier": "MRN-1"}).json()
    assert bundle["total"] == 3
