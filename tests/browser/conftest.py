"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

One browser for the session, a fresh context (cookies, storage) for each test.
A failing test leaves a full-page screenshot in test-artifacts/.
"""

import functools
import os
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect, sync_playwright

from tests.factories import PASSWORD
from tests.factories import record as record_assessment

# Playwright's sync API runs an event loop in the test thread; the ORM calls the
# tests make there (creating users and assessments) are still synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # Kept for the page fixture, which screenshots a failed test at teardown.
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), "
            'or leave the browser tests out with pytest -m "not browser".'
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(request, browser, live_server):
    """A page in a fresh context; parametrize indirectly to pass context options,
    e.g. {"java_script_enabled": False}."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        locale="en-GB",
        **getattr(request, "param", {}),
    )
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / (re.sub(r"[^\w.-]+", "_", request.node.nodeid) + ".png")
        page.screenshot(path=path, full_page=True)
        print(f"screenshot of the failed test: {path.relative_to(ARTIFACTS.parent)}")
    context.close()


@pytest.fixture
def log_in(page):
    def log_in(username, password=PASSWORD):
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()

    return log_in


# The worklist, where a login lands.
WORKLIST_URL = re.compile(r"^https?://[^/]+/$")


@pytest.fixture
def clinician_page(page, log_in, clinician):
    """A page logged in as the clinician, through the login page."""
    log_in(clinician.username)
    expect(page).to_have_url(WORKLIST_URL)
    return page


@pytest.fixture
def record(clinician):
    """Record an assessment by the clinician, as the form would."""
    return functools.partial(record_assessment, clinician)


@pytest.fixture(scope="session")
def axe_violations():
    """Run axe-core (WCAG 2.1 A and AA rules) on a page; return a report of its violations."""
    axe = Axe()
    options = {
        "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        "resultTypes": ["violations"],
    }

    def axe_violations(page):
        results = axe.run(page, options=options)
        return results.generate_report() if results.violations_count else ""

    return axe_violations
