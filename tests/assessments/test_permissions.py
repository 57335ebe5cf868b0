"""Permissions are cached for a few seconds, and forgotten when any of them changes."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments import permissions
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as the next request loads it."""
    return type(user).objects.get(pk=user.pk)


def test_loaded_once_then_cached(clinician):
    assert fresh(clinician).has_perm("assessments.add_assessment")
    with CaptureQueriesContext(connection) as captured:
        assert fresh(clinician).has_perm("assessments.add_assessment")
    assert len(captured.captured_queries) == 1  # the user row alone


def test_leaving_a_group_is_seen_at_once(clinician):
    assert fresh(clinician).has_perm("assessments.add_assessment")
    clinician.groups.clear()
    assert not fresh(clinician).has_perm("assessments.add_assessment")


def test_a_group_losing_a_permission_is_seen_at_once(clinician):
    assert fresh(clinician).has_perm("assessments.add_assessment")
    group = Group.objects.get(name="Clinicians")
    group.permissions.remove(Permission.objects.get(codename="add_assessment"))
    assert not fresh(clinician).has_perm("assessments.add_assessment")


def test_a_permission_given_to_the_user_is_seen_at_once(reviewer):
    assert not fresh(reviewer).has_perm("assessments.void_assessment")
    reviewer.user_permissions.add(Permission.objects.get(codename="void_assessment"))
    assert fresh(reviewer).has_perm("assessments.void_assessment")


def test_a_deactivated_user_has_none(clinician):
    assert fresh(clinician).has_perm("assessments.add_assessment")
    type(clinician).objects.filter(pk=clinician.pk).update(is_active=False)
    assert not fresh(clinician).has_perm("assessments.add_assessment")


def test_a_new_clinician_is_in_the_lists_filter_at_once(clinician_client, django_user_model):
    url = reverse("assessments:list")
    assert ">dr-new<" not in clinician_client.get(url).content.decode()
    make_user(django_user_model, "dr-new", "Clinicians")
    assert ">dr-new<" in clinician_client.get(url).content.decode()


def test_permissions_loaded_before_a_revocation_commits_are_not_kept(
    clinician, django_capture_on_commit_callbacks
):
    """Another worker that loads the permissions while the change is not yet committed
    (so still sees the old grants) caches them under the generation of the moment; the
    commit starts another one."""
    with django_capture_on_commit_callbacks(execute=True):
        clinician.groups.clear()
        # Another worker, reading the database as it was before the change.
        stale = {"assessments.add_assessment"}
        cache.set(permissions._key(f"user-{clinician.pk}"), stale, permissions.PERMISSIONS_SECONDS)
        assert fresh(clinician).has_perm("assessments.add_assessment")
    assert not fresh(clinician).has_perm("assessments.add_assessment")
