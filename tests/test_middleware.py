import time

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from tace_site.middleware import ACTIVE_AT, STARTED_AT
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PAGE = "/assessments/"


def move_back(client, key, seconds):
    """Pretend the stored moment happened `seconds` earlier."""
    session = client.session
    session[key] -= seconds
    session.save()


def stored(client, key):
    return client.session[key]


def assert_logged_out_because(client, reason):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={PAGE}"
    login_page = client.get(response["Location"]).content.decode()
    assert reason in login_page
    assert client.get(PAGE).status_code == 302


@pytest.fixture
def active_client(clinician_client):
    assert clinician_client.get(PAGE).status_code == 200
    return clinician_client


def test_first_request_stores_both_moments(active_client):
    now = int(time.time())
    assert now - 2 <= stored(active_client, STARTED_AT) <= now
    assert now - 2 <= stored(active_client, ACTIVE_AT) <= now


def test_15_minutes_without_activity_log_out(active_client):
    move_back(active_client, ACTIVE_AT, 15 * 60)
    assert_logged_out_because(
        active_client, "You were logged out after 15 minutes without activity."
    )


def test_12_hours_log_out_whatever_the_activity(active_client):
    move_back(active_client, STARTED_AT, 12 * 3600)
    assert_logged_out_because(active_client, "You were logged out after 12 hours.")


def test_activity_within_the_limit_keeps_the_session_and_slides_it(active_client):
    for _ in range(3):  # 42 minutes in all, never 15 idle
        move_back(active_client, ACTIVE_AT, 14 * 60)
        assert active_client.get(PAGE).status_code == 200
        assert stored(active_client, ACTIVE_AT) >= int(time.time()) - 2


def test_limits_are_settings(settings, active_client):
    settings.SESSION_IDLE_TIMEOUT = 120
    move_back(active_client, ACTIVE_AT, 119)
    assert active_client.get(PAGE).status_code == 200
    move_back(active_client, ACTIVE_AT, 120)
    assert_logged_out_because(
        active_client, "You were logged out after 2 minutes without activity."
    )


def test_an_api_call_after_an_idle_timeout_answers_401_not_the_login_page(active_client):
    move_back(active_client, ACTIVE_AT, 15 * 60)
    response = active_client.get("/api/v1/assessments")
    assert response.status_code == 401
    assert response.json() == {
        "errors": {
            "__all__": [
                "You were logged out after 15 minutes without activity. Please log in again."
            ]
        }
    }
    assert "_auth_user_id" not in active_client.session


def test_activity_is_written_at_most_once_a_minute(active_client):
    key = active_client.session.session_key
    move_back(active_client, ACTIVE_AT, 50)
    before = stored(active_client, ACTIVE_AT)
    saved = Session.objects.get(pk=key).expire_date

    assert active_client.get(PAGE).status_code == 200
    assert stored(active_client, ACTIVE_AT) == before
    assert Session.objects.get(pk=key).expire_date == saved

    move_back(active_client, ACTIVE_AT, 10)
    saved = Session.objects.get(pk=key).expire_date
    assert active_client.get(PAGE).status_code == 200
    assert stored(active_client, ACTIVE_AT) >= int(time.time()) - 2
    assert Session.objects.get(pk=key).expire_date > saved


def test_session_cookie_lasts_the_absolute_limit(settings):
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_MAX_AGE_TOTAL == 12 * 3600
    assert settings.SESSION_IDLE_TIMEOUT == 15 * 60


def test_the_login_page_says_why_however_it_is_reached(active_client):
    """A script's request met the timeout and followed no redirect: every login page says why,
    until the next login."""
    move_back(active_client, ACTIVE_AT, 15 * 60)
    preview = active_client.post(reverse("assessments:preview"), {"mrn": "MRN-9"})
    assert preview.status_code == 302
    assert preview["Location"] == f"{reverse('login')}?next={reverse('assessments:preview')}"
    # Then Save, now anonymous: a bare redirect to the login page.
    saved = active_client.post(reverse("assessments:create"), {"mrn": "MRN-9"})
    assert saved["Location"] == f"{reverse('login')}?next={reverse('assessments:create')}"
    reason = "You were logged out after 15 minutes without activity. Please log in again."
    for _ in range(2):
        assert reason in active_client.get(saved["Location"]).content.decode()
    active_client.post(reverse("login"), {"username": "dr-lee", "password": PASSWORD})
    active_client.post(reverse("logout"))
    assert reason not in active_client.get(reverse("login")).content.decode()


def test_no_reason_on_the_login_page_of_a_new_visitor(client):
    assert "You were logged out" not in client.get(reverse("login")).content.decode()
