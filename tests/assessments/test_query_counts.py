"""No page runs a query per row: as many queries with 5 rows as with 200."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments import services
from assessments.models import Assessment
from tests.factories import PASSWORD, record

pytestmark = pytest.mark.django_db


def seed_demo(count: int) -> None:
    with override_settings(DEBUG=True):
        call_command("seed_demo", count=count, stdout=io.StringIO())


def queries(client, url: str, params=None) -> int:
    # The first request of a session saves the session: not a cost of the page.
    client.get(url, params)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


@pytest.fixture
def superuser_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password=PASSWORD))
    return client


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("assessments:list", None),
        ("assessments:list", {"q": "demo-0"}),
        ("assessments:list", {"recommendation": "recommended", "voided": "1"}),
        ("assessments:list", {"status": "draft", "sort": "mrn", "resection_from": "2020-01-01"}),
        ("assessments:worklist", None),
        ("assessments:export", {"status": "draft"}),
        ("assessments:audit_log", None),
        ("assessments:audit_log", {"action": "view_assessment"}),
        ("assessments:outcomes", None),
        ("assessments:outcomes", {"year": "2025", "ruleset": "3"}),
    ],
)
def test_lists(reviewer_client, url, params):
    seed_demo(5)
    few = queries(reviewer_client, reverse(url), params)
    seed_demo(195)
    assert queries(reviewer_client, reverse(url), params) == few


@pytest.mark.parametrize(
    "model",
    [
        "assessments_assessment",
        "assessments_patient",
        "assessments_followupevent",
        "assessments_auditevent",
    ],
)
def test_admin_changelists(superuser_client, model):
    url = reverse(f"admin:{model}_changelist")
    seed_demo(5)
    few = queries(superuser_client, url)
    seed_demo(195)
    assert queries(superuser_client, url) == few


def test_patient_page(reviewer_client, clinician):
    for _ in range(5):
        assessment = record(clinician)
    url = reverse("assessments:patient", args=[assessment.patient.pk])
    few = queries(reviewer_client, url)
    for _ in range(195):
        record(clinician)
    assert Assessment.objects.count() == 200
    assert queries(reviewer_client, url) == few


@pytest.mark.parametrize("name", ["assessments:history", "assessments:detail"])
def test_history_and_detail_pages(reviewer_client, clinician, other_clinician, name):
    """The history builds a diff per version, from rows fetched at once."""
    assessment = record(clinician)

    def change(times: int) -> None:
        """Amendments by two clinicians, and signatures (the third, the thirteenth...)."""
        for number in range(times):
            current = Assessment.objects.get(pk=assessment.pk)
            user = clinician if number % 2 else other_clinician
            if number % 10 == 2:
                services.sign_assessment(assessment=current, user=user, version=current.version)
                continue
            services.amend_assessment(
                assessment=current,
                data={
                    "resection_date": current.resection_date,
                    "notes": f"note {number}",
                    "tumor_size_cm": Decimal("3.0" if number % 2 else "6.5"),
                    "tumor_count": 1,
                    "vascular_invasion": "none",
                    "cirrhosis_grade": "none",
                    "prior_adjuvant_tace_sessions": 0,
                },
                user=user,
                reason=f"Amendment number {number}.",
                version=current.version,
            )

    change(4)
    url = reverse(name, args=[assessment.pk])
    few = queries(reviewer_client, url)
    change(195)
    assert assessment.history.count() == 200
    assert queries(reviewer_client, url) == few


def test_admin_ruleset_filter_reads_no_rows_for_its_choices(superuser_client):
    seed_demo(40)
    url = reverse("admin:assessments_assessment_changelist")
    with CaptureQueriesContext(connection) as captured:
        response = superuser_client.get(url, {"ruleset": "1"})
    assert not any("DISTINCT" in query["sql"] for query in captured.captured_queries)
    shown = response.context["cl"].result_list
    assert shown and {assessment.ruleset for assessment in shown} == {"1"}
    assert "Ruleset 2" in response.content.decode()
