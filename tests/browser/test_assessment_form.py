import pytest
from playwright.sync_api import expect

from assessments.models import Assessment

pytestmark = pytest.mark.browser


def tab_to(page, field_id):
    """Press Tab until field_id has focus.

    Chromium's date input keeps one extra tab stop of its own (its calendar
    button); any other element on the way fails the test.
    """
    start = page.evaluate("document.activeElement.id")
    for _ in range(2):
        page.keyboard.press("Tab")
        now = page.evaluate("document.activeElement.id")
        if now == field_id:
            return
        assert now == start, f"Tab moved to {now!r}, not to {field_id!r}"
    raise AssertionError(f"Tab did not reach {field_id!r}")


def test_create_an_assessment_with_the_keyboard_alone(clinician_page):
    page = clinician_page
    page.goto("/assessments/new/")
    page.get_by_label("MRN (medical record number)").focus()
    page.keyboard.type("kb-0001")
    tab_to(page, "id_resection_date")
    # Day and month are equal so the date reads the same as dd/mm and mm/dd.
    page.keyboard.type("01012025")
    tab_to(page, "id_tumor_size_cm")
    page.keyboard.type("6.0")
    tab_to(page, "id_tumor_count")
    page.keyboard.type("2")
    # A radio group is one tab stop: arrows move and check, space checks.
    tab_to(page, "id_vascular_invasion_0")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Space")
    tab_to(page, "id_cirrhosis_grade_0")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    tab_to(page, "id_prior_adjuvant_tace_sessions")
    # The liver-function panel: bilirubin in mg/dL, chosen from the unit list by keyboard.
    tab_to(page, "id_bilirubin")
    page.keyboard.type("1.2")
    tab_to(page, "id_bilirubin_unit")
    page.keyboard.press("ArrowDown")
    tab_to(page, "id_albumin")
    page.keyboard.type("40")
    tab_to(page, "id_albumin_unit")
    tab_to(page, "id_inr")
    page.keyboard.type("1.1")
    tab_to(page, "id_ascites")
    page.keyboard.press("ArrowDown")
    tab_to(page, "id_encephalopathy")
    page.keyboard.press("ArrowDown")
    # Pathology and AFP, recorded for follow-up: the margin chosen, the rest left empty.
    tab_to(page, "id_resection_margin")
    page.keyboard.press("ArrowDown")
    for field in ["mvi_grade", "satellite_nodules", "tumor_rupture", "afp_before_ng_ml"]:
        tab_to(page, f"id_{field}")
    page.keyboard.type("12.5")
    tab_to(page, "id_afp_after_ng_ml")
    tab_to(page, "id_notes")
    page.keyboard.type("Typed without a mouse.")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Save and show recommendation")
    page.keyboard.press("Enter")

    result = page.locator("[data-recommendation]")
    expect(result).to_have_attribute("data-recommendation", "recommended")
    expect(result).to_contain_text("Adjuvant TACE recommended")
    assessment = Assessment.objects.get()
    assert assessment.patient.mrn == "KB-0001"
    assert str(assessment.resection_date) == "2025-01-01"
    assert (assessment.vascular_invasion, assessment.cirrhosis_grade) == ("none", "moderate")
    assert assessment.notes == "Typed without a mouse."
    assert (assessment.bilirubin_unit, assessment.ascites) == ("mg_dl", "none")
    assert assessment.child_pugh_class == "A"
    assert (assessment.resection_margin, str(assessment.afp_before_ng_ml)) == ("ge_1cm", "12.5")
    assert assessment.mvi_grade == "" and assessment.afp_after_ng_ml is None


def test_bad_values_show_each_error_beside_its_field_and_focus_the_first(clinician_page):
    page = clinician_page
    page.goto("/assessments/new/")
    page.get_by_label("MRN (medical record number)").fill("MRN-2")
    page.get_by_label("Date of resection").fill("2025-01-01")
    page.get_by_label("Largest tumor diameter (cm)").fill("0")
    page.get_by_label("Number of tumors").fill("51")
    page.get_by_label("Mild: compensated").check()
    page.get_by_role("button", name="Save and show recommendation").click()

    errors = {
        "tumor_size_cm": ("Largest tumor diameter (cm)", "Enter a value between 0.1 and 30.0 cm."),
        "tumor_count": ("Number of tumors", "Enter a value between 1 and 50."),
        "vascular_invasion": ("Vascular invasion", "This field is required."),
    }
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please correct the 3 fields marked below")
    for name, (label, message) in errors.items():
        # The message sits in the field's own block, and describes the field (or its group).
        block = page.locator(f"#div_id_{name}")
        expect(block.locator(".invalid-feedback")).to_have_text(message)
        expect(block.locator(f"[aria-describedby~=id_{name}_error]")).to_have_count(1)
        expect(block.locator("input").first).to_have_attribute("aria-invalid", "true")
        first_input_id = block.locator("input").first.get_attribute("id")
        expect(summary.get_by_role("link", name=label)).to_have_attribute(
            "href", f"#{first_input_id}"
        )
    for name in ("mrn", "resection_date", "cirrhosis_grade_1", "prior_adjuvant_tace_sessions"):
        expect(page.locator(f"#id_{name}")).not_to_have_attribute("aria-invalid", "true")
    # The first invalid field has the focus: typing fixes it at once.
    expect(page.locator("#id_tumor_size_cm")).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type("4.0")
    summary.get_by_role("link", name="Number of tumors").click()
    expect(page.locator("#id_tumor_count")).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type("1")
    summary.get_by_role("link", name="Vascular invasion").click()
    expect(page.locator("#id_vascular_invasion_0")).to_be_focused()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Save and show recommendation").click()

    expect(page.locator("[data-recommendation]")).to_have_attribute(
        "data-recommendation", "not_recommended"
    )
    assert Assessment.objects.get().tumor_size_cm == 4


def test_a_decimal_comma_is_refused_with_the_point_form(clinician_page):
    """A number box would send "25" for "2,5": the text box sends what was typed."""
    page = clinician_page
    page.goto("/assessments/new/")
    page.get_by_label("MRN (medical record number)").fill("MRN-3")
    page.get_by_label("Date of resection").fill("2025-01-01")
    page.get_by_label("Largest tumor diameter (cm)").fill("2,5")
    page.get_by_label("Number of tumors").fill("1")
    page.get_by_label("None", exact=True).check()
    page.get_by_label("None: no cirrhosis").check()
    page.get_by_role("button", name="Save and show recommendation").click()

    message = "Use a decimal point, not a comma: enter 2.5, not 2,5."
    expect(page.locator("#div_id_tumor_size_cm .invalid-feedback")).to_have_text(message)
    expect(page.get_by_role("alert")).to_contain_text(f"Largest tumor diameter (cm): {message}")
    expect(page.locator("#id_tumor_size_cm")).to_have_value("2,5")
    expect(page.locator("#id_tumor_size_cm")).to_be_focused()
    assert not Assessment.objects.exists()
