"""The outcomes page's two render times, in a fresh process on a seeded database: the
first render after the start (nothing cached; the libraries imported as a worker imports
them, by the site's WSGI module), and the next render after a change of the record (a
follow-up event recorded): of the newest
assessment's patient, and of a patient in every group the page compares (a high-risk
resection recommended a first session, censored past the landmark), which fits and
draws again all but the low-risk curve. Prints JSON.

Run by bench/run.py with the site's environment: python bench/outcomes_render.py
"""

import importlib
import json
import os
import sys
import time
from pathlib import Path

started = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tace_site.settings")

import pandas as pd  # noqa: E402

# As gunicorn starts a worker: the site's WSGI module sets Django up and imports the
# page's libraries.
importlib.import_module("tace_site.wsgi")

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from assessments.models import Assessment, Patient  # noqa: E402
from followup import services as followup_services  # noqa: E402
from outcomes import report as outcomes  # noqa: E402
from outcomes import views  # noqa: E402


def render(client) -> float:
    before = time.perf_counter()
    response = client.get("/outcomes/", HTTP_HOST="127.0.0.1")
    if response.status_code != 200:
        raise SystemExit(f"/outcomes/ answered {response.status_code}")
    return time.perf_counter() - before


def seen_today(patient, author) -> None:
    followup_services.record_event(
        patient=patient,
        kind="no_recurrence",
        data={"date": timezone.localdate()},
        user=author,
    )


def main() -> None:
    users = get_user_model().objects
    client = Client()
    client.force_login(users.filter(groups__name="Reviewers").order_by("id").first())
    first = render(client)
    since_start = time.perf_counter() - started
    patient = Assessment.objects.select_related("patient").order_by("-id").first().patient
    author = users.filter(groups__name="Clinicians").order_by("id").first()
    seen_today(patient, author)
    after_change = render(client)
    _version, frame = cache.get(views.FRAME_KEY)
    cohort = outcomes.tace_cohort(frame)
    # Censored at its last follow-up, before today: seen again today, its follow-up grows.
    today = pd.Timestamp(timezone.localdate())
    cohort = cohort[
        (cohort["days"] > outcomes.LANDMARK_DAYS)
        & ~cohort["event"]
        & cohort["next_at"].isna()
        & (cohort["resection_date"] + pd.to_timedelta(cohort["days"], unit="D") < today)
    ]
    seen_today(Patient.objects.get(pk=cohort["patient_id"].max()), author)
    after_change_in_every_group = render(client)
    print(
        json.dumps(
            {
                "first": first,
                "first_since_start": since_start,
                "after_change": after_change,
                "after_change_in_every_group": after_change_in_every_group,
                "assessments": Assessment.objects.count(),
            }
        )
    )


if __name__ == "__main__":
    main()
