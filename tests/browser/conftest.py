"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

One browser for the session, a fresh context (cookies, storage) for each test.
A failing test leaves a full-page screenshot in test-artifacts/.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

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
PASSWORD = "a-long-test-password"


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
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-GB"
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


@pytest.fixture
def clinician_page(page, log_in, django_user_model):
    """A page logged in, through the login page, as a newly created clinician."""
    django_user_model.objects.create_user(username="dr-lee", password=PASSWORD)
    log_in("dr-lee")
    expect(page).to_have_url(re.compile(r"/assessments/$"))
    return page
