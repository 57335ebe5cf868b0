"""Who may do what is sealed into the chain: users, groups, permissions, API tokens and
EHR clients changed behind the app are found by verify_audit (SQLite and PostgreSQL)."""

import io
import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from api.models import ApiToken
from assessments.audit import drop_append_only_triggers, install_append_only_triggers
from assessments.audit.seals import _hashed
from assessments.models import AuditEvent
from ehr.models import CdsClient
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

JWKS = {"keys": [{"kty": "EC", "crv": "P-384", "kid": "one", "x": "AAAA", "y": "BBBB"}]}


def verify():
    out = io.StringIO()
    try:
        call_command("verify_audit", stdout=out)
        return 0, out.getvalue()
    except SystemExit as exit:
        return exit.code, out.getvalue()


def raw(sql, params=()):
    """A statement straight on the database (these tables have no triggers)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def json_param():
    return "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"


@pytest.fixture
def accounts(clinician, django_user_model):
    """The roles, a clinician with an API token, a superuser and an EHR client."""
    admin = django_user_model.objects.create_superuser("root", password=PASSWORD)
    token, _ = ApiToken.objects.create(user=clinician, name="lab-system", expiry=timedelta(days=9))
    client = CdsClient.objects.create(issuer="https://ehr.example", jwks=JWKS, mrn_system="urn:x")
    assert verify()[0] == 0
    return {"clinician": clinician, "admin": admin, "token": token, "client": client}


def test_superuser_granted_by_sql(accounts):
    user = accounts["clinician"]
    raw("UPDATE auth_user SET is_superuser = %s WHERE id = %s", [True, user.pk])
    code, out = verify()
    assert code == 1
    assert (
        f"broken at user {user.pk}: it differs from its newest sealed state "
        "(changed behind the app)." in out
    )


def test_group_membership_added_by_sql(accounts):
    user = accounts["clinician"]
    consultants = Group.objects.get(name="Consultants")
    raw(
        "INSERT INTO auth_user_groups (user_id, group_id) VALUES (%s, %s)",
        [user.pk, consultants.pk],
    )
    code, out = verify()
    assert code == 1
    assert f"broken at user {user.pk}: it differs from its newest sealed state" in out


def test_permission_added_to_a_group_by_sql(accounts):
    reviewers = Group.objects.get(name="Reviewers")
    sign = Permission.objects.get(codename="sign_assessment")
    raw(
        "INSERT INTO auth_group_permissions (group_id, permission_id) VALUES (%s, %s)",
        [reviewers.pk, sign.pk],
    )
    code, out = verify()
    assert code == 1
    assert f"broken at group {reviewers.pk}: it differs from its newest sealed state" in out


def test_an_ehr_key_added_by_sql(accounts):
    client = accounts["client"]
    keys = {"keys": [*JWKS["keys"], {**JWKS["keys"][0], "kid": "attacker"}]}
    raw(
        f"UPDATE ehr_cdsclient SET jwks = {json_param()} WHERE id = %s",
        [json.dumps(keys), client.pk],
    )
    code, out = verify()
    assert code == 1
    assert f"broken at cdsclient {client.pk}: it differs from its newest sealed state" in out


def test_an_ehr_client_inserted_by_sql(accounts):
    raw(
        "INSERT INTO ehr_cdsclient (issuer, jwks, mrn_system, fhir_server, created_at) "
        f"VALUES (%s, {json_param()}, %s, %s, CURRENT_TIMESTAMP)",
        ["https://rogue.example", json.dumps(JWKS), "urn:x", ""],
    )
    rogue = CdsClient.objects.get(issuer="https://rogue.example")
    code, out = verify()
    assert code == 1
    assert (
        f"broken at cdsclient {rogue.pk}: it is sealed by no event (written behind the app)" in out
    )


def test_a_token_inserted_by_sql(accounts):
    user = accounts["admin"]
    raw(
        "INSERT INTO api_apitoken (digest, token_key, user_id, created, expiry, name) "
        "VALUES (%s, %s, %s, CURRENT_TIMESTAMP, NULL, %s)",
        ["d" * 128, "abcd1234", user.pk, "backdoor"],
    )
    code, out = verify()
    assert code == 1
    assert (
        f"broken at apitoken {_hashed('d' * 128)}: it is sealed by no event "
        "(written behind the app)." in out
    )


def test_a_token_deleted_by_sql(accounts):
    token = accounts["token"]
    raw("DELETE FROM api_apitoken WHERE digest = %s", [token.digest])
    code, out = verify()
    assert code == 1
    assert (
        f"broken at apitoken {_hashed(token.digest)}: it is sealed but gone "
        "(deleted behind the app)." in out
    )


def test_a_user_deleted_by_sql(accounts, django_user_model):
    user = django_user_model.objects.create_user("temp", password=PASSWORD)
    raw("DELETE FROM auth_user WHERE id = %s", [user.pk])
    code, out = verify()
    assert code == 1
    assert f"broken at user {user.pk}: it is sealed but gone (deleted behind the app)." in out


def test_changes_through_the_app_keep_the_chain_intact(accounts, django_user_model):
    """Every way the app changes accounts (both sides of each many-to-many, deletes
    that cut links, logins) is sealed: nothing is reported."""
    user, admin, token = accounts["clinician"], accounts["admin"], accounts["token"]
    reviewers = Group.objects.get(name="Reviewers")
    extra = Group.objects.create(name="Extra")
    sign = Permission.objects.get(codename="sign_assessment")
    user.groups.add(reviewers)
    reviewers.user_set.add(admin)
    extra.user_set.set([user, admin])
    extra.permissions.add(sign)
    sign.group_set.add(reviewers)
    user.user_permissions.add(sign)
    sign.user_set.clear()
    reviewers.user_set.remove(admin)
    user.set_password("another-long-password")
    user.save()
    user.is_staff = True
    user.save()
    assert verify() == (0, f"The audit chain is intact ({AuditEvent.objects.count()} events).\n")
    extra.delete()  # cuts the users' links to it
    sign.delete()  # cuts the groups' and the users' links to it
    token.delete()
    temp = django_user_model.objects.create_user("temp", password=PASSWORD)
    ApiToken.objects.create(user=temp, name="temp-system", expiry=timedelta(days=1))
    temp.delete()  # and its token
    accounts["client"].delete()
    assert verify()[0] == 0
    assert verify()[1].startswith("The audit chain is intact")


def test_a_login_seals_nothing_new(accounts, client):
    before = AuditEvent.objects.filter(action="account_sealed").count()
    response = client.post(reverse("login"), {"username": "dr-lee", "password": PASSWORD})
    assert response.status_code == 302  # logged in: last_login saved, nothing sealed
    assert AuditEvent.objects.filter(action="account_sealed").count() == before
    assert verify()[0] == 0


def test_no_secret_is_in_the_chain(accounts):
    user, token = accounts["clinician"], accounts["token"]
    user.refresh_from_db()
    chain = json.dumps(list(AuditEvent.objects.values("object_id", "detail")))
    assert user.password not in chain
    assert token.digest not in chain and token.token_key not in chain


def migrate_applying(migration: str | None):
    """The end of a migrate, as after applying this migration (None: nothing to apply)."""
    loader = MigrationLoader(connection)
    plan = [(loader.graph.nodes[("assessments", migration)], False)] if migration else []
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default", plan=plan)


def test_migrations_that_write_groups_are_sealed_at_the_end_of_migrate(accounts):
    """Migrations write groups and permissions with historical models, which send no
    signal the seals hear: the end of a migrate that applied them seals them."""
    group = Group.objects.create(name="Made by a migration")
    raw(
        "INSERT INTO auth_group_permissions (group_id, permission_id) VALUES (%s, %s)",
        [group.pk, Permission.objects.get(codename="sign_assessment").pk],
    )
    assert verify()[0] == 1
    migrate_applying("0016_followup_roles")
    assert verify()[0] == 0
    sealed = AuditEvent.objects.filter(action="account_sealed").order_by("-id").first()
    assert sealed.detail["model"] == "auth.group" and sealed.detail["change"] == "migrate"
    assert list(sealed.detail["rows"]) == [str(group.pk)]


def test_a_migrate_never_blesses_what_was_written_behind_the_app(accounts):
    """Each service start runs migrate: with nothing to apply it seals nothing, and
    even after migrations it seals no user, token or EHR client."""
    user = accounts["clinician"]
    raw("UPDATE auth_user SET is_superuser = %s WHERE id = %s", [True, user.pk])
    reviewers = Group.objects.get(name="Reviewers")
    raw(
        "INSERT INTO auth_group_permissions (group_id, permission_id) VALUES (%s, %s)",
        [reviewers.pk, Permission.objects.get(codename="sign_assessment").pk],
    )
    migrate_applying(None)
    out = verify()[1]
    assert f"broken at user {user.pk}: it differs" in out
    assert f"broken at group {reviewers.pk}: it differs" in out
    migrate_applying("0016_followup_roles")
    assert f"broken at user {user.pk}: it differs" in verify()[1]


def test_the_first_run_seals_what_is_there(accounts):
    """On a database upgraded to the seals, the first migrate seals every model's rows."""
    behind = AuditEvent.objects.filter(action="account_sealed")
    drop_append_only_triggers(connection)
    try:
        AuditEvent.objects.all().delete()  # a chain from before the seals: none in it
    finally:
        install_append_only_triggers(connection)
    assert not behind.exists()
    migrate_applying(None)
    assert {event.detail["model"] for event in behind} == {
        "auth.user",
        "auth.group",
        "auth.permission",
        "api.apitoken",
        "ehr.cdsclient",
    }
    assert verify()[0] == 0
