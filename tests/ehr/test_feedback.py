"""POST /cds-services/{id}/feedback: each accepted or overridden card an audit event."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.ehr.conftest import FakeEhr, hook_request, schema_errors
from tests.factories import events, record

pytestmark = pytest.mark.django_db

FEEDBACK = "/cds-services/adjuvant-tace/feedback"


def shown_card(ehr, clinician) -> dict:
    record(clinician, tumor_size_cm="6.0", cirrhosis_grade="severe")
    return ehr.post("/cds-services/adjuvant-tace", hook_request()).json()["cards"][0]


def now(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat().replace("+00:00", "Z")


def test_an_overridden_card_with_its_reason(ehr, clinician):
    card = shown_card(ehr, clinician)
    reason = card["overrideReasons"][0]
    body = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "overrideReason": {"reason": reason, "userComment": "Seen at the MDT"},
                "outcomeTimestamp": (stamp := now()),
            }
        ]
    }
    assert schema_errors("feedback-request", body) == []
    response = ehr.post(FEEDBACK, body)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"recorded": 1}
    event = events("cds_feedback")[-1]
    assert event.detail == {
        "service": "adjuvant-tace",
        "issuer": ehr.issuer,
        "card": card["uuid"],
        "outcome": "overridden",
        "reason": reason,
        "userComment": "Seen at the MDT",
        "outcomeTimestamp": stamp,
    }
    # The call that showed the card names it: the two events meet by its uuid.
    assert events("cds_call")[-1].detail["cards"][0]["uuid"] == card["uuid"]


def test_accepted_cards_one_event_each(ehr, clinician):
    card = shown_card(ehr, clinician)
    other = ehr.post("/cds-services/adjuvant-tace", hook_request()).json()["cards"][0]
    body = {
        "feedback": [
            {"card": card["uuid"], "outcome": "accepted", "acceptedSuggestions": [],
             "outcomeTimestamp": now()},
            {"card": other["uuid"], "outcome": "accepted", "acceptedSuggestions": [],
             "outcomeTimestamp": now(seconds=1)},
        ]
    }  # fmt: skip
    assert schema_errors("feedback-request", body) == []
    assert ehr.post(FEEDBACK, body).json() == {"recorded": 2}
    assert [e.detail["card"] for e in events("cds_feedback")] == [card["uuid"], other["uuid"]]
    assert {e.detail["outcome"] for e in events("cds_feedback")} == {"accepted"}


def _one(card: str, stamp: str) -> dict:
    return {"feedback": [{"card": card, "outcome": "overridden", "outcomeTimestamp": stamp}]}


def test_feedback_for_a_card_never_issued_is_refused(ehr, clinician):
    shown_card(ehr, clinician)
    for card in [str(uuid.uuid4()), "another-card", ""]:
        response = ehr.post(FEEDBACK, _one(card, now()))
        assert response.status_code == 400
        assert response.json()["error"].startswith("feedback[0].card")
    assert not events("cds_feedback")


def test_feedback_for_a_card_of_the_other_service_is_refused(ehr, clinician):
    card = shown_card(ehr, clinician)
    response = ehr.post(
        "/cds-services/adjuvant-tace-order-check/feedback", _one(card["uuid"], now())
    )
    assert response.status_code == 400
    assert not events("cds_feedback")


def test_feedback_for_a_card_shown_to_another_ehr_is_refused(ehr, clinician, tmp_path):
    card = shown_card(ehr, clinician)
    other = FakeEhr(issuer="https://second-ehr.example")
    other.register(tmp_path)
    assert other.post(FEEDBACK, _one(card["uuid"], now())).status_code == 400
    assert not events("cds_feedback")


@pytest.mark.parametrize(
    "stamp",
    [
        "yesterday",
        "2026-03-01",  # a date, not a date-time
        "2026-03-01T10:15:00",  # no time zone
        "2026-02-30T10:15:00Z",  # no such day
        "2026-03-01 10:15:00Z",
        None,
        12345,
    ],
)
def test_garbage_timestamps_are_refused(ehr, clinician, stamp):
    card = shown_card(ehr, clinician)
    response = ehr.post(FEEDBACK, _one(card["uuid"], stamp))
    assert response.status_code == 400
    assert "feedback[0].outcomeTimestamp" in response.json()["error"]
    assert not events("cds_feedback")


@pytest.mark.parametrize(("delta", "accepted"), [
    ({"seconds": 50}, True), ({"minutes": 5}, False), ({"minutes": -5}, False),
])  # fmt: skip
def test_a_timestamp_is_between_the_card_and_now(ehr, clinician, delta, accepted):
    card = shown_card(ehr, clinician)
    status = ehr.post(FEEDBACK, _one(card["uuid"], now(**delta))).status_code
    assert status == (200 if accepted else 400)


def test_an_offset_other_than_utc_is_an_rfc_3339_time_too(ehr, clinician):
    card = shown_card(ehr, clinician)
    stamp = datetime.now(UTC).astimezone().isoformat()
    assert ehr.post(FEEDBACK, _one(card["uuid"], stamp)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"feedback": []},
        {"feedback": [{"outcome": "accepted"}]},
        {"feedback": [{"card": "c", "outcome": "ignored"}]},
        [],
    ],
)
def test_bad_feedback_is_400_and_records_nothing(ehr, body):
    assert schema_errors("feedback-request", body) != []
    response = ehr.post(FEEDBACK, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert not events("cds_feedback")


def test_feedback_for_an_unknown_service_is_404(ehr):
    assert ehr.post("/cds-services/nothing/feedback", {"feedback": []}).status_code == 404
