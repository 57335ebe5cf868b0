"""The live preview follows the form; the form works without it."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from assessments.models import Assessment
from tests.factories import PANEL

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
    expect(preview).to_contain_text("3 fields still missing or invalid:")
    # The same fields, labels and messages as the error summary once Save is pressed.
    named = preview.get_by_role("listitem")
    expect(named.first).to_have_text("MRN (medical record number): This field is required.")
    listed = named.all_inner_texts()
    assert len(listed) == 3 and "Largest tumor diameter (cm): This field is required." in listed
    page.get_by_role("button", name="Save and show recommendation").click()
    expect(page.locator("#form-errors li")).to_have_text(listed)
    assert not Assessment.objects.exists()


def test_a_lab_value_shows_in_the_other_unit_as_it_is_typed(clinician_page):
    page = clinician_page
    page.goto("/assessments/new/")
    bilirubin = page.get_by_label("Total bilirubin")
    bilirubin.fill("2.5")
    converted = page.locator("#id_bilirubin + .other-unit")
    expect(converted).to_have_text("2.5 µmol/L = 0.15 mg/dL")
    page.get_by_label("Bilirubin unit").select_option("mg_dl")
    expect(converted).to_have_text("2.5 mg/dL = 42.8 µmol/L")
    page.get_by_label("Serum albumin").fill("3.4")
    page.get_by_label("Albumin unit").select_option("g_dl")
    expect(page.locator("#id_albumin + .other-unit")).to_have_text("3.4 g/dL = 34 g/L")
    bilirubin.fill("")
    expect(converted).to_have_text("")


def test_an_amendment_that_changes_the_recommendation_says_so_before_and_after(
    clinician_page, record
):
    page = clinician_page
    assessment = record(tumor_size_cm="5.1")
    page.goto(reverse("assessments:edit", args=[assessment.pk]))
    preview = page.locator("#preview")
    expect(preview).to_have_attribute("data-recommendation", "recommended")
    expect(preview).not_to_contain_text("This changes the recommendation")
    page.get_by_label("Largest tumor diameter (cm)").fill("5.0")
    expect(preview).to_contain_text(
        "This changes the recommendation from Recommended to Not recommended."
    )
    expect(preview).to_have_attribute("data-recommendation", "not_recommended")
    page.get_by_label("Reason for change").fill("Re-measured on the specimen.")
    page.get_by_role("button", name="Save amendment").click()
    expect(page.get_by_role("status")).to_have_text(
        "Amendment saved: the recommendation changed from Recommended to Not recommended."
    )
    assert Assessment.objects.get().recommendation == "not_recommended"


def test_an_mrn_with_assessments_says_so_and_links_the_patient(clinician_page, record):
    page = clinician_page
    earlier = record(mrn="SEEN-1")
    page.goto("/assessments/new/")
    page.get_by_label("MRN (medical record number)").fill("seen-1")
    preview = page.locator("#preview")
    expect(preview).to_contain_text("This patient has 1 assessment, the latest on")
    preview.get_by_role("link", name="See the patient's assessments").click()
    expect(page).to_have_url(re.compile(f"{earlier.patient.get_absolute_url()}$"))


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
