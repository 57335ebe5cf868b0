"""The unit's outcomes: assessments per month, adherence to the first-session window,
and recurrence-free survival (Kaplan-Meier, log-rank), from the record. No HTTP here.

Definitions (docs/outcomes.md says the same for readers):

- A session for an assessment is the earliest recorded (not voided) TACE session of
  the same patient dated on or after the assessment's resection date.
- Adherence counts assessments that are not voided: those recommending a first
  session (so with a window), by when that session came; those not recommending
  TACE, by whether a session was recorded anyway.
- Survival takes one row per patient, from the patient's latest assessment (by
  resection date) among those the filters keep: time from that resection to the
  first recurrence or death on or after it (an event), or else to the patient's
  latest recorded follow-up event (censored). Patients with no event on or after
  the resection are left out, and counted. TACE given: a session on or after the
  resection and before the event (any session, when there is no event).
"""

import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from django.db.models import Max, Min
from django.utils.translation import gettext_lazy as _

from . import rules
from .models import Assessment, FollowUpEvent

DAYS_PER_MONTH = 30.4375  # 365.25 / 12
AT_RISK_MONTHS = (0, 6, 12, 24, 36)
# Plain strings: a hundred thousand comparisons with an enum member add up.
ENDPOINTS = frozenset({str(FollowUpEvent.Kind.RECURRENCE), str(FollowUpEvent.Kind.DEATH)})
SESSION = str(FollowUpEvent.Kind.TACE_SESSION)
WINDOW_START, WINDOW_END = (timedelta(days=days) for days in rules.FIRST_SESSION_WINDOW_DAYS)


@dataclass(frozen=True)
class Filters:
    year: int | None = None
    ruleset: str | None = None

    def as_detail(self) -> dict:
        """For the audit log: the filters given."""
        return {k: v for k, v in (("year", self.year), ("ruleset", self.ruleset)) if v}

    def as_params(self) -> dict:
        return {k: str(v) for k, v in self.as_detail().items()}


def parse_filters(params) -> Filters:
    """The page's GET filters; a value that is not one of the choices means "all"."""
    year = params.get("year", "")
    ruleset = params.get("ruleset", "")
    return Filters(
        year=int(year) if year.isascii() and year.isdigit() and 1900 < int(year) < 2200 else None,
        ruleset=ruleset if ruleset in rules.RULESETS else None,
    )


def resection_years() -> list[int]:
    """The years the filter offers: from the first resection recorded to the last."""
    span = Assessment.objects.exclude(status=Assessment.Status.VOIDED).aggregate(
        first=Min("resection_date"), last=Max("resection_date")
    )
    if span["first"] is None:
        return []
    return list(range(span["last"].year, span["first"].year - 1, -1))


class Row(NamedTuple):
    """An assessment, as far as the outcomes need it."""

    id: int
    patient_id: int
    resection_date: date
    recommendation: str
    risk_level: str
    prior_sessions: int


@dataclass
class Cohort:
    rows: list[Row]
    # Per patient, the recorded events in date order: (date, kind).
    events: dict[int, list[tuple[date, str]]]

    def sessions(self, patient_id: int) -> list[date]:
        return [d for d, kind in self.events.get(patient_id, ()) if kind == SESSION]


def load_cohort(*, filters: Filters) -> Cohort:
    """The assessments the filters keep, and their patients' events: two queries."""
    assessments = Assessment.objects.exclude(status=Assessment.Status.VOIDED)
    if filters.year:
        assessments = assessments.filter(resection_date__year=filters.year)
    if filters.ruleset:
        assessments = assessments.filter(ruleset=filters.ruleset)
    rows = list(
        map(
            Row._make,
            assessments.order_by().values_list(
                "id",
                "patient_id",
                "resection_date",
                "recommendation",
                "risk_level",
                "prior_adjuvant_tace_sessions",
            ),
        )
    )
    events = defaultdict(list)
    recorded = FollowUpEvent.objects.filter(status=FollowUpEvent.Status.RECORDED)
    if filters.year or filters.ruleset:
        recorded = recorded.filter(patient_id__in=assessments.values("patient_id"))
    for patient_id, day, kind in recorded.order_by("patient_id", "date", "id").values_list(
        "patient_id", "date", "kind"
    ):
        events[patient_id].append((day, kind))
    return Cohort(rows=rows, events=dict(events))


# Assessments per month


def monthly_counts(*, cohort: Cohort) -> list[dict]:
    """Assessments by month of resection, by recommendation, every month in between."""
    counts = Counter(
        (row.resection_date.year, row.resection_date.month, row.recommendation)
        for row in cohort.rows
    )
    if not counts:
        return []
    months = sorted({(year, month) for year, month, _ in counts})
    (year, month), last, result = months[0], months[-1], []
    while (year, month) <= last:
        by = {code: counts[(year, month, code)] for code in rules.RECOMMENDATIONS}
        result.append({"month": date(year, month, 1), **by, "total": sum(by.values())})
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


# Adherence


ADHERENCE = {
    "before": _("Session before the window"),
    "inside": _("Session inside the window"),
    "after": _("Session after the window"),
    "not_yet": _("No session yet, window not over"),
    "never": _("No session, window passed"),
}
NOT_RECOMMENDED_GIVEN = {
    "given": _("TACE given anyway"),
    "not_given": _("No TACE recorded"),
}


def first_session(sessions: list[date], resection_date: date) -> date | None:
    """The earliest session dated on or after the resection (sessions in date order)."""
    index = bisect.bisect_left(sessions, resection_date)
    return sessions[index] if index < len(sessions) else None


def adherence_category(*, session: date | None, window: tuple[date, date], today: date) -> str:
    start, end = window
    if session is None:
        return "not_yet" if end >= today else "never"
    if session < start:
        return "before"
    return "inside" if session <= end else "after"


def _shares(counts: Counter, labels: dict) -> list[dict]:
    total = sum(counts.values())
    return [
        {
            "code": code,
            "label": label,
            "count": counts[code],
            "share": 100 * counts[code] / total if total else None,
        }
        for code, label in labels.items()
    ]


def adherence(*, cohort: Cohort, today: date) -> dict:
    """Recommended first sessions by when the session came; not recommended by whether
    one was given. Recommendations of a second session have no window: not counted."""
    recommended, not_recommended = Counter(), Counter()
    sessions = {}
    for row in cohort.rows:
        if row.patient_id not in sessions:
            sessions[row.patient_id] = cohort.sessions(row.patient_id)
        session = first_session(sessions[row.patient_id], row.resection_date)
        if row.recommendation == rules.RECOMMENDED and row.prior_sessions == 0:
            # rules.first_session_window, without a call per row
            window = (row.resection_date + WINDOW_START, row.resection_date + WINDOW_END)
            recommended[adherence_category(session=session, window=window, today=today)] += 1
        elif row.recommendation == rules.NOT_RECOMMENDED:
            not_recommended["given" if session else "not_given"] += 1
    return {
        "recommended": _shares(recommended, ADHERENCE),
        "recommended_total": sum(recommended.values()),
        "not_recommended": _shares(not_recommended, NOT_RECOMMENDED_GIVEN),
        "not_recommended_total": sum(not_recommended.values()),
    }


# Recurrence-free survival


@dataclass(frozen=True)
class Subject:
    patient_id: int
    months: float
    event: bool
    risk_level: str
    tace_given: bool


def survival_subjects(*, cohort: Cohort) -> tuple[list[Subject], int]:
    """One subject per patient (its latest assessment); and how many patients were
    left out for want of any follow-up on or after that resection."""
    latest = {}
    for row in cohort.rows:
        kept = latest.get(row.patient_id)
        if kept is None or (row.resection_date, row.id) > (kept.resection_date, kept.id):
            latest[row.patient_id] = row
    subjects, left_out = [], 0
    for patient_id, row in latest.items():
        after = [
            (d, kind) for d, kind in cohort.events.get(patient_id, ()) if d >= row.resection_date
        ]
        if not after:
            left_out += 1
            continue
        endpoint = next((d for d, kind in after if kind in ENDPOINTS), None)
        end = endpoint or after[-1][0]
        session = next((d for d, kind in after if kind == SESSION), None)
        subjects.append(
            Subject(
                patient_id=patient_id,
                months=(end - row.resection_date).days / DAYS_PER_MONTH,
                event=endpoint is not None,
                risk_level=row.risk_level,
                tace_given=session is not None and (endpoint is None or session < endpoint),
            )
        )
    return subjects, left_out


@dataclass
class Curve:
    label: str
    subjects: int
    events: int
    # The estimate's steps: months, at risk, events, censored, survival, 95% CI.
    steps: list[tuple] = field(default_factory=list)
    at_marks: list[dict] = field(default_factory=list)  # month, at risk, survival
    median: float | None = None  # None: not reached
    median_ci: tuple[float | None, float | None] = (None, None)


def _finite(value) -> float | None:
    value = float(value)
    return None if value != value or value == float("inf") else value


def kaplan_meier(*, subjects: list[Subject], label: str) -> Curve:
    # lifelines (and pandas, numpy, scipy with it) is imported when a page needs it.
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    curve = Curve(label=label, subjects=len(subjects), events=sum(s.event for s in subjects))
    if not subjects:
        curve.at_marks = [{"month": m, "at_risk": 0, "survival": None} for m in AT_RISK_MONTHS]
        return curve
    fitter = KaplanMeierFitter().fit(
        [s.months for s in subjects], [s.event for s in subjects], label="s"
    )
    bounds = fitter.confidence_interval_
    table = fitter.event_table.reindex(bounds.index, fill_value=0)
    curve.steps = list(
        zip(
            bounds.index.astype(float).tolist(),
            table["at_risk"].astype(int).tolist(),
            table["observed"].astype(int).tolist(),
            table["censored"].astype(int).tolist(),
            fitter.survival_function_.iloc[:, 0].astype(float).tolist(),
            bounds.iloc[:, 0].astype(float).tolist(),
            bounds.iloc[:, 1].astype(float).tolist(),
            strict=True,
        )
    )
    months = sorted(s.months for s in subjects)
    at_times = fitter.survival_function_at_times(list(AT_RISK_MONTHS))
    for month, value in zip(AT_RISK_MONTHS, at_times, strict=True):
        at_risk = len(months) - bisect.bisect_left(months, month)
        curve.at_marks.append(
            {"month": month, "at_risk": at_risk, "survival": float(value) if at_risk else None}
        )
    curve.median = _finite(fitter.median_survival_time_)
    interval = median_survival_times(fitter.confidence_interval_)
    curve.median_ci = (_finite(interval.iloc[0, 0]), _finite(interval.iloc[0, 1]))
    return curve


def log_rank_p(*, a: list[Subject], b: list[Subject]) -> float | None:
    """The log-rank test's p between two groups; None when it cannot be computed."""
    from lifelines.statistics import logrank_test

    if not a or not b or not any(s.event for s in a + b):
        return None
    result = logrank_test(
        [s.months for s in a],
        [s.months for s in b],
        event_observed_A=[s.event for s in a],
        event_observed_B=[s.event for s in b],
    )
    return float(result.p_value)


@dataclass
class Comparison:
    curves: list[Curve]
    p: float | None


def compare(*, groups: list[tuple[str, list[Subject]]]) -> Comparison:
    return Comparison(
        curves=[kaplan_meier(subjects=subjects, label=label) for label, subjects in groups],
        p=log_rank_p(a=groups[0][1], b=groups[1][1]),
    )


@dataclass
class Report:
    filters: Filters
    months: list[dict]
    adherence: dict
    by_risk: Comparison
    by_tace: Comparison
    survival_subjects: int
    left_out: int


def report(*, filters: Filters, today: date) -> Report:
    cohort = load_cohort(filters=filters)
    subjects, left_out = survival_subjects(cohort=cohort)
    high = [s for s in subjects if s.risk_level == rules.HIGH]
    return Report(
        filters=filters,
        months=monthly_counts(cohort=cohort),
        adherence=adherence(cohort=cohort, today=today),
        by_risk=compare(
            groups=[
                (_("High risk"), high),
                (_("Low risk"), [s for s in subjects if s.risk_level == rules.LOW]),
            ]
        ),
        by_tace=compare(
            groups=[
                (_("High risk, TACE given"), [s for s in high if s.tace_given]),
                (_("High risk, no TACE"), [s for s in high if not s.tace_given]),
            ]
        ),
        survival_subjects=len(subjects),
        left_out=left_out,
    )
