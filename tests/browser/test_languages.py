"""The app in Simplified Chinese: chosen from the menu with the keyboard, accessible, printable."""

import re

import pytest
from playwright.sync_api import expect

from assessments import services
from tests.factories import PANEL

pytestmark = pytest.mark.browser


def tab_to(page, element_id, limit=40):
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab did not reach #{element_id}")


def choose_language(page, name):
    """With the keyboard alone: Tab to the menu, pick the language, Tab to the button, Enter."""
    page.locator("body").focus()
    tab_to(page, "language")
    for key in ["ArrowDown", "ArrowDown", "ArrowUp", "ArrowUp"]:
        if page.locator("#language option:checked").inner_text() == name:
            break
        page.keyboard.press(key)
    expect(page.locator("#language option:checked")).to_have_text(name)
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_attribute("type", "submit")
    page.keyboard.press("Enter")


def test_switch_to_chinese_and_back_with_the_keyboard(clinician_page):
    page = clinician_page
    page.goto("/assessments/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    choose_language(page, "简体中文")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_url(re.compile(r"/assessments/$"))  # back on the same page
    expect(page.get_by_role("heading", level=1)).to_have_text("评估")
    page.goto("/rules/")  # the choice is kept, in a cookie
    expect(page.get_by_role("heading", level=1)).to_have_text("规则及其证据")
    choose_language(page, "English")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("The rules and their evidence")


@pytest.fixture
def chinese_page(clinician_page):
    clinician_page.context.add_cookies(
        [{"name": "django_language", "value": "zh-hans", "url": clinician_page.url}]
    )
    return clinician_page


def test_no_accessibility_violation_in_chinese(chinese_page, record, axe_violations):
    page = chinese_page
    assessment = record(tumor_size_cm="6.0", **PANEL)
    found = {}
    for path in [
        "/",
        "/assessments/",
        "/assessments/new/",
        assessment.get_absolute_url(),
        f"/assessments/{assessment.pk}/history/",
        f"/assessments/{assessment.pk}/edit/",
        assessment.patient.get_absolute_url(),
        "/rules/",
    ]:
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        found[path] = axe_violations(page)
    assert found == dict.fromkeys(found, ""), "\n".join(v for v in found.values() if v)


def test_the_chinese_printout_fits_one_page(chinese_page, record, consultant):
    page = chinese_page
    assessment = record(
        tumor_size_cm="6.2",
        tumor_count="2",
        vascular_invasion="portal_vein_branch",
        cirrhosis_grade="moderate",
        prior_adjuvant_tace_sessions="1",
        notes="多学科团队讨论后记录。",
        **{**PANEL, "inr": "1.1", "ascites": "none"},
    )
    services.sign_assessment(assessment=assessment, user=consultant, version=assessment.version)
    page.goto(assessment.get_absolute_url())
    page.emulate_media(media="print")
    printed = page.locator("body")
    for text in ["推荐辅助性TACE", "复发风险", "依据", "计算依据", "已审核并批准"]:
        expect(printed).to_contain_text(text, use_inner_text=True)
    for paper in ("A4", "Letter"):
        pdf = page.pdf(format=paper)
        assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1, paper
