"""Accessibility: no WCAG 2.1 A or AA violation axe-core can find, on any page; visible labels."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import PANEL, PASSWORD, ruleset_1_assessment

pytestmark = pytest.mark.browser


def test_logged_out_pages(page, log_in, clinician, axe_violations):
    found = {}
    page.goto("/accounts/login/")
    found["login"] = axe_violations(page)
    log_in(clinician.username, "not-the-password")
    page.get_by_role("alert").wait_for()
    found["login with an error"] = axe_violations(page)
    assert found == dict.fromkeys(found, ""), "\n".join(f"{k}: {v}" for k, v in found.items())


def test_logged_in_pages(clinician_page, record, axe_violations):
    page = clinician_page
    recommended = record(mrn="MRN-2", tumor_size_cm="6.0", cirrhosis_grade="moderate")
    not_recommended = record(mrn="MRN-3", cirrhosis_grade="severe", notes="Ascites.")
    found = {}
    for name, path in [
        ("worklist", "/"),
        ("list", "/assessments/"),
        ("list, nothing found", "/assessments/?q=ZZ&recommendation=recommended"),
        ("list, filtered and sorted", "/assessments/?status=draft&sort=mrn&window=due"),
        ("print", reverse("assessments:print", args=[recommended.pk])),
        ("password change", reverse("password_change")),
        ("form", "/assessments/new/"),
        ("detail, recommended", recommended.get_absolute_url()),
        ("detail, not recommended", not_recommended.get_absolute_url()),
        ("patient", recommended.patient.get_absolute_url()),
    ]:
        page.goto(path)
        found[name] = axe_violations(page)
    page.goto("/assessments/new/")
    page.get_by_label("Largest tumor diameter (cm)").fill("99")
    page.get_by_role("button", name="Save and show recommendation").click()
    page.get_by_role("alert").wait_for()
    found["form with errors"] = axe_violations(page)
    assert found == dict.fromkeys(found, ""), "\n".join(f"{k}: {v}" for k, v in found.items())


def report(found):
    return "\n".join(f"{k}: {v}" for k, v in found.items() if v)


def test_amend_sign_void_and_history_pages(
    clinician_page, log_in, consultant, record, axe_violations
):
    page = clinician_page
    pk = record(mrn="MRN-4").pk
    found = {}
    page.goto(reverse("assessments:edit", args=[pk]))
    found["amend"] = axe_violations(page)
    page.get_by_label("Largest tumor diameter (cm)").fill("")
    page.get_by_role("button", name="Save amendment").click()
    page.get_by_role("alert").wait_for()
    found["amend with errors"] = axe_violations(page)
    page.get_by_label("Largest tumor diameter (cm)").fill("6.0")
    page.get_by_label("Reason for change").fill("Size corrected.")
    page.get_by_role("button", name="Save amendment").click()
    expect(page.locator("[data-recommendation=recommended]")).to_be_visible()

    # Clinicians do not sign: a consultant does.
    page.get_by_role("button", name="Log out").click()
    log_in(consultant.username)
    page.goto(reverse("assessments:sign", args=[pk]))
    found["sign"] = axe_violations(page)
    page.get_by_label("Your password").fill("not-the-password")
    page.get_by_role("button", name="Sign as reviewed and approved").click()
    page.get_by_role("alert").wait_for()
    found["sign with a wrong password"] = axe_violations(page)
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign as reviewed and approved").click()
    expect(page.locator("[data-status=signed]")).to_be_visible()

    page.goto(reverse("assessments:void", args=[pk]))
    found["void"] = axe_violations(page)
    page.get_by_label("Reason for voiding").fill("Entered twice.")
    page.get_by_role("button", name="Void assessment").click()
    expect(page.locator("[data-status=voided]")).to_be_visible()
    found["detail, voided"] = axe_violations(page)

    page.goto(reverse("assessments:history", args=[pk]))
    expect(page.locator("ol.history > li")).to_have_count(4)
    found["history, four versions"] = axe_violations(page)
    assert found == dict.fromkeys(found, ""), report(found)


def test_liver_function_rules_and_reevaluation_pages(
    clinician_page, clinician, record, axe_violations
):
    page = clinician_page
    with_panel = record(mrn="MRN-5", **PANEL)
    old = ruleset_1_assessment(clinician)
    found = {}
    for name, path in [
        ("rules", reverse("assessments:rules")),
        ("detail with a liver panel", with_panel.get_absolute_url()),
        ("detail under ruleset 1", old.get_absolute_url()),
    ]:
        page.goto(path)
        found[name] = axe_violations(page)
    expect(page.locator("[data-newer-ruleset]")).to_be_visible()
    page.get_by_role("link", name="Re-evaluate under ruleset 4").click()
    # The form opens filled in: the preview shows its result, which is checked too.
    expect(page.locator("#preview")).to_have_attribute("data-state", "result")
    found["re-evaluate"] = axe_violations(page)
    assert found == dict.fromkeys(found, ""), report(found)


def test_audit_log_pages(page, log_in, reviewer, record, axe_violations):
    assessment = record(mrn="MRN-6")
    log_in(reviewer.username)
    page.goto(assessment.get_absolute_url())
    found = {}
    page.goto(reverse("assessments:audit_log"))
    found["audit log"] = axe_violations(page)
    page.get_by_label("Action").select_option(label="Viewed an assessment")
    page.get_by_label("MRN", exact=True).fill("MRN-6")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    found["audit log, filtered"] = axe_violations(page)
    page.get_by_label("User").fill("someone-else")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No events match.")).to_be_visible()
    found["audit log, nothing found"] = axe_violations(page)
    assert found == dict.fromkeys(found, ""), report(found)


def test_the_403_page(page, log_in, no_role_user, axe_violations):
    log_in(no_role_user.username)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You do not have permission for this page"
    )
    assert axe_violations(page) == ""


@pytest.mark.parametrize("path", ["/assessments/", "/assessments/new/"])
def test_every_field_has_a_visible_label(clinician_page, path):
    page = clinician_page
    page.goto(path)
    if path == "/assessments/":
        page.get_by_text("More filters and sorting").click()
    fields = page.locator("main form :is(input:not([type=hidden]), select, textarea)")
    assert fields.count() == {"/assessments/": 11, "/assessments/new/": 27}[path]
    for field in fields.all():
        expect(page.locator(f"label[for={field.get_attribute('id')}]")).to_be_visible()
    # Each radio group is a fieldset named by a visible legend.
    for group in page.locator("main form fieldset").all():
        legend = group.locator(":scope > legend")
        expect(legend).to_be_visible()
        expect(group).to_have_accessible_name(legend.inner_text())
    if path == "/assessments/new/":
        # A text box, so that the browser sends what was typed (a number box drops "2,5").
        size = page.get_by_label("Largest tumor diameter (cm)")
        expect(size).to_have_attribute("type", "text")
        expect(size).to_have_attribute("inputmode", "decimal")


def test_the_preview_in_each_of_its_states(clinician_page, record, axe_violations, settings):
    page = clinician_page
    recommended = record(mrn="MRN-7", tumor_size_cm="6.0")
    preview = page.locator("#preview")
    found = {}
    page.goto("/assessments/new/")
    expect(preview).to_contain_text("still missing or invalid")
    found["preview, fields missing"] = axe_violations(page)
    page.get_by_label("MRN (medical record number)").fill("MRN-7")
    page.get_by_label("Largest tumor diameter (cm)").fill("6.0")
    page.get_by_label("Number of tumors").fill("1")
    page.get_by_label("None", exact=True).check()
    page.get_by_label("None: no cirrhosis").check()
    expect(preview).to_contain_text("This patient has 1 assessment")
    expect(preview).to_have_attribute("data-state", "result")
    found["preview, a result, a known patient"] = axe_violations(page)
    page.get_by_label("Total bilirubin").fill("20")
    expect(page.locator(".other-unit")).to_have_text("20 µmol/L = 1.17 mg/dL")
    found["preview, a partial panel, a unit converted"] = axe_violations(page)
    page.goto(reverse("assessments:edit", args=[recommended.pk]))
    page.get_by_label("Largest tumor diameter (cm)").fill("3.0")
    expect(preview).to_contain_text("This changes the recommendation")
    found["amend preview, the recommendation changes"] = axe_violations(page)
    settings.SESSION_IDLE_TIMEOUT = 2
    page.wait_for_timeout(3000)
    page.get_by_label("Largest tumor diameter (cm)").fill("3.1")
    expect(preview).to_have_attribute("data-state", "session-ended")
    found["preview, the session ended"] = axe_violations(page)
    settings.SESSION_IDLE_TIMEOUT = 900
    page.get_by_role("link", name="log in again").click()
    page.get_by_label("Username").fill("dr-lee")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status")).to_contain_text("Your entries from before")
    found["amend, entries restored"] = axe_violations(page)
    assert found == dict.fromkeys(found, ""), report(found)
