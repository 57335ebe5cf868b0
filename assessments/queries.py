"""The queries of the list pages, shared by the views and `manage.py explain_pages`."""

import hashlib
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection, models
from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import rules
from .forms.filters import SORT_LABELS as SORT_LABELS  # the list view reads them here
from .forms.filters import AssessmentFilterForm, AuditFilterForm
from .models import (
    FIRST_SESSION_DUE,
    SECOND_SESSION_DUE,
    Assessment,
    AuditEvent,
    FollowUpEvent,
    Patient,
    code_labels,
    confirmation_labels,
    person_name,
)

PAGE_SIZE = 25
AUDIT_PAGE_SIZE = 50
WORKLIST_ROWS = 5
RECENT_ROWS = 10
CLOSING_DAYS = 7  # a window with this many days left, or fewer, is closing


class CappedPaginator(Paginator):
    """Counts at most MAX_COUNT matches.

    Django's Paginator counts every match, and COUNT(*) grows with the table: at
    hospital scale it would cost more than the page itself. Past the cap the pages
    end at the cap, and the page says so: a search or a filter reaches older rows.

    With a cache_key (the list and its filters), a count past the cap is remembered
    for CAPPED_SECONDS, so that paging through a large list counts once: records are
    never deleted, so such a count only grows, unless voiding takes a filter back
    under the cap, which the list then shows within that time. Counts under the cap
    are made on every page, exact.
    """

    MAX_COUNT = 10_000
    CAPPED_SECONDS = 60

    def __init__(self, *args, cache_key: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.cache_key = cache_key

    @cached_property
    def _counted(self) -> int:
        key = self.cache_key and f"capped:{hashlib.sha256(self.cache_key.encode()).hexdigest()}"
        if key and cache.get(key):
            return self.MAX_COUNT + 1
        # Unordered, the count may read an index alone.
        counted = self.object_list.order_by()[: self.MAX_COUNT + 1].count()
        if key and counted > self.MAX_COUNT:
            cache.set(key, True, self.CAPPED_SECONDS)
        return counted

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


class WindowState(models.TextChoices):
    GIVEN = "given", _("Given")
    UPCOMING = "upcoming", _("Upcoming")
    OPEN = "open", _("Open")
    CLOSING = "closing", _("Closing")
    PASSED = "passed", _("Passed")


# Each window runs from a day: the first session's from the resection, the second's
# (ruleset 4) from the first session recorded (first_session_on, with_sessions()).
WINDOWS_FROM = (
    (FIRST_SESSION_DUE, "resection_date", rules.FIRST_SESSION_WINDOW_DAYS),
    (SECOND_SESSION_DUE, "first_session_on", rules.SECOND_SESSION_WINDOW_DAYS),
)


def _edge(today: date, days: int) -> date:
    """The day a window running from it reaches `days` days today."""
    return today - timedelta(days=days)


def window_passed(today: date) -> Q:
    """The window ended before today."""
    return _either(_window_ends(today, "lt"))


def window_ahead_or_open(today: date) -> Q:
    # Not ~window_passed(today): a range the due index answers in order.
    return _either(_window_ends(today, "gte"))


def _window_ends(today: date, lookup: str) -> list[Q]:
    """For each kind of window, the rows calling for it whose window's last day compares
    with today by lookup ("lt": before today; "gte": today or later)."""
    return [
        Q(due, **{f"{start}__{lookup}": _edge(today, ends)})
        for due, start, (_, ends) in WINDOWS_FROM
    ]


def _either(conditions: list[Q]) -> Q:
    first, second = conditions
    return first | second


def with_sessions(assessments: QuerySet) -> QuerySet:
    """Each assessment with the dates of the first and the second session recorded for it
    (sessions_after), or None."""
    sessions = sessions_after(OuterRef("patient"), OuterRef("resection_date"))
    dates = sessions.order_by("date", "id").values("date")
    return assessments.annotate(
        first_session_on=Subquery(dates[:1]), second_session_on=Subquery(dates[1:2])
    )


def window_state(today: date) -> Case:
    """The state on `today` of the window an assessment calls for, in SQL, on
    with_sessions(): given once the session is recorded; the first session's from the
    resection date (+ 28 to + 42 days), the second's from the first session recorded
    (+ 28 to + 56 days); "" for an assessment that has no window, or a second session
    whose first is not recorded (its window cannot be dated)."""
    state = models.CharField()
    whens = []
    for due, start, (opens, ends) in WINDOWS_FROM:
        given = "first_session_on" if start == "resection_date" else "second_session_on"
        passed_before = _edge(today, ends)
        # Each kind's conditions once, and its states within: twelve cases, each naming
        # the kind again, cost a third of the patient page to build and compile.
        states = Case(
            When(**{f"{given}__isnull": False}, then=Value(WindowState.GIVEN)),
            When(**{f"{start}__isnull": True}, then=Value("")),
            When(**{f"{start}__lt": passed_before}, then=Value(WindowState.PASSED)),
            When(
                **{f"{start}__lte": passed_before + timedelta(days=CLOSING_DAYS)},
                then=Value(WindowState.CLOSING),
            ),
            When(**{f"{start}__lte": _edge(today, opens)}, then=Value(WindowState.OPEN)),
            default=Value(WindowState.UPCOMING),
            output_field=state,
        )
        whens.append(When(due, then=states))
    return Case(*whens, default=Value(""), output_field=state)


def due_for_tace(*, today: date) -> QuerySet:
    """Assessments that call for an adjuvant session not yet given, each with its
    window's state on `today` (window_state, a WindowState).

    The one definition of "due": a recommendation of a first session with no session
    recorded for it (sessions_after), or (ruleset 4) of a second session with exactly
    the first recorded, from which its window runs; not voided.
    """
    (first, first_left), (second, second_left) = DUE
    return _with_window(Assessment.objects.filter(first | second), today).filter(
        Q(first, first_left) | Q(second, second_left)
    )


# Each kind of due row: what it calls for, and the sessions it still lacks (with_sessions()).
DUE = (
    (FIRST_SESSION_DUE, Q(first_session_on__isnull=True)),
    (SECOND_SESSION_DUE, Q(first_session_on__isnull=False, second_session_on__isnull=True)),
)


def _with_window(assessments: QuerySet, today: date) -> QuerySet:
    return with_sessions(assessments).annotate(window_state=window_state(today))


def second_session(assessment: Assessment, patient: Patient | None) -> dict | None:
    """Ruleset 4, for a result that advises a second session: the first session recorded
    for the patient on or after the resection, and the window that runs from it (None
    when no first session is recorded: the window cannot be dated)."""
    if not (assessment.advises_second_session and assessment.resection_date):
        return None
    first = None
    if patient is not None and patient.pk:
        sessions = sessions_after(patient, assessment.resection_date).order_by("date", "id")
        first = sessions.values_list("date", flat=True).first()
    return {"first": first, "window": assessment.window(first) if first else None}


def sessions_after(patient, resection_date) -> QuerySet:
    """The sessions recorded for an assessment: the patient's adjuvant sessions, not
    voided, given on or after its resection."""
    return FollowUpEvent.objects.filter(
        patient=patient,
        kind=FollowUpEvent.Kind.TACE_SESSION,
        date__gte=resection_date,
        status=FollowUpEvent.Status.RECORDED,
    )


def record_version() -> str:
    """Changes whenever an assessment or a follow-up event is saved: every save writes a
    history row, whose id only grows. What is computed from the whole record can be
    kept under it and is never stale."""
    return "-".join(
        str(model.history.order_by("-history_id").values_list("history_id", flat=True).first())
        for model in (Assessment, FollowUpEvent)
    )


COUNTS_SECONDS = 3600


def worklist(*, user, today: date) -> dict:
    """The landing page's lists, each a few rows and a count, in a constant number of
    queries. What the unit's lists read of every due or draft assessment (the counts, and
    which due rows come first, in which window state) is kept for the same record and
    day, the user's own count for the same record."""
    drafts = Assessment.objects.filter(status=Assessment.Status.DRAFT)
    mine = Assessment.objects.filter(created_by=user)

    def unit_lists() -> dict:
        due = due_for_tace(today=today)
        return {
            **due.aggregate(
                passed=models.Count("pk", filter=window_passed(today)),
                due=models.Count("pk", filter=window_ahead_or_open(today)),
            ),
            "drafts": drafts.count(),
            "due_ids": _first_due(today, "gte", ""),
            "passed_ids": _first_due(today, "lt", "-"),
        }

    version = record_version()
    unit = cache.get_or_set(f"worklist:{version}:{today}", unit_lists, COUNTS_SECONDS)
    # The user's own count too: PostgreSQL counts a clinician's thousands of rows in
    # 1 to 15 ms (the heap visited where the visibility map is not set), every request.
    mine_count = cache.get_or_set(f"worklist:mine:{user.pk}:{version}", mine.count, COUNTS_SECONDS)

    # Both lists' rows in one query, in the order kept, each in its window state.
    states = dict([*unit["due_ids"], *unit["passed_ids"]])
    shown = with_sessions(Assessment.objects.filter(pk__in=states)).select_related("patient")
    shown = {assessment.pk: assessment for assessment in shown}
    for pk, state in states.items():
        shown[pk].window_state = state
    return {
        # Closing first: the window that ends first has the least time left.
        "due": [shown[pk] for pk, _ in unit["due_ids"]],
        "due_count": unit["due"],
        "passed": [shown[pk] for pk, _ in unit["passed_ids"]],
        "passed_count": unit["passed"],
        "drafts": drafts.select_related("patient", "created_by").order_by("created_at", "id")[
            :WORKLIST_ROWS
        ],
        "drafts_count": unit["drafts"],
        "mine": mine.select_related("patient")[:RECENT_ROWS],
        "mine_count": mine_count,
    }


def _first_due(today: date, lookup: str, sign: str) -> list[tuple[int, str]]:
    """The ids and window states of the first WORKLIST_ROWS due rows whose window ends
    by lookup (_window_ends), in the order of the window's last day (sign "-": latest
    first).

    Sorted by that day, every due row would be worked out (its sessions looked up, its
    last day computed), and the passed ones are most of the record. But each kind of
    window ends a fixed time after its own column: the first rows of each kind come in
    that column's order (the first session's from the due index), and the first rows of
    all are among them."""
    firsts = [
        with_sessions(Assessment.objects.filter(calls_for))
        .filter(left, ends)
        .order_by(f"{sign}{start}", f"{sign}id")
        .values("pk")[:WORKLIST_ROWS]
        for (calls_for, left), ends, (_, start, _) in zip(
            DUE, _window_ends(today, lookup), WINDOWS_FROM, strict=True
        )
    ]
    return list(
        _with_window(Assessment.objects.filter(Q(pk__in=firsts[0]) | Q(pk__in=firsts[1])), today)
        .alias(window_ends=window_ends())
        .order_by(f"{sign}window_ends", f"{sign}id")
        .values_list("pk", "window_state")[:WORKLIST_ROWS]
    )


def window_ends() -> Case:
    """The last day of the window, in SQL, on due_for_tace(): the order of "least time
    left" for first and second sessions alike."""
    (_, _, first), (_, _, second) = WINDOWS_FROM
    return Case(
        When(prior_adjuvant_tace_sessions=0, then=F("resection_date") + timedelta(days=first[1])),
        default=F("first_session_on") + timedelta(days=second[1]),
        output_field=models.DateField(),
    )


def users_with_permission(codename: str) -> QuerySet:
    """Active users who hold an assessments permission, superusers included."""
    permission = Permission.objects.filter(content_type__app_label="assessments", codename=codename)
    return (
        get_user_model()
        .objects.filter(
            Q(is_superuser=True)
            | Q(groups__permissions__in=permission)
            | Q(user_permissions__in=permission),
            is_active=True,
        )
        .distinct()
        .order_by("username")
    )


LIST_COLUMNS = [
    "created_at",
    "resection_date",
    "recommendation",
    "status",
    "risk_factors",
    "patient__mrn",
    "created_by__username",
    "created_by__first_name",
    "created_by__last_name",
]

# sort parameter: the ordering; the id breaks ties the same way.
SORTS = {
    "-assessed": ("-created_at", "-id"),
    "assessed": ("created_at", "id"),
    "-resection": ("-resection_date", "-id"),
    "resection": ("resection_date", "id"),
    "mrn": ("patient__mrn", "id"),
    "-mrn": ("-patient__mrn", "-id"),
}
# Folded away on the list until one is used.
MORE_FILTERS = (
    "clinician",
    "window",
    "assessed_from",
    "assessed_to",
    "resection_from",
    "resection_to",
)
# The list's filters that assessments_matching takes under the same name (q is its query).
MATCHED = ("status", "recommendation", *MORE_FILTERS)


def filtered_assessments(params, *, today: date | None = None):
    """The list's rows for its query string; return (queryset, the filters as understood)."""
    given = AssessmentFilterForm(params).given()
    filters = {name: (params.get(name) or "").strip() for name in MATCHED}
    filters["query"] = given.get("q", "")
    filters["show_voided"] = given["voided"]
    filters["sort"] = given.get("sort") or "-assessed"
    filters["window"] = given.get("window", "")
    filters["status"] = given.get("status", "")
    assessments = assessments_matching(
        today=today or timezone.localdate(),
        **{name: given[name] for name in MATCHED if given.get(name) not in (None, "")},
        query=filters["query"],
        show_voided=filters["show_voided"],
        sort=filters["sort"],
    )
    return assessments, filters


def assessments_matching(
    *,
    today: date,
    query: str = "",
    status: str = "",
    recommendation: str = "",
    clinician: int | None = None,
    window: str = "",
    assessed_from: date | None = None,
    assessed_to: date | None = None,
    resection_from: date | None = None,
    resection_to: date | None = None,
    show_voided: bool = False,
    sort: str = "-assessed",
) -> QuerySet:
    """The assessments that match validated filters, in the list's order: the voided ones
    only with show_voided or their status asked for."""
    if window:
        assessments = due_for_tace(today=today).filter(
            window_passed(today) if window == "passed" else window_ahead_or_open(today)
        )
    else:
        assessments = Assessment.objects.all()
    # Only what the list shows: a whole row, with its four JSON fields, costs more to load.
    assessments = assessments.select_related("patient", "created_by").only(*LIST_COLUMNS)
    if query:
        assessments = assessments.filter(mrn_prefix(query))
    if status:
        assessments = assessments.filter(status=status)
    elif not show_voided:
        assessments = assessments.exclude(status=Assessment.Status.VOIDED)
    if recommendation:
        assessments = assessments.filter(recommendation=recommendation)
    if clinician is not None:
        assessments = assessments.filter(created_by_id=clinician)
    tz = timezone.get_current_timezone()
    if assessed_from:
        assessments = assessments.filter(
            created_at__gte=datetime.combine(assessed_from, time.min, tz)
        )
    if assessed_to:
        assessments = assessments.filter(
            created_at__lte=datetime.combine(assessed_to, time.max, tz)
        )
    if resection_from:
        assessments = assessments.filter(resection_date__gte=resection_from)
    if resection_to:
        assessments = assessments.filter(resection_date__lte=resection_to)
    return assessments.order_by(*SORTS[sort])


# The audit log's filters, as its form posts them (the MRN apart: it becomes the patient).
AUDIT_FILTERS = ("user", "action", "date_from", "date_to")


def filtered_events(params):
    """The audit log's events for its query string; return (queryset, the filters as
    understood)."""
    given = AuditFilterForm(params).given()
    events = AuditEvent.objects.select_related("patient")
    filters = {name: (params.get(name) or "").strip() for name in AUDIT_FILTERS}
    filters["user"] = given.get("user", "")
    if filters["user"]:
        # Upper() on both sides: what iexact means, answered from auditevent_username_idx.
        events = events.alias(username_upper=Upper("username")).filter(
            username_upper=Upper(Value(filters["user"]))
        )
    if given.get("action"):
        events = events.filter(action=given["action"])
    filters["patient"] = params.get("patient", "")
    filters["mrn"] = ""
    if filters["patient"]:
        patient = given.get("patient") and Patient.objects.filter(pk=given["patient"]).first()
        events = events.filter(patient=patient) if patient else events.none()
        filters["mrn"] = patient.mrn if patient else ""
    tz = timezone.get_current_timezone()
    if day := given.get("date_from"):
        events = events.filter(timestamp__gte=datetime.combine(day, time.min, tz))
    if day := given.get("date_to"):
        events = events.filter(timestamp__lte=datetime.combine(day, time.max, tz))
    return events, filters


# The fields a reviewer sees change, in the order of the form.
HISTORY_FIELDS = [
    "resection_date",
    *Assessment.RULE_INPUTS,
    *Assessment.PANEL_INPUTS,
    *Assessment.PATHOLOGY,
    "notes",
    "confirmations",
    *Assessment.RESULT,
    *Assessment.LIVER_FUNCTION,
    "status",
    "signed_by",
    "signature_meaning",
    "void_reason",
]


def _shown(field, value, people):
    if value is None or value == "" or value == []:
        return gettext("(none)")
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if field.is_relation:
        return people.get(value, value)
    if field.name == "confirmations":
        return confirmation_labels(value)
    if field.name == "signature_meaning":
        return gettext(value)
    if isinstance(value, list):  # rule codes
        return code_labels(value)
    return str(value)


def history_versions(assessment: Assessment) -> list[dict]:
    """Every version, newest first, each with its changes as (label, old, new)."""
    records = list(assessment.history.select_related("history_user").order_by("history_id"))
    user_ids = {r.signed_by_id for r in records if r.signed_by_id}
    people = {
        user.pk: person_name(user) for user in get_user_model().objects.filter(pk__in=user_ids)
    }
    fields = {name: Assessment._meta.get_field(name) for name in HISTORY_FIELDS}
    versions, previous = [], None
    for record in records:
        changes = []
        if previous is not None:
            delta = record.diff_against(previous, included_fields=HISTORY_FIELDS)
            changed = {change.field: change for change in delta.changes}
            for name in HISTORY_FIELDS:
                if name in changed:
                    change = changed[name]
                    changes.append(
                        {
                            "field": name,
                            "label": fields[name].verbose_name.capitalize(),
                            "old": _shown(fields[name], change.old, people),
                            "new": _shown(fields[name], change.new, people),
                        }
                    )
        confirmed = confirmation_labels(record.confirmations) if record.confirmations else ""
        versions.append({"record": record, "changes": changes, "confirmed": confirmed})
        previous = record
    return versions[::-1]
