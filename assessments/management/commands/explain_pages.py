from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.http import QueryDict

from assessments.models import Patient
from assessments.views import (
    AUDIT_PAGE_SIZE,
    PAGE_SIZE,
    CappedPaginator,
    _filtered_events,
    filtered_assessments,
)


def page_queries(patient: Patient) -> dict:
    """The queries of the list, its search and filter, the patient page and the audit log,
    built by the views' own functions, each with the index it should use.

    A count is explained as the query it counts. The indexes whose names end in a
    hash are the ones Django makes for a unique field or a foreign key.
    """
    search_index = {"sqlite": "sqlite_autoindex_assessments_patient_1"}.get(
        connection.vendor, "assessments_patient_mrn_"
    )
    queries = {}
    for name, params, index, count_index in [
        ("list", "", "assessment_created_idx", "assessment_status_idx"),
        ("search", f"q={patient.mrn[:-1]}", search_index, search_index),
        ("recommendation", "recommendation=recommended", "assessment_recommend_idx", None),
    ]:
        assessments, _ = filtered_assessments(QueryDict(params))
        queries[name] = (assessments[:PAGE_SIZE], index)
        if count_index:
            counted = assessments.order_by().values("pk")[: CappedPaginator.MAX_COUNT + 1]
            queries[f"{name}, count"] = (counted, count_index)
    queries["patient"] = (
        patient.assessments.select_related("created_by"),
        "assessments_assessment_patient_id_",
    )
    for name, params, index in [
        ("audit log by action", "action=view_history", "auditevent_action_idx"),
        ("audit log by user", "user=demo-reviewer-1", "auditevent_username_idx"),
        ("audit log by patient", f"patient={patient.pk}", "assessments_auditevent_patient_id_"),
        (
            "audit log by dates",
            "date_from=2025-01-01&date_to=2025-01-31",
            "auditevent_timestamp_idx",
        ),
    ]:
        events, _ = _filtered_events(QueryDict(params))
        queries[name] = (events[:AUDIT_PAGE_SIZE], index)
    return queries


class Command(BaseCommand):
    help = (
        "Print the query plans of the assessment list, its search and filter, the patient "
        "page and the audit log's filters, and the index each should use."
    )

    def handle(self, *args, **options):
        patient = Patient.objects.order_by("-id").first()
        if patient is None:
            raise CommandError("No patient yet: add some first, e.g. with seed_demo.")
        for name, (queryset, index) in page_queries(patient).items():
            plan = queryset.explain()
            verdict = "uses" if index in plan else "the planner chose another plan than"
            self.stdout.write(f"== {name}: {verdict} {index}\n{plan}\n")
