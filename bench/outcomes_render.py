"""The outcomes page's two render times, in a fresh process on a seeded database: the
first render after the start (nothing cached, every library imported by it), and the
next render after a change of the record (a follow-up event recorded). Prints JSON.

Run by bench/run.py with the site's environment: python bench/outcomes_render.py
"""

import json
import os
import sys
import time
from pathlib import Path

started = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tace_site.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from assessments.models import Assessment  # noqa: E402
from followup import services as followup_services  # noqa: E402


def render(client) -> float:
    before = time.perf_counter()
    response = client.get("/outcomes/", HTTP_HOST="127.0.0.1")
    if response.status_code != 200:
        raise SystemExit(f"/outcomes/ answered {response.status_code}")
    return time.perf_counter() - before


def main() -> None:
    users = get_user_model().objects
    client = Client()
    client.force_login(users.filter(groups__name="Reviewers").order_by("id").first())
    first = render(client)
    since_start = time.perf_counter() - started
    patient = Assessment.objects.select_related("patient").order_by("-id").first().patient
    author = users.filter(groups__name="Clinicians").order_by("id").first()
    followup_services.record_event(
        patient=patient,
        kind="no_recurrence",
        data={"date": timezone.localdate()},
        user=author,
    )
    after_change = render(client)
    print(
        json.dumps(
            {
                "first": first,
                "first_since_start": since_start,
                "after_change": after_change,
                "assessments": Assessment.objects.count(),
            }
        )
    )


if __name__ == "__main__":
    main()
