from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.http import QueryDict

from assessments.models import Assessment, AuditEvent, Patient
from assessments.queries import (
    AUDIT_PAGE_SIZE,
    PAGE_SIZE,
    CappedPaginator,
    filtered_assessments,
    filtered_events,
)


def indexes_on(model, column: str) -> set[str]:
    """The names the database gave the indexes on one column of a model's table."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
        names = {
            name
            for name, info in constraints.items()
            if (info["index"] or info["unique"]) and info["columns"] == [column]
        }
        if connection.vendor == "sqlite":  # which introspection leaves unnamed for UNIQUE
            for _, name, *_ in cursor.execute(f'PRAGMA index_list("{table}")').fetchall():
                columns = cursor.execute(f'PRAGMA index_info("{name}")').fetchall()
                if [row[2] for row in columns] == [column]:
                    names.add(name)
    return names


def page_queries(patient: Patient) -> dict:
    """The queries of the list, its search, filters and sorts (the worklist's among them),
    the patient page and the audit log,
    built by the pages' own functions, each with the indexes it should use.

    A count is explained as the query it counts.
    """
    search = indexes_on(Patient, "mrn")
    queries = {}
    for name, params, index, count_index in [
        ("list", "", {"assessment_created_idx"}, {"assessment_status_idx"}),
        ("search", f"q={patient.mrn[:-1]}", search, search),
        ("recommendation", "recommendation=recommended", {"assessment_recommend_idx"}, None),
        ("awaiting sign-off", "status=draft&sort=assessed", {"assessment_status_idx"}, None),
        ("by resection date", "sort=-resection&voided=1", {"assessment_resection_idx"}, None),
        ("due for TACE", "window=due&sort=resection", {"assessment_due_idx"}, None),
    ]:
        assessments, _ = filtered_assessments(QueryDict(params))
        queries[name] = (assessments[:PAGE_SIZE], index)
        if count_index:
            counted = assessments.order_by().values("pk")[: CappedPaginator.MAX_COUNT + 1]
            queries[f"{name}, count"] = (counted, count_index)
    queries["patient"] = (
        patient.assessments.select_related("created_by"),
        indexes_on(Assessment, "patient_id"),
    )
    for name, params, index in [
        ("audit log by action", "action=view_history", {"auditevent_action_idx"}),
        ("audit log by user", "user=demo-reviewer-1", {"auditevent_username_idx"}),
        ("audit log by patient", f"patient={patient.pk}", indexes_on(AuditEvent, "patient_id")),
        (
            "audit log by dates",
            "date_from=2025-01-01&date_to=2025-01-31",
            {"auditevent_timestamp_idx"},
        ),
    ]:
        events, _ = filtered_events(QueryDict(params))
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
        for name, (queryset, indexes) in page_queries(patient).items():
            plan = queryset.explain()
            used = sorted(index for index in indexes if index in plan)
            verdict = "uses" if used else "the planner chose another plan than"
            self.stdout.write(
                f"== {name}: {verdict} {', '.join(used or sorted(indexes))}\n{plan}\n"
            )
