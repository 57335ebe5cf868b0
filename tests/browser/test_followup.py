"""Follow-up recorded from the patient page with the keyboard alone."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from assessments.models import FollowUpEvent

pytestmark = pytest.mark.browser


def focus_by_tab(page, locator, presses=60):
    """Press Tab until the locator has the focus."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError("Tab never reached it")


def test_record_a_session_and_a_recurrence_with_the_keyboard(
    clinician_page, record, axe_violations
):
    page = clinician_page
    today = timezone.localdate()
    resected = today - timedelta(days=400)
    # Dates whose day and month are equal read the same whichever the field's order is.
    same = [
        date(year, month, month)
        for year in (today.year - 1, today.year)
        for month in range(1, 13)
        if resected < date(year, month, month) < today
    ]
    session_day, recurrence_day = same[0], same[-1]
    assessment = record(tumor_size_cm="6.0", resection_date=resected.isoformat())
    page.goto(assessment.patient.get_absolute_url())

    # A session: its assessment is chosen already; complications by arrow keys.
    focus_by_tab(page, page.get_by_role("link", name="Adjuvant TACE session given"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Adjuvant TACE session given")
    assert axe_violations(page) == ""
    page.get_by_label("Date").focus()
    page.keyboard.type(session_day.strftime("%d%m%Y"))
    focus_by_tab(page, page.get_by_label("None", exact=True))
    page.keyboard.press("ArrowDown")  # minor
    focus_by_tab(page, page.get_by_label("Complication details"))
    page.keyboard.type("Post-embolisation fever, one day.")
    focus_by_tab(page, page.get_by_role("button", name="Save event"))
    page.keyboard.press("Enter")
    expect(page.locator("[data-saved]")).to_contain_text("Adjuvant TACE session given recorded")

    # A recurrence, found by imaging, intrahepatic.
    focus_by_tab(page, page.get_by_role("link", name="Recurrence", exact=True))
    page.keyboard.press("Enter")
    page.get_by_label("Date of detection").focus()
    page.keyboard.type(recurrence_day.strftime("%d%m%Y"))
    focus_by_tab(page, page.get_by_label("Intrahepatic"))
    page.keyboard.press("Space")
    focus_by_tab(page, page.get_by_label("Imaging", exact=True))
    page.keyboard.press("Space")
    focus_by_tab(page, page.get_by_role("button", name="Save event"))
    page.keyboard.press("Enter")

    rows = page.locator("tr[data-event]")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Adjuvant TACE session given")
    expect(rows.last).to_contain_text("Recurrence")
    assert axe_violations(page) == ""
    session, recurrence = FollowUpEvent.objects.order_by("date")
    assert (session.kind, session.date, session.complications, session.assessment) == (
        "tace_session",
        session_day,
        "minor",
        assessment,
    )
    assert session.complication_details == "Post-embolisation fever, one day."
    assert (recurrence.kind, recurrence.date, recurrence.recurrence_site, recurrence.found_by) == (
        "recurrence",
        recurrence_day,
        "intrahepatic",
        "imaging",
    )
