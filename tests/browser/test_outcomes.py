"""The outcomes page in the browser: its charts, each with its table; axe finds nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from assessments.models import FollowUpEvent

pytestmark = pytest.mark.browser


def test_the_outcomes_page_shows_its_charts_and_tables(
    page, log_in, reviewer, record, axe_violations
):
    resected = timezone.localdate() - timedelta(days=400)
    for number, size in enumerate(["6.0", "6.0", "3.0", "3.0"]):
        assessment = record(
            mrn=f"OUT-{number}", tumor_size_cm=size, resection_date=resected.isoformat()
        )
        FollowUpEvent.objects.create(
            patient=assessment.patient,
            kind="recurrence" if number % 2 else "no_recurrence",
            recurrence_site="intrahepatic" if number % 2 else "",
            found_by="imaging" if number % 2 else "",
            date=resected + timedelta(days=100 + 50 * number),
            created_by=assessment.created_by,
        )
    log_in(reviewer.username)
    page.get_by_role("link", name="Outcomes").click()
    expect(page.get_by_role("heading", name="Outcomes", level=1)).to_be_visible()
    for slug in ("monthly", "adherence", "rfs-risk", "cif-risk", "rfs-tace"):
        section = page.locator(f'[data-chart="{slug}"]')
        expect(section.get_by_role("img")).to_be_visible()
        expect(section.locator("table").first).to_be_visible()
        expect(section.get_by_role("link", name="Download these figures (CSV)")).to_be_visible()
    expect(page.get_by_role("img", name="Recurrence-free survival by risk level")).to_be_visible()
    assert clipped_labels(page) == []
    assert axe_violations(page) == ""


def test_in_chinese_no_header_breaks_a_character_a_line_and_no_label_is_clipped(
    page, log_in, reviewer, record
):
    resected = timezone.localdate() - timedelta(days=400)
    for number in range(4):
        record(mrn=f"ZH-{number}", tumor_size_cm="6.0", resection_date=resected.isoformat())
    log_in(reviewer.username)
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": page.url}])
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2] + "/outcomes/")
    expect(page.get_by_role("heading", name="随访结局", level=1)).to_be_visible()
    # Each header of the survival tables on one line: no taller than one and a half lines.
    heights = page.eval_on_selector_all(
        "[data-survival] th[scope=col]",
        "cells => cells.map(c => c.getBoundingClientRect().height"
        " / parseFloat(getComputedStyle(c).lineHeight))",
    )
    assert heights and max(heights) < 2.5, heights
    # The adherence chart's labels lie inside the drawing.
    assert clipped_labels(page) == []


def clipped_labels(page):
    return page.eval_on_selector(
        '[data-chart="adherence"] svg',
        """svg => {
            const box = svg.getBoundingClientRect();
            return [...svg.querySelectorAll("text")].filter(t => {
                const r = t.getBoundingClientRect();
                return r.width && (r.left < box.left - 1 || r.right > box.right + 1);
            }).map(t => t.textContent);
        }""",
    )
