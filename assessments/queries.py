"""The queries of the list pages, shared by the views and `manage.py explain_pages`."""

from datetime import datetime, time

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q, Value
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.functional import cached_property

from . import rules
from .models import Assessment, AuditEvent, Patient

PAGE_SIZE = 25
AUDIT_PAGE_SIZE = 50


class CappedPaginator(Paginator):
    """Counts at most MAX_COUNT matches.

    Django's Paginator counts every match, and COUNT(*) grows with the table: at
    hospital scale it would cost more than the page itself. Past the cap the pages
    end at the cap, and the page says so: a search or a filter reaches older rows.
    """

    MAX_COUNT = 10_000

    @cached_property
    def _counted(self) -> int:
        # Unordered, the count may read an index alone.
        return self.object_list.order_by()[: self.MAX_COUNT + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.MAX_COUNT)

    @property
    def capped(self) -> bool:
        return self._counted > self.MAX_COUNT


def mrn_prefix(prefix: str) -> Q:
    """MRNs that begin with prefix, as a condition each database answers from an index.

    MRNs are stored upper-case. PostgreSQL answers LIKE 'X%' from the
    varchar_pattern_ops index Django makes beside a unique CharField. SQLite's
    LIKE ignores case, so it cannot use the (case-sensitive) index on mrn; the
    range [prefix, prefix + the last code point) holds exactly the same MRNs.
    """
    prefix = prefix.upper()
    if connection.vendor == "sqlite":
        return Q(patient__mrn__gte=prefix, patient__mrn__lt=prefix + "\U0010ffff")
    return Q(patient__mrn__startswith=prefix)


LIST_COLUMNS = [
    "created_at",
    "recommendation",
    "status",
    "risk_factors",
    "patient__mrn",
    "created_by__username",
]


def filtered_assessments(params):
    """The list's rows for its query string; return (queryset, the filters as understood)."""
    # Only what the list shows: a whole row, with its four JSON fields, costs more to load.
    assessments = Assessment.objects.select_related("patient", "created_by").only(*LIST_COLUMNS)
    filters = {
        "query": params.get("q", "").strip(),
        "recommendation": params.get("recommendation", ""),
        "show_voided": params.get("voided") == "1",
    }
    if filters["query"]:
        assessments = assessments.filter(mrn_prefix(filters["query"]))
    if filters["recommendation"] in rules.RECOMMENDATIONS:
        assessments = assessments.filter(recommendation=filters["recommendation"])
    if not filters["show_voided"]:
        assessments = assessments.exclude(status=Assessment.Status.VOIDED)
    return assessments, filters


FILTERS = ("user", "action", "date_from", "date_to")


def filtered_events(params):
    events = AuditEvent.objects.select_related("patient")
    filters = {name: params.get(name, "").strip() for name in FILTERS}
    if filters["user"]:
        # Upper() on both sides: what iexact means, answered from auditevent_username_idx.
        events = events.alias(username_upper=Upper("username")).filter(
            username_upper=Upper(Value(filters["user"]))
        )
    if filters["action"] in AuditEvent.Action.values:
        events = events.filter(action=filters["action"])
    filters["patient"] = params.get("patient", "")
    filters["mrn"] = ""
    if filters["patient"]:
        patient = Patient.objects.filter(pk=_int(filters["patient"])).first()
        events = events.filter(patient=patient) if patient else events.none()
        filters["mrn"] = patient.mrn if patient else ""
    tz = timezone.get_current_timezone()
    if day := _date(filters["date_from"]):
        events = events.filter(timestamp__gte=datetime.combine(day, time.min, tz))
    if day := _date(filters["date_to"]):
        events = events.filter(timestamp__lte=datetime.combine(day, time.max, tz))
    return events, filters


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 19 else None


def _date(text: str):
    try:
        return parse_date(text)
    except ValueError:  # well formed but impossible, such as 2026-02-30
        return None
