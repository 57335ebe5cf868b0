import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_wrong_password_shows_an_error_and_stays_logged_out(page, log_in, clinician):
    log_in(clinician.username, "not-the-password")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)


def test_log_in_and_out(clinician_page):
    page = clinician_page
    expect(page.get_by_role("heading", name="Assessments")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("dr-lee")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto("/assessments/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/assessments/$"))
