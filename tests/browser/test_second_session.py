"""Ruleset 4's second session on the worklist: due once the first session is recorded,
with its window from that session, and gone once the second is recorded."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateformat import format as date_format
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def record_session(page, patient_url: str, day) -> None:
    page.goto(patient_url)
    page.get_by_role("link", name="Adjuvant TACE session given").click()
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("None", exact=True).check()
    page.get_by_role("button", name="Save event").click()
    expect(page.locator("[data-saved]")).to_contain_text("Adjuvant TACE session given recorded")


def test_a_second_session_is_due_with_its_window_until_it_is_recorded(clinician_page, record):
    page = clinician_page
    today = timezone.localdate()
    assessment = record(
        mrn="SS-1",
        tumor_size_cm="6.0",
        prior_adjuvant_tace_sessions="1",
        resection_date=(today - timedelta(days=120)).isoformat(),
    )
    page.goto(assessment.get_absolute_url())
    expect(page.locator("[data-outcome]")).to_contain_text("A second and last adjuvant TACE")
    expect(page.locator("[data-second-session-window]")).to_contain_text("cannot be dated")
    page.get_by_role("link", name="Worklist").click()
    due = page.locator("[data-list=due]")
    expect(due.get_by_role("heading")).to_have_text("Due for TACE (0)")

    first = today - timedelta(days=30)
    record_session(page, assessment.patient.get_absolute_url(), first)
    page.get_by_role("link", name="Worklist").click()
    expect(due.get_by_role("heading")).to_have_text("Due for TACE (1)")
    row = due.locator("tr", has_text="SS-1")
    start, end = (date_format(first + timedelta(days=d), "j M Y") for d in (28, 56))
    expect(row).to_contain_text(f"{start} to {end}")
    expect(row).to_contain_text("Second session")
    expect(row).to_have_attribute("data-window-state", "open")
    # The result and the timeline give the same window.
    row.get_by_role("link", name="SS-1").click()
    expect(page.locator("[data-second-session-window]")).to_contain_text(f"{start} to {end}")

    record_session(page, assessment.patient.get_absolute_url(), today)
    expect(page.locator("[data-assessment] [data-window-state]")).to_have_attribute(
        "data-window-state", "given"
    )
    page.get_by_role("link", name="Worklist").click()
    expect(due.get_by_role("heading")).to_have_text("Due for TACE (0)")
    expect(due).not_to_contain_text("SS-1")
