"""API tokens: made by the command, stored hashed, expiring, revoked by name or in the admin."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from api.actions import ApiAction
from api.models import ApiToken
from assessments.models import AuditEvent
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def create(*args) -> list[str]:
    out = io.StringIO()
    call_command("api_token", "create", *args, stdout=out)
    return out.getvalue().splitlines()


def test_create_prints_the_token_once_alone_on_its_last_line(clinician):
    lines = create(clinician.username, "--name", "ehr-engine")
    secret = lines[-1]
    assert len(lines) == 2 and " " not in secret and len(secret) == 64
    token = ApiToken.objects.get(name="ehr-engine")
    assert token.user == clinician
    # Stored hashed: neither the token nor a prefix longer than knox's lookup key.
    assert token.digest != secret and secret not in token.digest
    assert len(token.token_key) == 15
    assert timedelta(days=89) < token.expiry - timezone.now() <= timedelta(days=90)
    assert ApiClient(secret).get("assessments").status_code == 200


def test_expires_days(clinician):
    create(clinician.username, "--name", "lab", "--expires-days", "7")
    token = ApiToken.objects.get(name="lab")
    assert timedelta(days=6) < token.expiry - timezone.now() <= timedelta(days=7)


def test_create_refuses_unknown_users_duplicate_names_and_no_expiry(clinician):
    with pytest.raises(CommandError, match="No user"):
        create("nobody-here", "--name", "x")
    create(clinician.username, "--name", "x")
    with pytest.raises(CommandError, match="exists"):
        create(clinician.username, "--name", "x")
    with pytest.raises(CommandError, match="at least 1"):
        create(clinician.username, "--name", "y", "--expires-days", "0")


def test_an_expired_token_is_refused_and_kept_for_the_admin(clinician):
    secret = create(clinician.username, "--name", "old")[-1]
    ApiToken.objects.filter(name="old").update(expiry=timezone.now() - timedelta(seconds=1))
    response = ApiClient(secret).get("assessments")
    assert response.status_code == 401
    assert response.json() == {"errors": {"__all__": ["Invalid token."]}}
    assert ApiToken.objects.get(name="old").is_expired


def test_revoke_by_name(clinician):
    secret = create(clinician.username, "--name", "research-db")[-1]
    out = io.StringIO()
    call_command("api_token", "revoke", "research-db", stdout=out)
    assert not ApiToken.objects.exists()
    assert ApiClient(secret).get("assessments").status_code == 401
    event = AuditEvent.objects.filter(action=ApiAction.API_TOKEN).first()
    assert event.detail == {"change": "revoked", "token": "research-db", "owner": "dr-lee"}
    with pytest.raises(CommandError, match="No token"):
        call_command("api_token", "revoke", "research-db")


def test_list(clinician):
    create(clinician.username, "--name", "ehr")
    out = io.StringIO()
    call_command("api_token", "list", stdout=out)
    assert out.getvalue().split("\t")[:2] == ["ehr", "dr-lee"]


def test_the_admin_lists_and_revokes(admin_client, clinician):
    secret = create(clinician.username, "--name", "ehr")[-1]
    page = admin_client.get("/admin/api/apitoken/")
    assert page.status_code == 200 and b"ehr" in page.content
    assert secret.encode() not in page.content
    token = ApiToken.objects.get()
    response = admin_client.post(
        "/admin/api/apitoken/",
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    assert not ApiToken.objects.exists()
    assert ApiClient(secret).get("assessments").status_code == 401
    event = AuditEvent.objects.filter(action=ApiAction.API_TOKEN).first()
    assert event.username == "admin" and event.detail["change"] == "revoked"


def test_an_inactive_users_token_is_refused(clinician):
    secret = create(clinician.username, "--name", "ehr")[-1]
    clinician.is_active = False
    clinician.save()
    assert ApiClient(secret).get("assessments").status_code == 401


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer a b", "Bearer wrong-token", "Bearer \u00e9\u00e9\u00e9"]
)
def test_wrong_headers_are_401(clinician, header):
    create(clinician.username, "--name", "ehr")
    client = ApiClient()
    response = client.client.get("/api/v1/assessments", headers={"Authorization": header})
    assert response.status_code == 401
