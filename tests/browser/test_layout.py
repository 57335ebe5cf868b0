"""Phones, print, and the keyboard's way around a page."""

import re

import pytest
from playwright.sync_api import expect

from assessments import services
from tests.factories import PANEL

pytestmark = pytest.mark.browser


@pytest.fixture
def recommended(record):
    """A long result: three risk factors and cautions, seven rationale sentences, a liver
    panel, notes."""
    return record(
        mrn="MRN-2026-000123",
        tumor_size_cm="6.2",
        tumor_count="2",
        vascular_invasion="portal_vein_branch",
        cirrhosis_grade="moderate",
        prior_adjuvant_tace_sessions="1",
        notes="Discussed at the multidisciplinary meeting.",
        # Child-Pugh B7: a caution; B8 and B9 rule TACE out from ruleset 3 on.
        **{**PANEL, "inr": "1.1", "ascites": "none"},
    )


@pytest.mark.parametrize("path", ["list", "form", "detail", "patient"])
def test_phone_width_needs_no_horizontal_scrolling(clinician_page, recommended, path):
    page = clinician_page
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(
        {
            "list": "/assessments/",
            "form": "/assessments/new/",
            "detail": recommended.get_absolute_url(),
            "patient": recommended.patient.get_absolute_url(),
        }[path]
    )
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # A table keeps to its key columns, so it needs no scrolling of its own either.
    for table in page.locator(".table-responsive").all():
        assert table.evaluate("t => t.scrollWidth <= t.clientWidth")
    if path in ("list", "patient"):
        header = {"list": "Recommendation", "patient": "Entry"}[path]
        expect(page.get_by_role("columnheader", name=header)).to_be_in_viewport()
        expect(page.get_by_role("cell", name="TACE recommended")).to_be_in_viewport()


def test_detail_prints_as_a_one_page_summary(clinician_page, consultant, recommended):
    page = clinician_page
    services.sign_assessment(assessment=recommended, user=consultant, version=recommended.version)
    page.goto(recommended.get_absolute_url())
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    for element in page.locator("header, button, .btn, .skip-link").all():
        expect(element).to_be_hidden()
    expect(page.locator("[data-recommendation]")).to_be_visible()
    expect(page.locator("[data-status=signed]")).to_be_visible()
    printed = page.locator("body")
    for text in [
        "Assessment of MRN-2026-000123",
        "Adjuvant TACE recommended",
        "6.2 cm",
        "Portal vein branch tumor thrombus",
        "Moderate: compensated",
        "Child-Pugh score (class B)",
        "Rationale",
        "The largest tumor is larger than 5 cm: a high risk of recurrence.",  # in its list
        "A second and last adjuvant TACE session is recommended",
        "Discussed at the multidisciplinary meeting.",
        "Ruleset 4",
        "dr-lee",
        f"{recommended.created_at:%-d %b %Y}",
        "does not replace",
        "Signed as reviewed and approved by dr-wu",
    ]:
        expect(printed).to_contain_text(text, use_inner_text=True)
    for paper in ("A4", "Letter"):
        pdf = page.pdf(format=paper)
        assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1, paper


def test_skip_link_and_a_visible_focus_ring(clinician_page):
    page = clinician_page
    page.goto("/assessments/")

    def ring():
        return page.evaluate(
            "[getComputedStyle(document.activeElement).outlineStyle,"
            " getComputedStyle(document.activeElement).outlineWidth]"
        )

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    assert ring() == ["solid", "3px"]
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    controls = [
        "New assessment",
        "MRN (exact or beginning)",
        "Status",
        "Recommendation",
        "Include voided",
        "Search",
        "More filters and sorting",
    ]
    for control in controls:
        page.keyboard.press("Tab")
        expect(page.locator(":focus")).to_have_accessible_name(control)
        assert ring() == ["solid", "3px"], control
    page.get_by_role("link", name="Assessments", exact=True).focus()
    assert ring() == ["solid", "3px"]
