"""The ward's checks in a browser: an unusual value and a possible duplicate are saved
only once confirmed; the result reads at a glance on a phone and on paper.

Screenshots of each step are kept in test-artifacts/ for a reader to look at."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from assessments.models import Assessment
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 800}


def shot(page, name: str, **options):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"ward-{name}.png", **options)


def fill_form(page, *, mrn="WARD-1", size="2.5", count="1"):
    page.goto("/assessments/new/")
    page.get_by_label("MRN (medical record number)").fill(mrn)
    resected = timezone.localdate() - timedelta(days=30)
    page.get_by_label("Date of resection").fill(resected.isoformat())
    page.get_by_label("Largest tumor diameter (cm)").fill(size)
    page.get_by_label("Number of tumors").fill(count)
    page.get_by_label("None", exact=True).check()
    page.get_by_label("Mild: compensated").check()


def save(page):
    page.get_by_role("button", name="Save and show recommendation").click()


def test_an_unusual_value_is_saved_only_once_confirmed(clinician_page):
    page = clinician_page
    fill_form(page, size="25")
    # The preview still scores what was typed, and says what saving will ask.
    expect(page.locator("#preview [data-recommendation='recommended']").first).to_be_visible()
    expect(page.locator("#preview")).to_contain_text("outside the usual range")
    save(page)
    expect(page.locator("#id_tumor_size_cm")).to_have_attribute("aria-invalid", "true")
    box = page.get_by_label("The value is correct: largest tumor diameter 25 cm")
    expect(box).to_be_visible()
    # Beside the value: right under its field, above the next one.
    size_box = page.locator("#id_tumor_size_cm").bounding_box()
    confirm = box.bounding_box()
    count_box = page.locator("#id_tumor_count").bounding_box()
    assert size_box["y"] < confirm["y"] < count_box["y"]
    box.scroll_into_view_if_needed()
    shot(page, "implausible-refused", full_page=True)
    assert Assessment.objects.count() == 0
    box.check()
    save(page)
    expect(page.locator("[data-saved]")).to_be_visible()
    assert Assessment.objects.get().confirmations == ["tumor_size_cm"]
    page.get_by_role("link", name="History").first.click()
    expect(page.locator("[data-confirmed]")).to_contain_text("Largest tumor diameter (cm)")


def test_the_api_asks_for_confirm_implausible(clinician_page, clinician):
    """The same check through the JSON API, from the logged-in browser's own session."""
    from tests.api.conftest import token_for

    token = token_for(clinician)
    body = {
        "mrn": "WARD-API",
        "resection_date": (timezone.localdate() - timedelta(days=30)).isoformat(),
        "tumor_size_cm": 25,
        "tumor_count": 1,
        "vascular_invasion": "none",
        "cirrhosis_grade": "mild",
    }
    api = clinician_page.request
    headers = {"Authorization": f"Bearer {token}"}
    refused = api.post("/api/v1/assessments", data=body, headers=headers)
    assert refused.status == 400
    assert '"confirm_implausible": true' in refused.json()["errors"]["tumor_size_cm"][0]
    created = api.post(
        "/api/v1/assessments", data={**body, "confirm_implausible": True}, headers=headers
    )
    assert created.status == 201, created.text()
    assert Assessment.objects.get().confirmations == ["tumor_size_cm"]


def test_a_possible_duplicate_says_when_and_by_whom(clinician_page, record, clinician):
    clinician.first_name, clinician.last_name = "Mei", "Chen"
    clinician.save()
    resected = (timezone.localdate() - timedelta(days=30)).isoformat()
    record(mrn="WARD-1", resection_date=resected)
    page = clinician_page
    fill_form(page)
    save(page)
    warning = page.locator("[data-duplicate]")
    expect(warning).to_contain_text("was saved at")
    expect(warning).to_contain_text("by Mei Chen")
    warning.scroll_into_view_if_needed()
    shot(page, "duplicate-warning")
    assert Assessment.objects.count() == 1
    page.get_by_label("Save it all the same").check()
    save(page)
    expect(page.locator("[data-saved]")).to_be_visible()
    assert Assessment.objects.count() == 2


@pytest.fixture
def both(record):
    recommended = record(mrn="WARD-REC", tumor_size_cm="6.2", tumor_count="2")
    not_recommended = record(mrn="WARD-NOT", tumor_size_cm="3.0")
    assert recommended.recommendation == "recommended"
    assert not_recommended.recommendation == "not_recommended"
    return recommended, not_recommended


def largest_text(page) -> tuple[float, str]:
    """The largest font size of any visible text on the page, and that text."""
    return tuple(
        page.evaluate(
            """() => {
            let best = [0, ""];
            for (const el of document.querySelectorAll("main *, header *")) {
              const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
              if (!own || !el.offsetParent) continue;
              const size = parseFloat(getComputedStyle(el).fontSize);
              const what = el.closest(".result-heading") ? "result" : el.textContent.trim();
              if (size > best[0]) best = [size, what];
            }
            return best;
        }"""
        )
    )


@pytest.mark.parametrize("media", ["screen", "print"])
def test_the_recommendation_is_the_largest_text_on_a_phone_and_on_paper(
    clinician_page, both, media
):
    page = clinician_page
    page.set_viewport_size(PHONE)
    for assessment in both:
        page.goto(assessment.get_absolute_url() + ("print/" if media == "print" else ""))
        page.emulate_media(media=media)
        heading = page.locator(".result-heading").first
        expect(heading).to_be_visible()
        icon = heading.locator("svg[data-icon]")
        expect(icon).to_have_attribute("data-icon", assessment.recommendation)
        size, text = largest_text(page)
        assert text == "result", (size, text)
        if assessment.recommendation == "not_recommended":
            expect(heading.locator("em.negation")).to_have_text("not")
        shot(page, f"{media}-{assessment.recommendation}", full_page=True)


def test_on_a_phone_the_preview_is_above_save_and_the_navbar_collapses(clinician_page):
    page = clinician_page
    page.set_viewport_size(PHONE)
    fill_form(page, size="6.2")
    expect(page.locator("#preview [data-recommendation='recommended']").first).to_be_visible()
    preview = page.locator("#preview").bounding_box()
    button = page.get_by_role("button", name="Save and show recommendation").bounding_box()
    assert preview["y"] + preview["height"] <= button["y"]
    page.get_by_role("button", name="Save and show recommendation").scroll_into_view_if_needed()
    shot(page, "phone-preview-above-save")
    page.evaluate("window.scrollTo(0, 0)")
    menu = page.get_by_role("link", name="Assessments", exact=True)
    expect(menu).to_be_hidden()
    shot(page, "phone-navbar-collapsed")
    page.get_by_role("button", name="Menu").click()
    expect(menu).to_be_visible()
    page.wait_for_selector("#navbar-menu.collapse.show")  # the opening animation is over
    shot(page, "phone-navbar-open")
