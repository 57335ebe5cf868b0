"""The list, its search and filter, the patient page and the audit log use their indexes."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from assessments.management.commands.explain_pages import page_queries
from assessments.models import Patient

pytestmark = pytest.mark.django_db


def test_each_page_query_uses_its_index():
    with override_settings(DEBUG=True):
        call_command("seed_demo", count=300, stdout=io.StringIO())
    if connection.vendor == "postgresql":
        # On a few hundred rows a sequential scan is cheapest: rule it out to see that
        # the indexes can serve. SET LOCAL ends with the test's transaction.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
    patient = Patient.objects.order_by("-id").first()
    for name, (queryset, indexes) in page_queries(patient).items():
        plan = queryset.explain()
        assert indexes, name
        assert any(index in plan for index in indexes), f"{name} should use {indexes}:\n{plan}"


def test_explain_pages_prints_every_plan():
    with override_settings(DEBUG=True):
        call_command("seed_demo", count=20, stdout=io.StringIO())
    out = io.StringIO()
    call_command("explain_pages", stdout=out)
    assert out.getvalue().count("== ") == len(page_queries(Patient.objects.first()))
    assert "== list: uses assessment_created_idx" in out.getvalue()
