"""The OpenAPI schema: valid, and a fuzzer driven by it finds no 5xx and no answer that
disagrees with it (schemathesis, with a Clinicians token)."""

import json

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import ApiClient, token_for
from tests.factories import PANEL, record

pytestmark = pytest.mark.django_db


def generated_schema() -> dict:
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))


SCHEMA = generated_schema()
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_the_served_schema_is_valid_openapi(clinician_api):
    response = clinician_api.get("schema/", {"format": "json"})
    assert response.status_code == 200
    served = response.json()
    validate(served)
    assert served == SCHEMA
    assert set(served["paths"]) == {
        "/api/v1/evaluate",
        "/api/v1/assessments",
        "/api/v1/assessments/{id}",
        "/api/v1/assessments/{id}/amend",
        "/api/v1/assessments/{id}/void",
        "/api/v1/assessments/{id}/history",
        "/api/v1/patients/lookup",
        "/api/v1/patients/{id}",
    }


def test_every_input_field_says_its_range_unit_and_codes():
    fields = SCHEMA["components"]["schemas"]["AssessmentInputRequest"]["properties"]
    size = fields["tumor_size_cm"]
    assert size["anyOf"][0] == {"type": "number", "minimum": 0.1, "maximum": 30.0}
    assert "0.1 to 30.0 cm" in size["description"]
    assert fields["bilirubin_unit"]["enum"] == ["umol_l", "mg_dl"]
    assert "mg_dl" in fields["bilirubin_unit"]["description"]
    assert fields["mrn"]["maxLength"] == 32
    for name, field in fields.items():
        assert field.get("description"), name


fuzzed = schemathesis.openapi.from_dict(SCHEMA)


@pytest.fixture
def wsgi_in_the_test_transaction():
    """As Django's test client does: the database connection outlives each request."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def known(clinician, settings, wsgi_in_the_test_transaction):
    settings.API_THROTTLE_RATES = {"token": "100000/min", "address": "100000/min"}
    settings.ALLOWED_HOSTS = ["localhost"]  # where schemathesis sends its calls
    assessment = record(clinician, **PANEL)
    # Made under the test settings (WhiteNoise then needs no collected files).
    app = WSGIHandler()
    return {"token": token_for(clinician, "fuzzer"), "assessment": assessment, "app": app}


@fuzzed.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_the_api_agrees_with_its_schema(case, known):
    assessment = known["assessment"]
    if "id" in (case.path_parameters or {}):
        # Half the calls reach a real assessment or patient, the rest an unknown id.
        value = case.path_parameters["id"]
        if isinstance(value, int) and value % 2 == 0:
            is_patient = case.path.startswith("/api/v1/patients/")
            case.path_parameters["id"] = assessment.patient_id if is_patient else assessment.pk
    headers = {"Authorization": f"Bearer {known['token']}"}
    case.call_and_validate(app=known["app"], headers=headers, checks=CHECKS)


def test_a_stateful_walk_create_read_amend_void(clinician):
    """What the fuzzer's single calls cannot: the answers of one call feed the next."""
    api = ApiClient(token_for(clinician))
    created = api.post(
        "assessments",
        {"mrn": "S-1", "resection_date": "2026-01-05", "tumor_size_cm": 6, "tumor_count": 1,
         "vascular_invasion": "none", "cirrhosis_grade": "mild", "notes": ""},
    )  # fmt: skip
    location, tag = created["Location"], created["ETag"]
    read = api.client.get(location, headers=api.headers)
    assert read["ETag"] == tag
    body = {k: read.json()[k] for k in ("resection_date", "tumor_count", "vascular_invasion",
                                        "cirrhosis_grade", "notes")}  # fmt: skip
    body |= {"tumor_size_cm": read.json()["tumor_size_cm"], "reason": "Remeasured size"}
    amended = api.client.post(location + "/amend", json.dumps(body),
                              content_type="application/json",
                              headers={**api.headers, "If-Match": tag})  # fmt: skip
    assert amended.status_code == 200 and amended["ETag"] != tag
    stale = api.client.post(location + "/void", json.dumps({"reason": "Wrong patient"}),
                            content_type="application/json",
                            headers={**api.headers, "If-Match": tag})  # fmt: skip
    assert stale.status_code == 412
    voided = api.client.post(location + "/void", json.dumps({"reason": "Wrong patient"}),
                             content_type="application/json",
                             headers={**api.headers, "If-Match": amended["ETag"]})  # fmt: skip
    assert voided.status_code == 200 and voided.json()["status"] == "voided"


def test_request_bodies_refuse_unknown_fields_as_the_server_does():
    for name, component in SCHEMA["components"]["schemas"].items():
        if name.endswith("Request"):
            assert component["additionalProperties"] is False, name


@pytest.mark.parametrize(
    ("field", "accepted", "refused"),
    [
        (
            "tumor_size_cm",
            ["0.1", "5", "5.0", "29.9", "30", "30.0"],
            ["0", "0.0", "30.1", "31", "5.55"],
        ),
        ("tumor_count", ["1", "9", "10"], ["0", "1.0"]),
        ("prior_adjuvant_tace_sessions", ["0", "1"], ["-1", "1.5"]),
    ],
)
def test_the_string_form_of_a_number_has_the_fields_range(field, accepted, refused):
    """The schema's pattern accepts exactly what the form accepts (checked by the form)."""
    import re

    from assessments.forms import AssessmentForm

    schema = SCHEMA["components"]["schemas"]["AssessmentInputRequest"]["properties"][field]
    pattern = re.compile(schema["anyOf"][1]["pattern"])
    form_field = AssessmentForm.base_fields[field]
    for text in accepted + refused:
        try:
            form_field.clean(text)
            ok = True
        except Exception:  # noqa: BLE001 - any refusal of the form
            ok = False
        assert bool(pattern.fullmatch(text)) == ok == (text in accepted), (field, text)


def test_a_create_links_to_amend_and_void_with_its_etag():
    created = SCHEMA["paths"]["/api/v1/assessments"]["post"]["responses"]["201"]["links"]
    assert created["amend"]["operationId"] == "assessments_amend_create"
    assert created["void"]["parameters"] == {
        "id": "$response.body#/id",
        "header.If-Match": "$response.header.ETag",
    }
    amended = SCHEMA["paths"]["/api/v1/assessments/{id}/amend"]["post"]["responses"]["200"]
    assert "void" in amended["links"]


def test_a_stateful_walk_along_the_schemas_links(known):
    """Schemathesis follows the links: create, then amend or void what it created, with
    the ETag it was answered, and every answer agrees with the schema."""
    app, token = known["app"], known["token"]
    called = []

    class Walk(fuzzed.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"app": app, "headers": {"Authorization": f"Bearer {token}"}}

        def after_call(self, response, case):
            called.append((case.operation.label, response.status_code))

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Walk.run(
        settings=settings(
            max_examples=15,
            stateful_step_count=4,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
    )
    labels = {label for label, _ in called}
    assert "POST /api/v1/assessments" in labels
    followed = {label for label, status in called if label.endswith(("/amend", "/void"))}
    assert followed, called
