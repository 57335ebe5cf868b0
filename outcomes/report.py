"""The unit's outcomes, from the record: resections per month, adherence to the first
session's window, recurrence-free survival (Kaplan-Meier, log-rank, Cox), recurrence
with death as a competing event (Aalen-Johansen), and TACE given compared without
immortal time (a landmark, and a Cox model with TACE as a time-varying covariate).
No HTTP here. docs/outcomes.md gives each definition with its reason.

The unit is the resection: one row per patient and resection date (the patient's
assessments of that resection taken once). Its clock starts at that resection and
its follow-up ends at the patient's next resection, censored there. An event belongs
to the latest resection before its date; an event on the day of a resection belongs
to the resection before it, and on the day of the patient's first resection to that
resection, at day 0. A session counts only for the resection of the assessment it is
linked to, and only up to the next resection. The recommendation, risk level and
prior sessions are those in force when the first session's window closed (day 42),
from the assessment's history; the ruleset is that of the first version that gave
the recommendation. The database gives the resections and the first sessions grouped,
the versions and events flat; the rest is done on whole columns (pandas), never row
by row in Python.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date

from django.db.models import (
    F,
    Max,
    Min,
)
from django.utils.translation import gettext_lazy as _

from assessments import rules
from assessments.models import Assessment, FollowUpEvent

DAYS_PER_MONTH = 30.4375  # 365.25 / 12
AT_RISK_MONTHS = (0, 6, 12, 24, 36)
MIN_AT_RISK = 10  # no estimate where fewer are at risk
MIN_PATIENTS = 10  # no test or hazard ratio for a smaller group
WINDOW_START_DAYS, WINDOW_END_DAYS = rules.FIRST_SESSION_WINDOW_DAYS
LANDMARK_DAYS = WINDOW_END_DAYS  # the default landmark: the window's last day
RECURRENCE, DEATH = 1, 2  # event codes for the competing risks


@dataclass(frozen=True)
class Filters:
    year: int | None = None
    ruleset: str | None = None
    landmark: int = LANDMARK_DAYS

    def as_detail(self) -> dict:
        """For the audit log: the filters given."""
        detail = {k: v for k, v in (("year", self.year), ("ruleset", self.ruleset)) if v}
        if self.landmark != LANDMARK_DAYS:
            detail["landmark"] = self.landmark
        return detail

    def as_params(self) -> dict:
        return {k: str(v) for k, v in self.as_detail().items()}


def resection_years() -> list[int]:
    """The years the filter offers: from the first resection recorded to the last."""
    span = Assessment.objects.exclude(status=Assessment.Status.VOIDED).aggregate(
        first=Min("resection_date"), last=Max("resection_date")
    )
    if span["first"] is None:
        return []
    return list(range(span["last"].year, span["first"].year - 1, -1))


# The record, one row per resection


COLUMNS = ["patient_id", "resection_date", "id"]
HISTORY_COLUMNS = [
    "id",
    "history_date",
    "history_type",
    "recommendation",
    "risk_level",
    "prior_adjuvant_tace_sessions",
    "ruleset",
]
EVENT_COLUMNS = ["patient_id", "date", "kind"]
SESSION_COLUMNS = ["patient_id", "resection_date", "session_at"]


def _of(queryset, patients, field="patient_id"):
    """The rows of the patients given, or all rows if None."""
    return queryset if patients is None else queryset.filter(**{f"{field}__in": patients})


def resections_query(patients=None):
    """One row per resection: the patient, the date, its first assessment not voided."""
    live = Assessment.objects.exclude(status=Assessment.Status.VOIDED)
    return (
        _of(live, patients)
        .order_by()
        .values("patient_id", "resection_date")
        .annotate(first=Min("id"))
        .values_list("patient_id", "resection_date", "first")
    )


def history_query(patients=None):
    """Every version of the assessments not voided, oldest first."""
    live = _of(Assessment.objects.exclude(status=Assessment.Status.VOIDED), patients)
    return (
        Assessment.history.filter(id__in=live.values("id"))
        .order_by("id", "history_date", "history_id")
        .values_list(*HISTORY_COLUMNS)
    )


def in_force(frame, history):
    """Per resection, the version in force when the window closed (the latest saved
    before the day after the window's end, or the first version of an assessment made
    later), and the ruleset of the first version that gave that recommendation."""
    import pandas as pd

    history = history.merge(frame[["id", "resection_date"]], on="id")
    saved = pd.to_datetime(history["history_date"], utc=True, format="ISO8601").dt.tz_localize(None)
    closes = history["resection_date"] + pd.Timedelta(days=WINDOW_END_DAYS + 1)
    kept = history[(saved < closes) | (history["history_type"] == "+")]
    current = kept.groupby("id").tail(1).set_index("id")
    same = (
        history["recommendation"].to_numpy()
        == current.loc[history["id"], "recommendation"].to_numpy()
    )
    first = history[same].groupby("id").head(1).set_index("id")["ruleset"]
    return current.assign(ruleset_first=first)[
        ["recommendation", "risk_level", "prior_adjuvant_tace_sessions", "ruleset_first"]
    ].rename(columns={"prior_adjuvant_tace_sessions": "prior_sessions"})


def events_query(patients=None):
    """Every recorded follow-up event: its patient, date and kind."""
    recorded = FollowUpEvent.objects.filter(status=FollowUpEvent.Status.RECORDED)
    return _of(recorded, patients).order_by().values_list(*EVENT_COLUMNS)


def events_per_resection(events, frame):
    """The first recurrence, first death and last event of each resection: each event
    given to the latest resection before its date, or to the first one on its own day
    (none before the patient's first resection)."""
    import pandas as pd

    # An empty read has columns of objects: merge_asof matches the patients' types.
    events = events.astype({"patient_id": "int64"})
    events = events.assign(date=_dates(events["date"])).sort_values("date")
    resections = frame[["patient_id", "resection_date"]].astype({"patient_id": "int64"})
    resections = resections.sort_values("resection_date")
    events = pd.merge_asof(
        events,
        resections,
        left_on="date",
        right_on="resection_date",
        by="patient_id",
        allow_exact_matches=False,
    )
    first = frame.groupby("patient_id")["resection_date"].min()
    events["resection_date"] = events["resection_date"].fillna(events["patient_id"].map(first))
    events = events[events["resection_date"] <= events["date"]]
    return (
        events.assign(
            recurrence_at=events["date"].where(events["kind"] == FollowUpEvent.Kind.RECURRENCE),
            death_at=events["date"].where(events["kind"] == FollowUpEvent.Kind.DEATH),
        )
        .groupby(["patient_id", "resection_date"], as_index=False)
        .agg(
            recurrence_at=("recurrence_at", "min"),
            death_at=("death_at", "min"),
            last_seen_at=("date", "max"),
        )
    )


def sessions_query(patients=None):
    """Each resection's first session, through the assessment the session is linked to."""
    return (
        _of(FollowUpEvent.objects, patients, "assessment__patient_id")
        .filter(
            status=FollowUpEvent.Status.RECORDED,
            kind=FollowUpEvent.Kind.TACE_SESSION,
            date__gte=F("assessment__resection_date"),
        )
        .order_by()
        .values("assessment__patient_id", "assessment__resection_date")
        .annotate(session_at=Min("date"))
        .values_list("assessment__patient_id", "assessment__resection_date", "session_at")
    )


def _read(queryset, columns):
    """The rows of a values_list query as a frame, from the database's cursor: pandas
    converts the dates column by column (load_frame), not the ORM value by value."""
    import pandas as pd
    from django.db import connections

    sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)


def _dates(column):
    import pandas as pd

    return pd.to_datetime(column, format="ISO8601")


def load_frame(patients=None):
    """The resections as a pandas frame, with the days each date lies after its resection;
    patients: only theirs (ids), else every patient's."""
    import numpy as np

    frame = _read(resections_query(patients), COLUMNS)
    frame["resection_date"] = _dates(frame["resection_date"])
    frame = frame.sort_values(["patient_id", "resection_date"], ignore_index=True)
    frame["next_at"] = frame.groupby("patient_id")["resection_date"].shift(-1)
    history = _read(history_query(patients), HISTORY_COLUMNS)
    frame = frame.join(in_force(frame, history), on="id")
    frame["prior_sessions"] = frame["prior_sessions"].fillna(0).astype("int64")
    keys = ["patient_id", "resection_date"]
    events = events_per_resection(_read(events_query(patients), EVENT_COLUMNS), frame)
    sessions = _read(sessions_query(patients), SESSION_COLUMNS)
    sessions["resection_date"] = _dates(sessions["resection_date"])
    frame = frame.merge(events, on=keys, how="left").merge(sessions, on=keys, how="left")
    for name in ("next_at", "recurrence_at", "death_at", "last_seen_at", "session_at"):
        frame[name] = (_dates(frame[name]) - frame["resection_date"]).dt.days
    # A session after the next resection is not this resection's.
    frame.loc[frame["session_at"] > frame["next_at"], "session_at"] = np.nan
    # The first endpoint; a recurrence and a death the same day: the recurrence.
    frame["endpoint_at"] = frame[["recurrence_at", "death_at"]].min(axis=1)
    frame["endpoint_kind"] = np.where(
        frame["recurrence_at"].le(frame["death_at"]) | frame["death_at"].isna(),
        str(FollowUpEvent.Kind.RECURRENCE),
        str(FollowUpEvent.Kind.DEATH),
    )
    frame.loc[frame["endpoint_at"].isna(), "endpoint_kind"] = None
    frame["year"] = frame["resection_date"].dt.year
    event = frame["endpoint_at"].notna()
    frame["event"] = event
    frame["kind"] = np.where(
        event, np.where(frame["endpoint_kind"] == FollowUpEvent.Kind.DEATH, DEATH, RECURRENCE), 0
    )
    # Follow-up ends at the event, else at the next resection, else at the last event.
    frame["days"] = frame["endpoint_at"].fillna(frame["next_at"]).fillna(frame["last_seen_at"])
    frame["followed"] = frame["days"].notna() & (event | (frame["days"] > 0))
    return frame


def changed_patients(since: tuple[int, int]) -> set[int]:
    """The patients of the assessments and follow-up events saved after the history ids
    given (assessments, events): every patient any version of them belonged to."""
    assessments, events = since
    return set(
        Assessment.history.filter(
            id__in=Assessment.history.filter(history_id__gt=assessments).values("id")
        )
        .order_by()
        .values_list("patient_id", flat=True)
        .union(
            FollowUpEvent.history.filter(
                id__in=FollowUpEvent.history.filter(history_id__gt=events).values("id")
            )
            .order_by()
            .values_list("patient_id", flat=True)
        )
    )


def update_frame(frame, patients: set[int]):
    """The frame with the rows of the patients given read again: a resection's row
    depends on its patient's record only."""
    import pandas as pd

    if not patients:
        return frame
    kept = frame[~frame["patient_id"].isin(patients)]
    fresh = load_frame(sorted(patients))
    if fresh.empty:
        return kept.reset_index(drop=True)
    return pd.concat([kept, fresh], ignore_index=True)


def filtered(frame, filters: Filters):
    keep = frame["year"].eq(filters.year) if filters.year else frame["year"].notna()
    if filters.ruleset:
        keep &= frame["ruleset_first"].eq(filters.ruleset)
    return frame[keep]


def _count(frame) -> dict:
    return {"resections": len(frame), "patients": int(frame["patient_id"].nunique())}


# Resections per month


def monthly_counts(frame) -> list[dict]:
    """Resections by month, by the recommendation in force, every month in between."""
    if frame.empty:
        return []
    months = frame["resection_date"].dt.to_period("M")
    table = frame.groupby([months, "recommendation"]).size().unstack(fill_value=0)
    patients = frame.groupby(months)["patient_id"].nunique()
    span = table.index.min(), table.index.max()
    result = []
    for period in _periods(*span):
        by = {
            code: int(table.at[period, code])
            if period in table.index and code in table.columns
            else 0
            for code in rules.RECOMMENDATIONS
        }
        result.append(
            {
                "month": date(period.year, period.month, 1),
                **by,
                "total": sum(by.values()),
                "patients": int(patients.get(period, 0)),
            }
        )
    return result


def _periods(first, last):
    import pandas as pd

    return list(pd.period_range(first, last, freq="M"))


# Adherence


ADHERENCE = {
    "before": _("Session before the window"),
    "inside": _("Session inside the window"),
    "after": _("Session after the window"),
    "never": _("No session, window passed"),
}
NOT_COUNTED = {
    "not_yet": _("Not yet due: window not over, no session yet"),
    "ineligible_recurrence": _("Not eligible: recurrence before the window closed"),
    "ineligible_death": _("Not eligible: died before the window closed"),
    "ineligible_resection": _("Not eligible: resected again before the window closed"),
}
NOT_RECOMMENDED_GIVEN = {
    "given": _("TACE given anyway"),
    "not_given": _("No TACE recorded"),
}


def adherence_categories(frame, *, today_days):
    """Each first-session resection's category (a pandas Series); today_days: days
    from each resection to today."""
    import numpy as np
    import pandas as pd

    session = frame["session_at"]
    close = WINDOW_END_DAYS
    # What made the resection no longer eligible, when it came before any session.
    stop = frame["endpoint_at"].where(frame["endpoint_at"] <= close)
    again = frame["next_at"].where(frame["next_at"] <= close)
    first_stop = pd.concat([stop, again], axis=1).min(axis=1)
    untreated = session.isna() | (session > first_stop)
    why = np.where(
        again.notna() & ~(stop <= again),
        "ineligible_resection",
        np.where(
            frame["endpoint_kind"] == FollowUpEvent.Kind.DEATH,
            "ineligible_death",
            "ineligible_recurrence",
        ),
    )
    conditions = [
        first_stop.notna() & untreated,
        session.isna() & (today_days <= close),
        session.isna(),
        session < WINDOW_START_DAYS,
        session <= close,
    ]
    choices = [why, "not_yet", "never", "before", "inside"]
    return pd.Series(np.select(conditions, choices, default="after"), index=frame.index)


def _rows(frame, categories, labels: dict, *, shared: bool) -> list[dict]:
    counted = frame.groupby(categories)
    resections = counted.size()
    patients = counted["patient_id"].nunique()
    total = int(resections.sum()) if shared else 0
    return [
        {
            "code": code,
            "label": label,
            "count": int(resections.get(code, 0)),
            "patients": int(patients.get(code, 0)),
            "share": 100 * int(resections.get(code, 0)) / total if total else None,
        }
        for code, label in labels.items()
    ]


def adherence(frame, *, today: date) -> dict:
    """First-session recommendations in force when the window closed, by when the
    session came, of those still eligible then; the others counted apart. Not
    recommended, by whether a session was given anyway."""
    import pandas as pd

    first = frame[(frame["recommendation"] == rules.RECOMMENDED) & (frame["prior_sessions"] == 0)]
    today_days = (pd.Timestamp(today) - first["resection_date"]).dt.days
    categories = adherence_categories(first, today_days=today_days)
    eligible = categories.isin(list(ADHERENCE))
    refused = frame[frame["recommendation"] == rules.NOT_RECOMMENDED]
    given = refused["session_at"].notna().map({True: "given", False: "not_given"})
    return {
        "recommended": _rows(first[eligible], categories[eligible], ADHERENCE, shared=True),
        "recommended_total": _count(first[eligible]),
        "not_counted": _rows(first[~eligible], categories[~eligible], NOT_COUNTED, shared=False),
        "not_recommended": _rows(refused, given, NOT_RECOMMENDED_GIVEN, shared=True),
        "not_recommended_total": _count(refused),
    }


# Survival


@dataclass
class Curve:
    label: str
    subjects: int  # resections
    patients: int
    events: int
    # The estimate's steps: months, at risk, events, censored, estimate, 95% CI; the
    # estimate and its interval None where fewer than MIN_AT_RISK are at risk.
    steps: list[tuple] = field(default_factory=list)
    at_marks: list[dict] = field(default_factory=list)  # month, at risk, estimate
    # The median: a number, "not_reached" or "not_estimable"; its limits the same.
    median: float | str | None = None
    median_ci: tuple = (None, None)


@dataclass
class Comparison:
    curves: list[Curve]
    p: float | None = None
    hr: tuple[float, float, float] | None = None  # hazard ratio, 95% CI
    why_not: str = ""  # why p and hr are not given


def _counted(frame, columns):
    """The distinct rows of columns and how many resections each stands for: the
    estimators take them as weights, so their work grows with the distinct days of
    follow-up, not with the resections."""
    counted = frame.groupby(list(columns), sort=True).size().rename("weight").reset_index()
    return counted


FITS_KEPT = 64  # fits kept per process
_fits: dict = {}


def _fitted(kind: str, fit, *data):
    """fit(*data), kept per process for the same kind and data (the distinct rows the
    estimators take): a change of the record fits again only the groups it changed."""
    import pandas as pd

    digest = hashlib.sha256()
    for frame in data:
        digest.update(repr(list(frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame).to_numpy().tobytes())
    key = (kind, digest.hexdigest())
    if key not in _fits:
        if len(_fits) >= FITS_KEPT:
            _fits.pop(next(iter(_fits)))
        _fits[key] = fit(*data)
    return _fits[key]


def _at_risk(months, at):
    """How many are followed at least to at (a month, or an array of months)."""
    import numpy as np

    ordered = np.sort(months)
    counts = len(ordered) - np.searchsorted(ordered, at, side="left")
    return int(counts) if np.ndim(counts) == 0 else counts.tolist()


def _crossing(series, months, *, level=0.5):
    """The first time the series falls to level or below, as the median is read:
    "not_reached" if it never does while enough are at risk, "not_estimable" if it
    does only where too few are."""
    below = series[series <= level + 1e-9]  # 10/20 as a product of floats is not 0.5
    if below.empty:
        return "not_reached"
    time = float(below.index[0])
    if time == float("inf") or _at_risk(months, time) < MIN_AT_RISK:
        return "not_estimable"
    return time


def kaplan_meier(frame, *, label) -> Curve:
    from lifelines import KaplanMeierFitter

    months = (frame["days"] / DAYS_PER_MONTH).to_numpy()
    curve = Curve(
        label=label,
        subjects=len(frame),
        patients=int(frame["patient_id"].nunique()),
        events=int(frame["event"].sum()),
    )
    if frame.empty:
        curve.at_marks = [{"month": m, "at_risk": 0, "survival": None} for m in AT_RISK_MONTHS]
        return curve
    fitter = _fitted(
        "kaplan_meier",
        lambda counted: KaplanMeierFitter().fit(
            counted["days"] / DAYS_PER_MONTH,
            counted["event"],
            weights=counted["weight"],
            label="s",
        ),
        _counted(frame, ["days", "event"]),
    )
    bounds = fitter.confidence_interval_
    table = fitter.event_table.reindex(bounds.index, fill_value=0)
    estimate = fitter.survival_function_.iloc[:, 0]
    for time, at_risk, events, censored, value, lower, upper in zip(
        bounds.index.astype(float).tolist(),
        table["at_risk"].round().astype(int).tolist(),
        table["observed"].round().astype(int).tolist(),
        table["censored"].round().astype(int).tolist(),
        estimate.astype(float).tolist(),
        bounds.iloc[:, 0].astype(float).tolist(),
        bounds.iloc[:, 1].astype(float).tolist(),
        strict=True,
    ):
        shown = at_risk >= MIN_AT_RISK
        curve.steps.append(
            (time, at_risk, events, censored, *((value, lower, upper) if shown else (None,) * 3))
        )
    at_times = fitter.survival_function_at_times(list(AT_RISK_MONTHS))
    for month, value in zip(AT_RISK_MONTHS, at_times, strict=True):
        at_risk = _at_risk(months, month)
        curve.at_marks.append(
            {
                "month": month,
                "at_risk": at_risk,
                "survival": float(value) if at_risk >= MIN_AT_RISK else None,
            }
        )
    curve.median = _crossing(estimate, months)
    if isinstance(curve.median, float):
        curve.median_ci = (
            _crossing(bounds.iloc[:, 0], months),
            _crossing(bounds.iloc[:, 1], months),
        )
    return curve


def _testable(groups) -> str:
    """Why two groups cannot be compared, or ""."""
    for _label, frame in groups:
        if frame["patient_id"].nunique() < MIN_PATIENTS:
            return "small"
        if not frame["event"].any():
            return "no_events"
    return ""


def log_rank_p(a, b) -> float:
    from lifelines.statistics import logrank_test

    def test(a, b):
        return float(
            logrank_test(
                a["days"],
                b["days"],
                event_observed_A=a["event"],
                event_observed_B=b["event"],
                weights_A=a["weight"],
                weights_B=b["weight"],
            ).p_value
        )

    return _fitted("log_rank", test, _counted(a, ["days", "event"]), _counted(b, ["days", "event"]))


def _hazard_ratio(counted, start=None) -> tuple[float, float, float] | None:
    """covariate 1 against 0 in the counted rows (outcomes.cox); start: entry times."""
    from . import cox

    fit = cox.fit(
        start=counted["start"] if start else None,
        stop=counted["stop"],
        event=counted["event"],
        covariate=counted["covariate"],
        weight=counted["weight"],
    )
    return None if fit is None else (fit.ratio, fit.lower, fit.upper)


def cox_hr(a, b) -> tuple[float, float, float] | None:
    """Group a against group b, a Cox model (Efron's ties)."""
    import pandas as pd

    data = pd.DataFrame(
        {
            "stop": pd.concat([a["days"], b["days"]]),
            "event": pd.concat([a["event"], b["event"]]).astype(int),
            "covariate": [1] * len(a) + [0] * len(b),
        }
    )
    return _hazard_ratio(_counted(data, ["stop", "event", "covariate"]))


def compare(groups) -> Comparison:
    comparison = Comparison(curves=[kaplan_meier(frame, label=label) for label, frame in groups])
    comparison.why_not = _testable(groups)
    if not comparison.why_not:
        (_a_label, a), (_b_label, b) = groups
        comparison.p = log_rank_p(a, b)
        comparison.hr = cox_hr(a, b)
        if comparison.hr is None:
            comparison.p, comparison.why_not = None, "not_estimable"
    return comparison


@dataclass
class Incidence:
    """Cumulative incidence of recurrence, death counted as a competing event."""

    label: str
    subjects: int
    patients: int
    recurrences: int
    deaths: int
    at_marks: list[dict] = field(default_factory=list)  # month, at risk, recurrence, death
    steps: list[tuple] = field(default_factory=list)  # months, at risk, recurrence


def aalen_johansen(frame, *, label) -> Incidence:
    import warnings

    from lifelines import AalenJohansenFitter

    months = (frame["days"] / DAYS_PER_MONTH).to_numpy()
    result = Incidence(
        label=label,
        subjects=len(frame),
        patients=int(frame["patient_id"].nunique()),
        recurrences=int((frame["kind"] == RECURRENCE).sum()),
        deaths=int((frame["kind"] == DEATH).sum()),
    )
    if frame.empty or not frame["event"].any():
        result.at_marks = [
            {"month": m, "at_risk": _at_risk(months, m), "recurrence": None, "death": None}
            for m in AT_RISK_MONTHS
        ]
        return result
    fits = {}
    with warnings.catch_warnings():
        # Tied times are moved by a fixed, seeded jitter of a millionth of a month.
        warnings.filterwarnings("ignore", message="Tied event times")
        counted = _counted(frame, ["days", "kind"])
        for code in (RECURRENCE, DEATH):
            fits[code] = _fitted(
                f"aalen_johansen_{code}",
                lambda counted, code=code: AalenJohansenFitter(
                    calculate_variance=False, jitter_level=1e-6, seed=0
                ).fit(
                    counted["days"] / DAYS_PER_MONTH,
                    counted["kind"],
                    event_of_interest=code,
                    weights=counted["weight"],
                ),
                counted,
            )
    recurrence = fits[RECURRENCE].cumulative_density_.iloc[:, 0]
    for month in AT_RISK_MONTHS:
        at_risk = _at_risk(months, month)
        shown = at_risk >= MIN_AT_RISK
        values = {
            code: float(fit.cumulative_density_.iloc[:, 0].asof(month)) if shown else None
            for code, fit in fits.items()
        }
        result.at_marks.append(
            {
                "month": month,
                "at_risk": at_risk,
                "recurrence": values[RECURRENCE],
                "death": values[DEATH],
            }
        )
    times = recurrence.index.tolist()
    for time, value, at_risk in zip(
        times, recurrence.tolist(), _at_risk(months, times), strict=True
    ):
        result.steps.append(
            (float(time), at_risk, float(value) if at_risk >= MIN_AT_RISK else None)
        )
    return result


# TACE given, without immortal time


@dataclass
class TaceComparison:
    landmark: int  # days
    eligible: dict  # resections and patients, high risk recommended a first session
    excluded: dict  # of those, with an event or censored by the landmark
    landmark_comparison: Comparison = None
    cox_hr: tuple[float, float, float] | None = None
    cox_why_not: str = ""
    cox_counts: dict = field(default_factory=dict)  # ever given, never given


def tace_cohort(frame):
    """High-risk resections recommended a first session, with follow-up."""
    return frame[
        frame["followed"]
        & (frame["risk_level"] == rules.HIGH)
        & (frame["recommendation"] == rules.RECOMMENDED)
        & (frame["prior_sessions"] == 0)
    ]


def time_varying_rows(cohort):
    """Each resection's follow-up split at its first session (start, stop in days)."""
    import numpy as np
    import pandas as pd

    given = cohort["session_at"].notna() & (cohort["session_at"] < cohort["days"])
    session = cohort["session_at"].where(given)
    before = cohort[~given | (session > 0)]
    untreated = pd.DataFrame(
        {
            "id": before.index,
            "start": 0.0,
            "stop": np.where(given[before.index], session[before.index], before["days"]),
            "tace": 0,
            "event": np.where(given[before.index], 0, before["event"].astype(int)),
        }
    )
    after = cohort[given]
    treated = pd.DataFrame(
        {
            "id": after.index,
            "start": session[after.index].astype(float),
            "stop": after["days"].astype(float),
            "tace": 1,
            "event": after["event"].astype(int),
        }
    )
    return pd.concat([untreated, treated], ignore_index=True), given


def _time_varying_hr(counted) -> tuple[float, float, float] | None:
    return _hazard_ratio(counted.rename(columns={"tace": "covariate"}), start=True)


def tace_comparison(frame, *, landmark: int) -> TaceComparison:
    cohort = tace_cohort(frame)
    at_landmark = cohort[cohort["days"] > landmark]
    result = TaceComparison(
        landmark=landmark,
        eligible=_count(cohort),
        excluded=_count(cohort[cohort["days"] <= landmark]),
    )
    shifted = at_landmark.assign(days=at_landmark["days"] - landmark)
    by_then = shifted["session_at"] <= landmark
    result.landmark_comparison = compare(
        [
            (_("Session by the landmark"), shifted[by_then]),
            (_("No session by the landmark"), shifted[~by_then]),
        ]
    )
    rows, given = time_varying_rows(cohort)
    groups = [("ever", cohort[given]), ("never", cohort[~given])]
    result.cox_counts = {name: _count(group) for name, group in groups}
    result.cox_why_not = _testable(groups)
    if not result.cox_why_not:
        result.cox_hr = _fitted(
            "cox_time_varying", _time_varying_hr, _counted(rows, ["start", "stop", "tace", "event"])
        )
        result.cox_why_not = "" if result.cox_hr else "not_estimable"
    return result


@dataclass
class Report:
    filters: Filters
    counts: dict  # resections and patients the filters keep
    months: list[dict]
    adherence: dict
    by_risk: Comparison
    incidence: list[Incidence]
    by_tace: TaceComparison
    survival: dict  # resections and patients followed
    left_out: dict  # resections and patients with no follow-up


def report(*, filters: Filters, today: date, frame=None) -> Report:
    if frame is None:
        frame = load_frame()
    kept = filtered(frame, filters)
    followed = kept[kept["followed"]]
    high = followed[followed["risk_level"] == rules.HIGH]
    low = followed[followed["risk_level"] == rules.LOW]
    return Report(
        filters=filters,
        counts=_count(kept),
        months=monthly_counts(kept),
        adherence=adherence(kept, today=today),
        by_risk=compare([(_("High risk"), high), (_("Low risk"), low)]),
        incidence=[
            aalen_johansen(high, label=_("High risk")),
            aalen_johansen(low, label=_("Low risk")),
        ],
        by_tace=tace_comparison(kept, landmark=filters.landmark),
        survival=_count(followed),
        left_out=_count(kept[~kept["followed"]]),
    )
