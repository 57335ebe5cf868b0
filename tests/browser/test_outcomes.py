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
    for slug in ("monthly", "adherence", "rfs-risk", "rfs-tace"):
        section = page.locator(f'[data-chart="{slug}"]')
        expect(section.get_by_role("img")).to_be_visible()
        expect(section.locator("table").first).to_be_visible()
        expect(section.get_by_role("link", name="Download these figures (CSV)")).to_be_visible()
    expect(page.get_by_role("img", name="Recurrence-free survival by risk level")).to_be_visible()
    assert axe_violations(page) == ""
