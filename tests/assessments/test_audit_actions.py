import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import models

from api.actions import ApiAction
from assessments import actions
from assessments.models import AuditEvent
from ehr.actions import Action as EhrAction


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(actions, "_owners", dict(actions._owners))


def test_every_app_s_actions_are_choices_of_the_audit_event():
    values = dict(actions.choices())
    for app_actions in (AuditEvent.Action, ApiAction, EhrAction):
        for action in app_actions:
            assert values[action.value] == action.label
    assert (
        AuditEvent(action=ApiAction.API_CREATE).get_action_display() == "API: created an assessment"
    )


@pytest.mark.django_db
def test_a_new_action_in_another_app_needs_no_assessments_migration(registry):
    @actions.register
    class Later(models.TextChoices):
        LATER = "later_action", "A later app's action"

    assert AuditEvent(action="later_action").get_action_display() == "A later app's action"
    out = io.StringIO()
    call_command("makemigrations", "assessments", check=True, dry_run=True, stdout=out)
    assert "No changes detected" in out.getvalue()


def test_an_action_registered_by_two_apps_is_refused(registry):
    class Twice(models.TextChoices):
        LOGIN = "login", "Logged in again"

    with pytest.raises(ImproperlyConfigured, match="'login'"):
        actions.register(Twice)
