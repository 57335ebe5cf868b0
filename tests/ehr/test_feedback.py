"""POST /cds-services/{id}/feedback: each accepted or overridden card an audit event."""

import pytest

from tests.conftest import events, record
from tests.ehr.conftest import hook_request, schema_errors

pytestmark = pytest.mark.django_db

FEEDBACK = "/cds-services/adjuvant-tace/feedback"


def shown_card(ehr, clinician) -> dict:
    record(clinician, tumor_size_cm="6.0", cirrhosis_grade="severe")
    return ehr.post("/cds-services/adjuvant-tace", hook_request()).json()["cards"][0]


def test_an_overridden_card_with_its_reason(ehr, clinician):
    card = shown_card(ehr, clinician)
    reason = card["overrideReasons"][0]
    body = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "overrideReason": {"reason": reason, "userComment": "Seen at the MDT"},
                "outcomeTimestamp": "2026-03-01T10:15:00Z",
            }
        ]
    }
    assert schema_errors("feedback-request", body) == []
    response = ehr.post(FEEDBACK, body)
    assert response.status_code == 200
    event = events("cds_feedback")[-1]
    assert event.detail == {
        "service": "adjuvant-tace",
        "issuer": ehr.issuer,
        "card": card["uuid"],
        "outcome": "overridden",
        "reason": reason,
        "userComment": "Seen at the MDT",
        "outcomeTimestamp": "2026-03-01T10:15:00Z",
    }
    # The call that showed the card names it: the two events meet by its uuid.
    assert events("cds_call")[-1].detail["cards"][0]["uuid"] == card["uuid"]


def test_accepted_cards_one_event_each(ehr, clinician):
    card = shown_card(ehr, clinician)
    body = {
        "feedback": [
            {"card": card["uuid"], "outcome": "accepted", "acceptedSuggestions": [],
             "outcomeTimestamp": "2026-03-01T10:15:00Z"},
            {"card": "another-card", "outcome": "accepted", "acceptedSuggestions": [],
             "outcomeTimestamp": "2026-03-01T10:16:00Z"},
        ]
    }  # fmt: skip
    assert schema_errors("feedback-request", body) == []
    assert ehr.post(FEEDBACK, body).status_code == 200
    assert [e.detail["card"] for e in events("cds_feedback")] == [card["uuid"], "another-card"]
    assert {e.detail["outcome"] for e in events("cds_feedback")} == {"accepted"}


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
    assert ehr.post(FEEDBACK, body).status_code == 400
    assert not events("cds_feedback")


def test_feedback_for_an_unknown_service_is_404(ehr):
    assert ehr.post("/cds-services/nothing/feedback", {"feedback": []}).status_code == 404
