"""The live preview follows the form; the form works without it."""

import pytest
from playwright.sync_api import expect

from assessments.models import Assessment
from tests.conftest import PANEL

pytestmark = pytest.mark.browser


def test_the_preview_follows_the_values(clinician_page):
    page = clinician_page
    page.goto("/assessments/new/")
    preview = page.locator("#preview")
    expect(preview).to_have_attribute("data-state", "incomplete")

    size = page.get_by_label("Largest tumor diameter (cm)")
    size.fill("3.0")
    page.get_by_label("Number of tumors").fill("1")
    page.get_by_label("None", exact=True).check()
    page.get_by_label("None: no cirrhosis").check()
    expect(preview).to_have_attribute("data-state", "result")
    expect(preview).to_have_attribute("data-recommendation", "not_recommended")
    expect(preview).to_contain_text("Adjuvant TACE not recommended")

    size.fill("6.0")
    expect(preview).to_have_attribute("data-recommendation", "recommended")
    expect(preview).to_contain_text("Adjuvant TACE recommended")
    expect(preview).to_contain_text("No liver-function panel was entered")

    panel = {**PANEL, "inr": "1.1", "ascites": "none"}  # Child-Pugh B7: a caution only
    page.get_by_label("Total bilirubin").fill(panel["bilirubin"])
    page.get_by_label("Bilirubin unit").select_option(panel["bilirubin_unit"])
    page.get_by_label("Serum albumin").fill(panel["albumin"])
    page.get_by_label("Albumin unit").select_option(panel["albumin_unit"])
    page.get_by_label("INR", exact=True).fill(panel["inr"])
    page.get_by_label("Ascites", exact=True).select_option(panel["ascites"])
    page.get_by_label("Hepatic encephalopathy", exact=True).select_option(panel["encephalopathy"])
    expect(preview).to_contain_text("Child-Pugh 7 (class B); ALBI -1.761 (grade 2)")
    # A caution, in the result's own words: the recommendation stands.
    expect(preview).to_contain_text("Child-Pugh class B: reduced liver function")
    expect(preview).to_have_attribute("data-recommendation", "recommended")
    expect(preview).not_to_contain_text("No liver-function panel was entered")

    size.fill("")
    expect(preview).to_have_attribute("data-state", "incomplete")
    expect(preview).to_have_attribute("data-recommendation", "")
    expect(preview).to_have_text("1 field still missing or invalid.")
    assert not Assessment.objects.exists()


@pytest.mark.parametrize(
    "page", [{"java_script_enabled": False}], ids=["no-javascript"], indirect=True
)
def test_the_form_submits_without_javascript(clinician_page):
    page = clinician_page
    page.goto("/assessments/new/")
    page.get_by_label("MRN (medical record number)").fill("NOJS-1")
    page.get_by_label("Date of resection").fill("2026-01-05")
    page.get_by_label("Largest tumor diameter (cm)").fill("6.0")
    page.get_by_label("Number of tumors").fill("1")
    page.get_by_label("None", exact=True).check()
    page.get_by_label("None: no cirrhosis").check()
    # No script ran: the preview still shows its first words.
    expect(page.locator("#preview")).to_have_attribute("data-state", "idle")
    page.get_by_role("button", name="Save and show recommendation").click()

    expect(page.get_by_role("status")).to_have_text("Assessment saved.")
    expect(page.locator("[data-recommendation]")).to_have_attribute(
        "data-recommendation", "recommended"
    )
    assert Assessment.objects.get().patient.mrn == "NOJS-1"
