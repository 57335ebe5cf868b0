"""Locust users for make bench: logged-in clinicians and reviewers, and an anonymous baseline.

bench/run.py starts one page at a time: BENCH_PAGE names it, and the user class
given on locust's command line is the role that may see it. Without BENCH_PAGE
each user goes round its role's pages. The database is seed_demo's, BENCH_ROWS
assessments in a fresh database, whose users share the password in
SEED_DEMO_PASSWORD.

No request follows a redirect: a redirect to the login page, or any other
status than the expected one, counts as a failure.
"""

import os
import random
import re
from datetime import date, timedelta

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

PAGE = os.environ.get("BENCH_PAGE", "")
ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
PASSWORD = os.environ.get("SEED_DEMO_PASSWORD", "")
API_TOKEN = os.environ.get("BENCH_API_TOKEN", "")
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
DETAIL = re.compile(r"/assessments/\d+/$")
logged_in = 0


def random_assessment() -> int:
    return random.randint(1, ROWS)


def random_event() -> int:
    # seed_demo records about 0.84 follow-up events an assessment, numbered from 1.
    return random.randint(1, max(ROWS * 3 // 4, 1))


def random_mrn() -> str:
    return f"DEMO-{random.randrange(max(ROWS // 2, 1)):05d}"


# Several app servers (bench/run.py --servers): each user talks to one, in turn, as
# behind a load balancer.
HOSTS = [host for host in os.environ.get("BENCH_HOSTS", "").split(",") if host]
users_made = 0


class BenchUser(FastHttpUser):
    abstract = True
    wait_time = constant(0)  # back to back: 10 users keep 10 requests in flight
    username = ""

    def __init__(self, environment):
        global users_made
        if HOSTS:
            self.host = HOSTS[users_made % len(HOSTS)]
            users_made += 1
        super().__init__(environment)

    def on_start(self):
        if self.username:
            self.log_in(self.username)
        # Measure from the moment every user is in, without the logins.
        global logged_in
        logged_in += 1
        if logged_in == self.environment.runner.target_user_count:
            self.environment.runner.stats.reset_all()

    def log_in(self, username: str) -> None:
        form = self.client.get("/accounts/login/", name="(log in)")
        token = CSRF_INPUT.search(form.text)[1]
        data = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
        with self.client.post(
            "/accounts/login/",
            data=data,
            name="(log in)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302 or "/login/" in response.headers.get("Location", ""):
                response.failure(f"login as {username} failed: {response.status_code}")

    def page(self, name: str, path: str, **kwargs) -> None:
        """GET, expecting 200; a redirect (to the login page, say) is a failure."""
        with self.client.get(
            path, name=name, allow_redirects=False, catch_response=True, **kwargs
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} {response.headers.get('Location', '')}")

    def csrf_token(self) -> str:
        return next(c.value for c in self.client.cookiejar if c.name == "csrftoken")

    def run_page(self, pages: dict) -> None:
        (pages[PAGE] if PAGE else random.choice(list(pages.values())))(self)


class Clinician(BenchUser):
    def on_start(self):
        self.username = f"demo-clinician-{random.randint(1, 8)}"
        super().on_start()

    def assessment_list(self):
        self.page("list", "/assessments/")

    def search(self):
        # A whole MRN, or all but its last digit (about ten patients).
        mrn = random_mrn()
        self.page("search", "/assessments/", params={"q": random.choice([mrn, mrn[:-1]])})

    def bare_logged_in(self):
        """The limit of a logged-in page: session, user, the full middleware, no work."""
        self.page("bare (logged in)", "/bench/bare-logged-in")

    def worklist(self):
        self.page("worklist", "/")

    def no_match(self):
        """What every logged-in page costs before its own work: session, user, permissions."""
        self.page("no match", "/assessments/", params={"q": "NO-SUCH-MRN"})

    def detail(self):
        self.page("detail", f"/assessments/{random_assessment()}/")

    def history(self):
        self.page("history", f"/assessments/{random_assessment()}/history/")

    def patient(self):
        self.page("patient", f"/patients/{random.randint(1, max(ROWS // 2, 1))}/")

    def new_form(self):
        self.page("new form", "/assessments/new/")

    def event_form(self):
        """The form of a follow-up visit for a patient, to record one."""
        self.page(
            "event form",
            f"/patients/{random.randint(1, max(ROWS // 2, 1))}/events/new/no_recurrence/",
        )

    def event(self):
        self.page("event", f"/events/{random_event()}/")

    def submit(self):
        """A new assessment of a known patient, with a liver panel; 302 to its page."""
        data = {
            "csrfmiddlewaretoken": self.csrf_token(),
            "mrn": random_mrn(),
            "resection_date": (date.today() - timedelta(days=random.randint(7, 60))).isoformat(),
            "tumor_size_cm": f"{random.uniform(1, 12):.1f}",
            "tumor_count": str(random.choice([1, 1, 2, 3])),
            "vascular_invasion": random.choice(["none", "microvascular", "portal_vein_branch"]),
            "cirrhosis_grade": random.choice(["none", "mild", "moderate"]),
            "prior_adjuvant_tace_sessions": "0",
            "bilirubin": f"{random.uniform(5, 40):.1f}",
            "bilirubin_unit": "umol_l",
            "albumin": f"{random.uniform(28, 45):.0f}",
            "albumin_unit": "g_l",
            "inr": f"{random.uniform(0.9, 1.6):.2f}",
            "ascites": "none",
            "encephalopathy": "none",
            "notes": "",
        }
        with self.client.post(
            "/assessments/new/",
            data=data,
            name="submit",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302 or not DETAIL.search(response.headers["Location"]):
                response.failure(f"{response.status_code}: not saved")

    PAGES = {
        "bare (logged in)": bare_logged_in,
        "list": assessment_list,
        "search": search,
        "worklist": worklist,
        "no match": no_match,
        "detail": detail,
        "history": history,
        "patient": patient,
        "new form": new_form,
        "event form": event_form,
        "event": event,
        "submit": submit,
    }

    @task
    def go(self):
        self.run_page(self.PAGES)


class Reviewer(BenchUser):
    def on_start(self):
        self.username = f"demo-reviewer-{random.randint(1, 2)}"
        super().on_start()

    def audit_log(self):
        self.page("audit log", "/audit/")

    def outcomes(self):
        self.page("outcomes", "/outcomes/")

    PAGES = {"audit log": audit_log, "outcomes": outcomes}

    @task
    def go(self):
        self.run_page(self.PAGES)


class Integration(BenchUser):
    """A hospital system: a Bearer token, no login, JSON in and out."""

    def evaluate(self):
        body = {
            "tumor_size_cm": round(random.uniform(1, 12), 1),
            "tumor_count": random.choice([1, 1, 2, 3]),
            "vascular_invasion": random.choice(["none", "microvascular", "portal_vein_branch"]),
            "cirrhosis_grade": random.choice(["none", "mild", "moderate"]),
            "bilirubin": f"{random.uniform(5, 40):.1f}",
            "bilirubin_unit": "umol_l",
            "albumin": f"{random.uniform(28, 45):.0f}",
            "albumin_unit": "g_l",
            "inr": f"{random.uniform(0.9, 1.6):.2f}",
            "ascites": "none",
            "encephalopathy": "none",
        }
        with self.client.post(
            "/api/v1/evaluate",
            json=body,
            headers={"Authorization": f"Bearer {API_TOKEN}"},
            name="evaluate",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")

    PAGES = {"evaluate": evaluate}

    @task
    def go(self):
        self.run_page(self.PAGES)


class Anonymous(BenchUser):
    """The baseline: the login page, which needs no database."""

    def login_page(self):
        self.page("baseline", "/accounts/login/")

    def bare(self):
        """The limit of any page: the full middleware and a view that does nothing."""
        self.page("bare", "/bench/bare")

    PAGES = {"baseline": login_page, "bare": bare}

    @task
    def go(self):
        self.run_page(self.PAGES)
