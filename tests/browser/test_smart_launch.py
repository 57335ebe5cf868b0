"""A SMART launch in the browser: the fake EHR's chart page, at its own origin, frames
the launch, and the mapped user lands logged in on the patient's page in the frame."""

import io
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.ehr.fake_smart import CLIENT_ID, FHIR_USER, MRN_SYSTEM, FakeSmartEhr
from tests.factories import record as record_assessment

pytestmark = pytest.mark.browser


@pytest.fixture
def smart_ehr(live_server, clinician, settings):
    # http://localhost is a secure context to Chromium: its cookies may be Secure.
    settings.SMART_FRAMED_COOKIES = True
    with FakeSmartEhr() as ehr:
        call_command(
            "smart_client", "add", "--iss", ehr.iss, "--client-id", CLIENT_ID,
            "--mrn-system", MRN_SYSTEM, "--frame-origin", ehr.origin, stdout=io.StringIO(),
        )  # fmt: skip
        call_command(
            "smart_client", "map-user", "--iss", ehr.iss, "--fhir-user", FHIR_USER,
            "--user", clinician.username, stdout=io.StringIO(),
        )  # fmt: skip
        query = urlencode({"iss": ehr.iss, "launch": "launch-abc"})
        ehr.app_launch_url = f"{live_server.url}/smart/launch?{query}"
        yield ehr


def test_a_launch_in_the_ehrs_frame_lands_on_the_patient_logged_in(page, smart_ehr, clinician):
    assessment = record_assessment(clinician)
    page.goto(f"{smart_ehr.origin}/chart")
    app = page.frame_locator("#app")
    expect(app.get_by_role("heading", level=1)).to_have_text("Patient MRN-1")
    expect(app.locator(".navbar-text")).to_have_text(clinician.username)
    frame = page.frame(url=lambda url: url.endswith(assessment.patient.get_absolute_url()))
    assert frame is not None and frame.url.startswith("http://localhost:")
    # Still logged in for the next page in the frame: the session cookie was kept.
    app.get_by_role("link", name="Worklist").click()
    expect(app.locator(".navbar-text")).to_have_text(clinician.username)


def test_outside_a_launched_session_not_even_the_ehr_frames_the_app(page, smart_ehr, live_server):
    smart_ehr.app_launch_url = f"{live_server.url}/accounts/login/"
    page.goto(f"{smart_ehr.origin}/chart")
    # The chart page loads; the login page in its frame is refused by the browser.
    expect(page.get_by_role("heading", name="Chart")).to_be_visible()
    page.wait_for_timeout(1000)
    frame = page.frame(url=lambda url: url.startswith(live_server.url))
    assert frame is None or frame.query_selector("form") is None
