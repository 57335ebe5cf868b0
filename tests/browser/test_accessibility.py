"""Accessibility: no WCAG 2.1 A or AA violation axe-core can find, on any page; visible labels."""

import pytest
from playwright.sync_api import expect

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
        ("list", "/assessments/"),
        ("list, nothing found", "/assessments/?q=ZZ&recommendation=recommended"),
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


@pytest.mark.parametrize("path", ["/assessments/", "/assessments/new/"])
def test_every_field_has_a_visible_label(clinician_page, path):
    page = clinician_page
    page.goto(path)
    fields = page.locator("main form :is(input:not([type=hidden]), select, textarea)")
    assert fields.count() == {"/assessments/": 3, "/assessments/new/": 21}[path]
    for field in fields.all():
        expect(page.locator(f"label[for={field.get_attribute('id')}]")).to_be_visible()
    # Each radio group is a fieldset named by a visible legend.
    for group in page.locator("main form fieldset").all():
        legend = group.locator(":scope > legend")
        expect(legend).to_be_visible()
        expect(group).to_have_accessible_name(legend.inner_text())
    if path == "/assessments/new/":
        expect(page.get_by_label("Largest tumor diameter (cm)")).to_have_attribute("type", "number")
