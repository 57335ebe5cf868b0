"""What is typed on an assessment form: only the Save button saves it, and it survives a
session that ended, kept in the tab (never in a URL or on the server) until saved."""

import json
import re

import pytest
from playwright.sync_api import expect

from assessments.models import Assessment
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def fill_the_rule_inputs(page):
    page.get_by_label("MRN (medical record number)").fill("KEPT-1")
    page.get_by_label("Date of resection").fill("2026-01-05")
    page.get_by_label("Largest tumor diameter (cm)").fill("6.0")
    page.get_by_label("Number of tumors").fill("1")
    page.get_by_label("None", exact=True).check()
    page.get_by_label("None: no cirrhosis").check()


def kept(page):
    return json.loads(page.evaluate("sessionStorage.getItem('unsaved-entries')") or "null")


def test_enter_in_a_field_does_not_save(clinician_page):
    page = clinician_page
    page.goto("/assessments/new/")
    fill_the_rule_inputs(page)
    expect(page.locator("#preview")).to_have_attribute("data-recommendation", "recommended")
    sessions = page.get_by_label("Prior adjuvant TACE sessions")
    sessions.fill("1")
    sessions.press("Enter")
    page.get_by_label("Largest tumor diameter (cm)").press("Enter")
    # In the notes, Enter makes a new line.
    notes = page.get_by_label("Notes")
    notes.fill("First line")
    notes.press("End")
    notes.press("Enter")
    notes.type("second line")
    expect(notes).to_have_value("First line\nsecond line")
    # Nothing was sent: the page and its entries are as they were.
    expect(page).to_have_url(re.compile(r"/assessments/new/$"))
    expect(page.locator("#form-errors")).to_have_count(0)
    assert not Assessment.objects.exists()

    # Only the button saves; the keyboard reaches it with Tab.
    notes.focus()
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Save and show recommendation")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Assessment saved.")
    assert Assessment.objects.get().notes == "First line\r\nsecond line"


@pytest.mark.parametrize(
    "page", [{"java_script_enabled": False}], ids=["no-javascript"], indirect=True
)
def test_without_javascript_enter_submits_as_browsers_do(clinician_page):
    page = clinician_page
    page.goto("/assessments/new/")
    fill_the_rule_inputs(page)
    page.get_by_label("Number of tumors").press("Enter")
    expect(page.get_by_role("status")).to_have_text("Assessment saved.")
    assert Assessment.objects.count() == 1


def test_an_idle_timeout_keeps_the_entries_and_says_why(clinician_page, settings):
    page = clinician_page
    page.goto("/assessments/new/")
    fill_the_rule_inputs(page)
    page.get_by_label("Notes").fill("Typed before the timeout.")
    preview = page.locator("#preview")
    expect(preview).to_have_attribute("data-recommendation", "recommended")

    # The live server runs in this process and reads the setting at each request;
    # the middleware counts whole seconds: wait a second more than the limit.
    settings.SESSION_IDLE_TIMEOUT = 2
    page.wait_for_timeout(3000)
    page.get_by_label("Number of tumors").fill("2")
    expect(preview).to_have_attribute("data-state", "session-ended")
    expect(preview).to_have_text("Your session ended: log in again; your entries are kept.")
    entries = dict(kept(page)["entries"])
    assert entries["tumor_count"] == "2" and entries["mrn"] == "KEPT-1"
    assert "csrfmiddlewaretoken" not in entries

    # Save, without looking at the preview: the login page says why; the URL holds no entry.
    page.get_by_role("button", name="Save and show recommendation").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/assessments/new/$"))
    expect(page.get_by_role("status")).to_have_text(
        "You were logged out after 2 seconds without activity. Please log in again."
    )
    settings.SESSION_IDLE_TIMEOUT = 900
    page.get_by_label("Username").fill("dr-lee")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(r"/assessments/new/$"))
    expect(page.get_by_role("status")).to_contain_text("Your entries from before you logged in")
    expect(page.get_by_label("MRN (medical record number)")).to_have_value("KEPT-1")
    expect(page.get_by_label("Number of tumors")).to_have_value("2")
    expect(page.get_by_label("None: no cirrhosis")).to_be_checked()
    expect(page.get_by_label("Notes")).to_have_value("Typed before the timeout.")
    assert "PASSWORD" not in json.dumps(kept(page)) and PASSWORD not in json.dumps(kept(page))
    expect(preview).to_have_attribute("data-recommendation", "recommended")
    assert not Assessment.objects.exists()

    page.get_by_role("button", name="Save and show recommendation").click()
    expect(page.get_by_role("status")).to_have_text("Assessment saved.")
    assert Assessment.objects.get().tumor_count == 2
    assert kept(page) is None
    # A new form starts empty.
    page.goto("/assessments/new/")
    expect(page.get_by_label("MRN (medical record number)")).to_have_value("")


def test_logging_out_forgets_the_entries(clinician_page, log_in):
    page = clinician_page
    page.goto("/assessments/new/")
    fill_the_rule_inputs(page)
    expect(page.locator("#preview")).to_have_attribute("data-recommendation", "recommended")
    assert dict(kept(page)["entries"])["mrn"] == "KEPT-1"
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    assert kept(page) is None
    log_in("dr-lee")
    page.goto("/assessments/new/")
    expect(page.get_by_label("MRN (medical record number)")).to_have_value("")
