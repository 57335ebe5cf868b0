"""The worklist in the browser: a clinician records, a consultant signs from the worklist."""

import pytest
from playwright.sync_api import expect

from assessments.models import Assessment
from tests.browser.conftest import WORKLIST_URL
from tests.factories import PASSWORD, make_user
from tests.factories import record as record_assessment

pytestmark = pytest.mark.browser


def test_a_clinician_creates_and_a_consultant_signs_from_the_worklist(
    clinician_page, log_in, consultant
):
    page = clinician_page
    page.get_by_role("link", name="New assessment").first.click()
    page.get_by_label("MRN (medical record number)").fill("wl-0001")
    page.get_by_label("Date of resection").fill("2025-01-01")
    page.get_by_label("Largest tumor diameter (cm)").fill("6.0")
    page.get_by_label("Number of tumors").fill("1")
    page.get_by_label("None", exact=True).check()
    page.get_by_label("None: no cirrhosis").check()
    page.get_by_role("button", name="Save and show recommendation").click()
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "draft")
    page.get_by_role("link", name="Worklist").click()
    awaiting = page.locator("[data-list=drafts]")
    expect(awaiting.get_by_role("heading")).to_have_text("Awaiting sign-off (1)")
    expect(awaiting.locator("tr[data-own]")).to_contain_text("WL-0001")
    page.get_by_role("button", name="Log out").click()

    # The consultant, with the keyboard alone.
    log_in(consultant.username)
    expect(page).to_have_url(WORKLIST_URL)
    awaiting.get_by_role("link", name="WL-0001").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Assessment of WL-0001")
    page.get_by_role("link", name="Sign", exact=True).focus()
    page.keyboard.press("Enter")
    password = page.get_by_label("Your password")
    password.focus()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "signed")
    page.get_by_role("link", name="Worklist").focus()
    page.keyboard.press("Enter")
    expect(awaiting.get_by_role("heading")).to_have_text("Awaiting sign-off (0)")
    expect(awaiting).to_contain_text("No drafts are waiting")
    signed = Assessment.objects.get()
    assert (signed.status, signed.signed_by, signed.self_signed) == ("signed", consultant, False)


def test_the_author_is_shown_who_may_sign(
    page, log_in, consultant, clinician, django_user_model, axe_violations
):
    make_user(django_user_model, "dr-tan", "Consultants")
    assessment = record_assessment(consultant, mrn="SELF-1")
    log_in(consultant.username)
    page.goto(f"/assessments/{assessment.pk}/sign/")
    expect(page.get_by_role("alert")).to_contain_text("a second person signs it")
    # The clinician holds no signing permission; the other consultant does.
    expect(page.locator("[data-signers] li")).to_have_text(["dr-tan"])
    assert axe_violations(page) == ""


def test_print_button_opens_the_print_dialog(clinician_page, record):
    page = clinician_page
    assessment = record(mrn="PR-1")
    page.goto(f"/assessments/{assessment.pk}/print/")
    page.evaluate("window.print = () => { document.body.dataset.printed = 'yes'; }")
    page.get_by_role("button", name="Print").click()
    expect(page.locator("body")).to_have_attribute("data-printed", "yes")
