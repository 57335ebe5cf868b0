import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_search_by_mrn_and_filter_by_recommendation(clinician_page, record):
    page = clinician_page
    record(mrn="AB-100")
    record(mrn="AB-200", tumor_size_cm="7.0")
    record(mrn="CD-300", tumor_count="3")
    page.goto("/assessments/")
    mrns = page.locator("tbody tr td:first-child")
    expect(mrns).to_have_text(["CD-300", "AB-200", "AB-100"])

    page.get_by_label("MRN (exact or beginning)").fill("ab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"\?q=ab&status=&recommendation=&"))
    expect(mrns).to_have_text(["AB-200", "AB-100"])

    page.get_by_label("Recommendation").select_option(label="Recommended")
    page.get_by_role("button", name="Search").click()
    expect(mrns).to_have_text(["AB-200"])
    expect(page.locator("tbody")).to_contain_text("TACE recommended")
    # The search stays in the form, for the next change.
    expect(page.get_by_label("MRN (exact or beginning)")).to_have_value("ab")

    page.get_by_label("MRN (exact or beginning)").fill("")
    page.get_by_label("Recommendation").select_option(label="Not recommended")
    page.get_by_role("button", name="Search").click()
    expect(mrns).to_have_text(["AB-100"])

    page.get_by_label("MRN (exact or beginning)").fill("zz")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No assessments match.")).to_be_visible()

    page.goto("/assessments/")
    page.get_by_role("link", name="CD-300").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Patient CD-300")
    expect(page.locator("tbody tr")).to_have_count(1)
