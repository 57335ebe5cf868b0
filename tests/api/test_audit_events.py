"""Every API read and write is an audit event: who, which token by name, what."""

import pytest

from api.actions import ApiAction
from assessments.audit import first_broken_link
from assessments.models import AuditEvent
from tests.api.conftest import ApiClient, token_for
from tests.api.test_endpoints import INPUTS, amend_body, new_assessment
from tests.factories import record

pytestmark = pytest.mark.django_db
Action = AuditEvent.Action


def last_event():
    """The newest access event (writes also add record_changed events, which seal history)."""
    return AuditEvent.objects.exclude(action=Action.RECORD_CHANGED).order_by("-id").first()


def test_each_call_is_one_event_naming_the_token(clinician):
    api = ApiClient(token_for(clinician, "ehr-engine"))
    assessment = record(clinician)
    patient = assessment.patient
    calls = [
        (lambda: api.post("evaluate", INPUTS), ApiAction.API_EVALUATE, None),
        (lambda: api.get("assessments"), ApiAction.API_LIST, None),
        (lambda: api.get(f"assessments/{assessment.pk}"), Action.VIEW_ASSESSMENT, patient),
        (lambda: api.get(f"assessments/{assessment.pk}/history"), Action.VIEW_HISTORY, patient),
        (lambda: api.post("patients/lookup", {"mrn": "MRN-1"}), ApiAction.API_LOOKUP, patient),
        (lambda: api.get(f"patients/{patient.pk}"), Action.VIEW_PATIENT, patient),
        (
            lambda: api.post(
                f"assessments/{assessment.pk}/amend", amend_body(), **{"If-Match": '"1"'}
            ),
            ApiAction.API_AMEND,
            patient,
        ),
        (
            lambda: api.post(
                f"assessments/{assessment.pk}/void",
                {"reason": "Wrong patient"},
                **{"If-Match": '"2"'},
            ),
            ApiAction.API_VOID,
            patient,
        ),
        (lambda: api.post("assessments", new_assessment()), ApiAction.API_CREATE, "new"),
    ]
    for call, action, expected_patient in calls:
        # Writes also seal their history rows into the chain (record_changed events).
        accesses = AuditEvent.objects.exclude(action=Action.RECORD_CHANGED)
        before = accesses.count()
        response = call()
        assert response.status_code in (200, 201), (action, response.json())
        assert accesses.count() == before + 1, action
        event = last_event()
        assert event.action == action
        assert event.user == clinician and event.username == "dr-lee"
        assert event.detail["via"] == "api" and event.detail["token"] == "ehr-engine"
        assert event.client_ip == "127.0.0.1"
        if expected_patient == "new":
            assert event.patient.mrn == "API-0001"
        else:
            assert event.patient == expected_patient
    assert first_broken_link() is None


def test_evaluate_logs_no_inputs(clinician_api):
    clinician_api.post("evaluate", {**INPUTS, "tumor_size_cm": "7.3"})
    clinician_api.post("evaluate", {**INPUTS, "tumor_size_cm": "seven"})
    valid, invalid = AuditEvent.objects.filter(action=ApiAction.API_EVALUATE).order_by("id")
    assert valid.detail == {"via": "api", "token": "dr-lee-system", "valid": True, "ruleset": "4"}
    assert invalid.detail == {
        "via": "api",
        "token": "dr-lee-system",
        "valid": False,
        "ruleset": None,
    }
    assert "7.3" not in str(valid.detail)


def test_a_lookup_logs_no_mrn(clinician_api):
    clinician_api.post("patients/lookup", {"mrn": "NOT-HERE-42"})
    event = last_event()
    assert event.action == ApiAction.API_LOOKUP and event.patient is None
    assert "NOT-HERE-42" not in str(event.detail)


def test_a_refusal_is_audited_like_the_webs(reviewer_api, reviewer):
    response = reviewer_api.post("assessments", new_assessment())
    assert response.status_code == 403
    event = last_event()
    assert event.action == Action.PERMISSION_DENIED and event.user == reviewer
    assert event.detail["permission"] == "assessments.add_assessment"
    assert event.detail["token"] == "rev-kim-system"


def test_a_session_call_says_so(client, clinician):
    client.force_login(clinician)
    client.get("/api/v1/assessments")
    assert last_event().detail["token"] == "(browser session)"


def test_the_list_logs_its_known_filters_only(clinician_api):
    clinician_api.get("assessments", {"recommendation": "recommended", "mrn": "A-123"})
    event = last_event()
    assert event.action == ApiAction.API_LIST
    assert event.detail["filters"] == {"recommendation": "recommended"}
