"""CDS Hooks 2.0, "FHIR Resource Access": what a call does not prefetch is read from
the EHR's FHIR server (a fake one, an HTTP server in a thread of the test) with the
call's bearer token, only from the server registered for the client."""

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command

from ehr import fhir_access
from ehr.cds import inputs_recorded_at
from ehr.models import CdsClient
from tests.ehr.conftest import FakeEhr, bundle, hook_request, observation, patient_resource
from tests.factories import events, record

pytestmark = pytest.mark.django_db

VIEW = "/cds-services/adjuvant-tace"
TOKEN = "opaque-fhir-access-token-123"


class FakeFhirServer:
    """Answers GET by path (query included) from `resources`; records each request."""

    def __init__(self):
        self.resources = {}
        self.requests = []
        self.delay = 0
        self.redirect_to = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(
                    {"path": self.path, "authorization": self.headers.get("Authorization")}
                )
                time.sleep(server.delay)
                if server.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", server.redirect_to + self.path)
                    self.end_headers()
                    return
                resource = server.find(self.path)
                body = json.dumps(resource).encode()
                self.send_response(200 if resource else 404)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_port}/fhir"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def find(self, path):
        for prefix, resource in self.resources.items():
            if path.startswith(f"/fhir/{prefix}"):
                return resource
        return None

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fhir_server():
    server = FakeFhirServer()
    yield server
    server.close()


@pytest.fixture
def ehr(db, tmp_path, fhir_server):
    fake = FakeEhr()
    fake.register(tmp_path, fhir_server=fhir_server.base)
    return fake


def call(server_base, *, keep=(), **changes):
    """A patient-view call that prefetches only the keys in `keep`."""
    body = hook_request(**changes)
    body["prefetch"] = {key: value for key, value in body["prefetch"].items() if key in keep}
    if not body["prefetch"]:
        del body["prefetch"]
    body["fhirServer"] = server_base
    body["fhirAuthorization"] = {
        "access_token": TOKEN,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/Patient.read patient/Observation.read",
        "subject": "adjuvant-tace",
    }
    return body


def serve_labs(server, when, bilirubin=60, albumin=27, inr=2):
    server.resources.update(
        {
            "Patient/pat-123": patient_resource(),
            "Observation?patient=pat-123&code=http://loinc.org%7C1975-2": bundle(
                observation("bilirubin", bilirubin, when)
            ),
            "Observation?patient=pat-123&code=http://loinc.org%7C1751-7": bundle(
                observation("albumin", albumin, when)
            ),
            "Observation?patient=pat-123&code=http://loinc.org%7C6301-6": bundle(
                observation("inr", inr, when)
            ),
        }
    )


def test_without_prefetch_everything_is_read_from_the_registered_server(
    ehr, clinician, fhir_server
):
    assessment = record(clinician, tumor_size_cm="6.0")
    serve_labs(fhir_server, inputs_recorded_at(assessment) + timedelta(minutes=1))
    response = ehr.post(VIEW, call(fhir_server.base))
    assert response.status_code == 200, response.content
    card = response.json()["cards"][0]
    # The labs read from the server score Child-Pugh C: the card says so.
    assert card["indicator"] == "critical"
    assert card["links"][0]["url"].endswith(f"/assessments/{assessment.pk}/")
    paths = [r["path"] for r in fhir_server.requests]
    assert paths[0] == "/fhir/Patient/pat-123"
    assert len(paths) == 4
    assert {r["authorization"] for r in fhir_server.requests} == {f"Bearer {TOKEN}"}
    assert "_sort=-date&_count=1" in paths[1]
    # The token is never recorded.
    assert TOKEN not in json.dumps([e.detail for e in events("cds_call")])


def test_only_what_is_missing_is_read(ehr, clinician, fhir_server):
    record(clinician, tumor_size_cm="6.0")
    serve_labs(fhir_server, "2020-01-01")
    body = call(fhir_server.base, keep=("patient", "bilirubin", "albumin"))
    assert ehr.post(VIEW, body).status_code == 200
    assert [r["path"].split("&")[0] for r in fhir_server.requests] == [
        "/fhir/Observation?patient=pat-123"
    ]
    assert "6301-6" in fhir_server.requests[0]["path"]


def test_a_server_the_client_did_not_register_is_never_called(ehr, clinician, fhir_server):
    record(clinician, tumor_size_cm="6.0")
    other = FakeFhirServer()
    try:
        serve_labs(other, "2020-01-01")
        response = ehr.post(VIEW, call(other.base))
        assert response.status_code == 412
        assert "not the FHIR server registered" in response.json()["error"]
        # With the Patient prefetched, the card is given; the labs are said missing.
        response = ehr.post(VIEW, call(other.base, keep=("patient",)))
        assert response.status_code == 200
        assert "is not the one registered for this EHR" in response.json()["cards"][0]["detail"]
        assert other.requests == [] and fhir_server.requests == []
    finally:
        other.close()


def test_a_client_registered_without_a_server_never_fetches(db, tmp_path, fhir_server):
    ehr = FakeEhr(issuer="https://no-fhir.example")
    ehr.register(tmp_path)
    serve_labs(fhir_server, "2020-01-01")
    assert ehr.post(VIEW, call(fhir_server.base)).status_code == 412
    assert fhir_server.requests == []


def test_a_slow_server_is_given_up_quickly(ehr, clinician, fhir_server, monkeypatch):
    monkeypatch.setattr(fhir_access, "TIMEOUT_SECONDS", 0.3)
    record(clinician, tumor_size_cm="6.0")
    serve_labs(fhir_server, "2020-01-01")
    fhir_server.delay = 1
    started = time.monotonic()
    response = ehr.post(VIEW, call(fhir_server.base, keep=("patient",)))
    assert time.monotonic() - started < 2.5
    assert response.status_code == 200
    card = response.json()["cards"][0]
    assert "Not read (Bilirubin): could not be read from the EHR's FHIR server." in card["detail"]
    assert events("cds_call")[-1].detail["not_prefetched"] == {
        "bilirubin": "fetch_failed",
        "albumin": "fetch_failed",
        "inr": "fetch_failed",
    }


def test_the_reads_of_a_call_share_one_time_budget(ehr, clinician, fhir_server, monkeypatch):
    monkeypatch.setattr(fhir_access, "TIMEOUT_SECONDS", 0.4)
    monkeypatch.setattr(fhir_access, "BUDGET_SECONDS", 0.6)
    record(clinician, tumor_size_cm="6.0")
    serve_labs(fhir_server, "2020-01-01")
    fhir_server.delay = 1
    started = time.monotonic()
    assert ehr.post(VIEW, call(fhir_server.base, keep=("patient",))).status_code == 200
    assert time.monotonic() - started < 1.5
    assert len(fhir_server.requests) == 2  # the third read had no time left


def test_a_redirect_is_not_followed(ehr, clinician, fhir_server):
    record(clinician, tumor_size_cm="6.0")
    other = FakeFhirServer()
    try:
        serve_labs(other, "2020-01-01")
        fhir_server.redirect_to = other.base.removesuffix("/fhir")
        assert ehr.post(VIEW, call(fhir_server.base)).status_code == 412
        assert other.requests == []
    finally:
        other.close()


def test_a_missing_patient_on_the_server_is_412(ehr, fhir_server):
    assert ehr.post(VIEW, call(fhir_server.base)).status_code == 412


@pytest.mark.parametrize(
    "change",
    [
        {"fhirServer": None},
        {"fhirAuthorization": {"access_token": TOKEN, "token_type": "MAC"}},
        {"fhirAuthorization": {"token_type": "Bearer"}},
        {"fhirAuthorization": "token"},
    ],
)
def test_fhir_authorization_is_checked(ehr, fhir_server, change):
    body = call(fhir_server.base)
    body.update(change)
    body = {name: value for name, value in body.items() if value is not None}
    assert ehr.post(VIEW, body).status_code == 400
    assert fhir_server.requests == []


def test_a_trailing_slash_names_the_same_server(ehr, clinician, fhir_server):
    record(clinician, tumor_size_cm="6.0")
    serve_labs(fhir_server, "2020-01-01")
    assert ehr.post(VIEW, call(fhir_server.base + "/")).status_code == 200


# Registering the server


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://ehr.example/fhir", "https"),
        ("ftp://ehr.example/fhir", "https"),
        ("https://user:pw@ehr.example/fhir", "no user"),
        ("https://ehr.example/fhir?x=1", "no user"),
        ("fhir", "https"),
    ],
)
def test_cds_client_refuses_a_fhir_server_that_is_not_https(tmp_path, url, error):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(FakeEhr().jwks()))
    with pytest.raises(CommandError, match=error):
        call_command("cds_client", "add", "--issuer", "x", "--jwks-file", str(path),
                     "--mrn-system", "urn:x", "--fhir-server", url)  # fmt: skip
    assert not CdsClient.objects.exists()


def test_cds_client_registers_its_fhir_server(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(FakeEhr().jwks()))
    call_command("cds_client", "add", "--issuer", "x", "--jwks-file", str(path),
                 "--mrn-system", "urn:x", "--fhir-server", "https://ehr.example/fhir/",
                 stdout=open("/dev/null", "w"))  # fmt: skip
    assert CdsClient.objects.get().fhir_server == "https://ehr.example/fhir"
    assert events("cds_client")[-1].detail["fhir_server"] == "https://ehr.example/fhir"
