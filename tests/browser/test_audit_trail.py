"""Amend, sign and void an assessment, find each in its history; a reviewer reads the audit log."""

import re

import pytest
from playwright.sync_api import expect

from assessments.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_amend_with_a_reason_and_find_the_change_in_the_history(clinician_page, record):
    page = clinician_page
    assessment = record(mrn="MRN-A1")  # 3.0 cm, one tumor: not recommended
    page.goto(assessment.get_absolute_url())
    page.get_by_role("link", name="Amend").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Amend assessment of MRN-A1")
    page.get_by_label("Largest tumor diameter (cm)").fill("6.0")
    page.get_by_label("Reason for change").fill("Size corrected from the pathology report.")
    page.get_by_role("button", name="Save amendment").click()

    expect(page.get_by_role("status")).to_have_text(
        "Amendment saved: the recommendation changed from Not recommended to Recommended."
    )
    expect(page.locator("[data-recommendation]")).to_have_attribute(
        "data-recommendation", "recommended"
    )
    page.get_by_role("link", name="History").click()
    versions = page.locator("ol.history > li")
    expect(versions).to_have_count(2)
    amended = versions.first
    expect(amended).to_have_attribute("data-action", "amended")
    expect(amended.get_by_role("heading")).to_have_text("Amended")
    expect(amended).to_contain_text("by dr-lee")
    expect(amended.locator("q.reason")).to_have_text("Size corrected from the pathology report.")
    expect(amended.get_by_role("columnheader")).to_have_text(["Field", "Before", "After"])
    expect(amended.locator("tr[data-field=tumor_size_cm] > *")).to_have_text(
        ["Largest tumor diameter (cm)", "3.0", "6.0"]
    )
    changed = amended.locator("tr[data-field=recommendation]")
    expect(changed.locator("> *")).to_have_text(
        ["Recommendation (the recommendation changed)", "Not recommended", "Recommended"]
    )
    expect(changed).to_have_class(re.compile(r"\btable-warning\b"))
    expect(versions.last).to_have_attribute("data-action", "created")


def test_sign_with_the_password(page, log_in, consultant, record):
    assessment = record(mrn="MRN-S1")  # by the clinician: the consultant signs it
    log_in(consultant.username)
    page.goto(assessment.get_absolute_url())
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "draft")
    page.get_by_role("link", name="Sign", exact=True).click()
    password = page.get_by_label("Your password")
    password.fill("not-the-password")
    page.get_by_role("button", name="Sign as reviewed and approved").click()

    expect(page.locator("#div_id_password .invalid-feedback")).to_have_text(
        "The password is not correct. Nothing was signed."
    )
    expect(password).to_be_focused()
    assessment.refresh_from_db()
    assert (assessment.status, assessment.signed_by) == ("draft", None)

    password.fill(PASSWORD)
    page.get_by_role("button", name="Sign as reviewed and approved").click()
    signed = page.locator("[data-status]")
    expect(signed).to_have_attribute("data-status", "signed")
    expect(signed).to_contain_text("Signed as reviewed and approved by dr-wu")
    # Signed once: the detail page offers no second signature.
    expect(page.get_by_role("link", name="Sign", exact=True)).to_have_count(0)
    assessment.refresh_from_db()
    assert (assessment.status, assessment.signed_by.username) == ("signed", "dr-wu")


def test_void_with_a_reason(clinician_page, record):
    page = clinician_page
    record(mrn="MRN-V2")
    assessment = record(mrn="MRN-V1")
    page.goto(assessment.get_absolute_url())
    page.get_by_role("link", name="Void").click()
    page.get_by_role("button", name="Void assessment").click()

    reason = page.get_by_label("Reason for voiding")
    expect(page.locator("#div_id_reason .invalid-feedback")).to_have_text(
        "Give a reason: it is kept in the audit trail."
    )
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_be_focused()
    assessment.refresh_from_db()
    assert assessment.status == "draft"

    reason.fill("Entered for the wrong patient.")
    page.get_by_role("button", name="Void assessment").click()
    status = page.locator("[data-status]")
    expect(status).to_have_attribute("data-status", "voided")
    expect(status).to_contain_text("Voided by dr-lee")
    expect(status.locator("q")).to_have_text("Entered for the wrong patient.")
    expect(page.locator(".row.voided")).to_have_count(1)
    expect(page.locator(".actions .btn")).to_have_text(["History", "Print view"])

    page.get_by_role("link", name="Assessments", exact=True).click()
    mrns = page.locator("tbody tr td:first-child")
    expect(mrns).to_have_text(["MRN-V2"])
    page.get_by_label("Include voided").check()
    page.get_by_role("button", name="Search").click()
    expect(mrns).to_have_text(["MRN-V1", "MRN-V2"])
    expect(page.locator("tbody tr.voided td:first-child")).to_have_text(["MRN-V1"])


def test_a_reviewer_browses_and_filters_the_audit_log(page, log_in, reviewer, record):
    first, second = record(mrn="MRN-R1"), record(mrn="MRN-R2")
    log_in(reviewer.username)
    for assessment in (first, second):
        page.goto(assessment.get_absolute_url())
        expect(page.get_by_role("heading", level=1)).to_contain_text(assessment.patient.mrn)
        # Reviewers read: the only actions offered are the history and the printout.
        expect(page.locator(".actions .btn")).to_have_text(["History", "Print view"])

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    rows = page.locator("tbody tr")
    # Newest first: the two views, the login, then the making of the users.
    for index, (action, mrn) in enumerate(
        [("Viewed an assessment", "MRN-R2"), ("Viewed an assessment", "MRN-R1"), ("Logged in", "")]
    ):
        expect(rows.nth(index).locator("td:nth-child(3)")).to_have_text(action)
        expect(rows.nth(index).locator("td:nth-child(5)")).to_have_text(mrn)

    page.get_by_label("Action").select_option(label="Viewed an assessment")
    page.get_by_label("MRN", exact=True).fill("mrn-r1")
    page.get_by_role("button", name="Filter").click()
    # The MRN went in the request body; the URL carries the patient's id only.
    expect(page).to_have_url(
        re.compile(rf"/audit/\?action=view_assessment&patient={first.patient.pk}$")
    )
    assert "mrn-r1" not in page.url.lower()
    expect(page.get_by_label("MRN", exact=True)).to_have_value("MRN-R1")
    expect(rows).to_have_count(1)
    _, user, action, obj, mrn = rows.first.locator("td").all()[:5]
    expect(user).to_have_text("rev-kim")
    expect(action).to_have_text("Viewed an assessment")
    expect(obj).to_have_text(f"assessment {first.pk}")
    expect(mrn).to_have_text("MRN-R1")

    response = page.goto(f"/assessments/{first.pk}/edit/")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You do not have permission for this page"
    )
    # As the page says, the refusal is in the audit log.
    refusal = AuditEvent.objects.get(action=AuditEvent.Action.PERMISSION_DENIED)
    assert (refusal.username, refusal.detail["path"]) == (
        "rev-kim",
        f"/assessments/{first.pk}/edit/",
    )
