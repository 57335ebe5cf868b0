"""The README's screenshots, taken from the real app.

`make screenshots` writes them to docs/screenshots/; a plain test run writes
them to test-artifacts/screenshots/, checking they can still be taken.
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


def test_form_and_result_screenshots(clinician_page):
    out = ROOT / os.environ.get("SCREENSHOTS_DIR", "test-artifacts/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    page = clinician_page
    page.set_viewport_size({"width": 1000, "height": 800})
    page.goto("/assessments/new/")
    page.get_by_label("MRN (medical record number)").fill("MRN-004217")
    # A month after the resection: inside the window for the first session.
    resected = timezone.localdate() - timedelta(days=30)
    page.get_by_label("Date of resection").fill(resected.isoformat())
    page.get_by_label("Largest tumor diameter (cm)").fill("6.5")
    page.get_by_label("Number of tumors").fill("1")
    page.get_by_label("Microvascular").check()
    page.get_by_label("Mild: compensated").check()
    page.get_by_label("Total bilirubin").fill("14")
    page.get_by_label("Serum albumin").fill("42")
    page.get_by_label("INR", exact=True).fill("1.05")
    page.get_by_label("Ascites", exact=True).select_option("none")
    page.get_by_label("Hepatic encephalopathy", exact=True).select_option("none")
    # At the top of the page the sticky preview sits beside the first fields.
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    preview = page.locator("#preview")
    expect(preview).to_have_attribute("data-recommendation", "recommended")
    expect(preview).to_contain_text("Child-Pugh 5 (class A); ALBI -2.814 (grade 1)")
    page.screenshot(path=out / "form.png", full_page=True)

    page.get_by_role("button", name="Save and show recommendation").click()
    expect(page.locator("[data-recommendation]")).to_have_attribute(
        "data-recommendation", "recommended"
    )
    expect(page.locator(".liver-function")).to_have_attribute("data-child-pugh-class", "A")
    page.screenshot(path=out / "result.png", full_page=True)

    # The same result in Chinese, the language chosen from the menu.
    page.select_option("#language", "zh-hans")
    page.get_by_role("button", name="Change language").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("[data-recommendation]")).to_contain_text("推荐辅助性TACE")
    page.screenshot(path=out / "result-zh.png", full_page=True)

    for name in ("form.png", "result.png", "result-zh.png"):
        assert (out / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
