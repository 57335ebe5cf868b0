import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_wrong_password_shows_an_error_and_stays_logged_out(page, log_in, clinician):
    log_in(clinician.username, "not-the-password")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)


def test_log_in_and_out(clinician_page):
    page = clinician_page
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("dr-lee")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto("/assessments/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/assessments/$"))


def test_an_idle_session_returns_to_the_login_page_and_back(clinician_page, settings):
    page = clinician_page
    # The live server runs in this process and reads the setting at each request.
    # The middleware counts whole seconds: wait a second more than the limit.
    settings.SESSION_IDLE_TIMEOUT = 2
    page.wait_for_timeout(3000)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New assessment").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/assessments/new/$"))
    expect(page.get_by_role("status")).to_have_text(
        "You were logged out after 2 seconds without activity. Please log in again."
    )
    page.get_by_label("Username").fill("dr-lee")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/assessments/new/$"))
