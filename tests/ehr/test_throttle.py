"""What an unauthenticated caller can make the CDS endpoints do: a throttle per
address, a bounded audit chain under a flood of refusals, and JSON for every error."""

import json
from types import SimpleNamespace

import pytest

from assessments.models import AuditEvent
from ehr import cds, throttle
from tests.ehr.conftest import hook_request
from tests.factories import events

pytestmark = pytest.mark.django_db

SERVICE = "/cds-services/adjuvant-tace"


def refused_call(ehr, address="198.51.100.7"):
    return ehr.client.post(
        SERVICE,
        json.dumps(hook_request()),
        content_type="application/json",
        headers={"Authorization": "Bearer not-a-jwt"},
        REMOTE_ADDR=address,
    )


def test_the_endpoints_are_throttled_per_address(ehr, settings):
    settings.CDS_THROTTLE_RATE = "3/min"
    assert [refused_call(ehr).status_code for _ in range(3)] == [401, 401, 401]
    # Counted before the token is read: a valid call from the same address waits too.
    response = ehr.client.post(
        SERVICE,
        json.dumps(hook_request()),
        content_type="application/json",
        headers={"Authorization": f"Bearer {ehr.token('http://testserver' + SERVICE)}"},
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert 0 < int(response["Retry-After"]) <= 60
    assert "error" in response.json()
    assert len(events("cds_refused")) == 3
    assert refused_call(ehr, address="198.51.100.8").status_code == 401  # another address
    assert ehr.client.get("/cds-services", REMOTE_ADDR="198.51.100.7").status_code == 429


def test_a_flood_of_refusals_cannot_grow_the_chain_without_bound(ehr, monkeypatch):
    monkeypatch.setattr(throttle, "REFUSALS_CHAINED", 3)
    clock = SimpleNamespace(time=lambda: 1_000_000.0)
    monkeypatch.setattr(throttle, "time", clock)
    before = AuditEvent.objects.count()
    responses = [refused_call(ehr) for _ in range(50)]
    assert {r.status_code for r in responses} == {401}
    # Three refusals, then one saying that the rest of the window is counted only.
    chained = events("cds_refused")
    assert AuditEvent.objects.count() - before == len(chained) == 4
    assert "further_refusals" not in chained[2].detail
    assert "counted, not chained" in chained[3].detail["further_refusals"]
    # Another address has its own bound.
    refused_call(ehr, address="198.51.100.99")
    assert len(events("cds_refused")) == 5
    # The next window: the next refusal is chained and reports those only counted.
    clock.time = lambda: 1_000_000.0 + throttle.REFUSALS_WINDOW_SECONDS
    refused_call(ehr)
    latest = events("cds_refused")[-1]
    assert latest.detail["refusals_counted_not_chained"] == 46
    assert "further_refusals" not in latest.detail


def test_one_flooding_address_does_not_use_up_the_others_bound(ehr, monkeypatch):
    monkeypatch.setattr(throttle, "REFUSALS_CHAINED", 3)
    monkeypatch.setattr(throttle, "REFUSALS_CHAINED_ALL", 10)
    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: 3_000_000.0))
    for _ in range(50):
        refused_call(ehr)
    refused_call(ehr, address="198.51.100.99")
    assert events("cds_refused")[-1].detail["claimed_issuer"] == ""
    assert events("cds_refused")[-1].client_ip == "198.51.100.99"


def test_a_flood_from_many_addresses_is_bounded_too(ehr, monkeypatch):
    monkeypatch.setattr(throttle, "REFUSALS_CHAINED_ALL", 5)
    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: 2_000_000.0))
    for n in range(30):
        refused_call(ehr, address=f"203.0.113.{n}")
    assert len(events("cds_refused")) == 6


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", SERVICE, 405),
        ("put", SERVICE, 405),
        ("post", "/cds-services", 405),
        ("get", f"{SERVICE}/feedback", 405),
        ("post", "/cds-services/", 404),
        ("post", "/cds-services/a/b/c", 404),
        ("get", "/cds-services/not%20a%20slug", 404),
        ("post", f"{SERVICE}/feedback/", 404),
    ],
)
def test_every_error_is_json(client, method, path, status):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert "error" in response.json()


def test_an_unexpected_failure_is_json_too(ehr, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cds, "answer", fail)
    response = ehr.post(SERVICE, hook_request())
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "boom" not in response.content.decode()
