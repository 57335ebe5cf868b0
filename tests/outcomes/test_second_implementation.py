"""A second implementation of the outcomes, on the demo database: the resections and
their follow-up rebuilt in plain Python from the models (not from the page's SQL), the
statistics from statsmodels (SurvfuncRight, survdiff, PHReg) instead of lifelines. The
page's numbers must agree."""

import io
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from assessments import rules
from assessments.models import Assessment, FollowUpEvent
from outcomes import report as outcomes

pytestmark = pytest.mark.django_db

CLOSES_AFTER = timedelta(days=rules.FIRST_SESSION_WINDOW_DAYS[1] + 1)


def in_force(assessment):
    """The version saved last before the window's last day ended (or the first)."""
    closes = datetime.combine(assessment.resection_date + CLOSES_AFTER, time(), tzinfo=UTC)
    rows = sorted(assessment.history.all(), key=lambda row: (row.history_date, row.history_id))
    kept = [row for row in rows if row.history_date < closes or row.history_type == "+"]
    return kept[-1]


def resections():
    """One dict per resection, by the definitions of docs/outcomes.md."""
    live = Assessment.objects.exclude(status=Assessment.Status.VOIDED).order_by("id")
    by_patient = defaultdict(dict)
    for assessment in live:
        by_patient[assessment.patient_id].setdefault(assessment.resection_date, assessment)
    events = defaultdict(list)
    for event in FollowUpEvent.objects.filter(status="recorded").select_related("assessment"):
        events[event.patient_id].append(event)
    rows = []
    for patient, by_day in by_patient.items():
        days = sorted(by_day)
        for number, day in enumerate(days):
            following = days[number + 1] if number + 1 < len(days) else None

            def belongs(date, day=day, following=following, first=number == 0):
                return (date > day or (date == day and first)) and (
                    following is None or date <= following
                )

            mine = [e for e in events[patient] if belongs(e.date)]
            endpoints = sorted(
                (e.date, e.kind != "recurrence") for e in mine if e.kind in ("recurrence", "death")
            )
            sessions = sorted(
                e.date
                for e in events[patient]
                if e.kind == "tace_session"
                and e.assessment.patient_id == patient
                and e.assessment.resection_date == day
                and day <= e.date
                and (following is None or e.date <= following)
            )
            if endpoints:
                end, event = endpoints[0][0], True
            elif following:
                end, event = following, False
            elif mine:
                end, event = max(e.date for e in mine), False
            else:
                continue
            if not event and end == day:
                continue
            version = in_force(by_day[day])
            rows.append(
                {
                    "patient": patient,
                    "days": (end - day).days,
                    "event": event,
                    "risk": version.risk_level,
                    "first_session": version.recommendation == rules.RECOMMENDED
                    and version.prior_adjuvant_tace_sessions == 0,
                    "session": (sessions[0] - day).days if sessions else None,
                }
            )
    return rows


@pytest.fixture
def demo():
    with override_settings(DEBUG=True):
        call_command("seed_demo", count=500, stdout=io.StringIO())


def arrays(rows):
    return (
        np.array([r["days"] for r in rows], dtype=float),
        np.array([r["event"] for r in rows], dtype=float),
    )


def test_statsmodels_agrees_with_the_page(demo):
    from statsmodels.duration.hazard_regression import PHReg
    from statsmodels.duration.survfunc import SurvfuncRight, survdiff

    rows = resections()
    report = outcomes.report(filters=outcomes.Filters(), today=timezone.localdate())
    assert report.survival["resections"] == len(rows)
    assert report.survival["patients"] == len({r["patient"] for r in rows})

    # Kaplan-Meier by risk level, at each mark with 10 or more at risk.
    groups = {level: [r for r in rows if r["risk"] == level] for level in (rules.HIGH, rules.LOW)}
    compared = 0
    for curve, level in zip(report.by_risk.curves, groups, strict=True):
        durations, status = arrays(groups[level])
        assert (curve.subjects, curve.events) == (len(durations), int(status.sum()))
        fit = SurvfuncRight(durations / outcomes.DAYS_PER_MONTH, status)
        for mark in curve.at_marks:
            at_risk = int((durations / outcomes.DAYS_PER_MONTH >= mark["month"]).sum())
            assert mark["at_risk"] == at_risk
            if at_risk < 10:
                assert mark["survival"] is None
                continue
            steps = fit.surv_times <= mark["month"]
            expected = fit.surv_prob[steps][-1] if steps.any() else 1.0
            assert mark["survival"] == pytest.approx(expected, abs=1e-9)
            compared += 1
    assert compared >= 4

    # Log-rank and the Cox hazard ratio, high against low risk.
    both = groups[rules.HIGH] + groups[rules.LOW]
    durations, status = arrays(both)
    high = np.array([r["risk"] == rules.HIGH for r in both], dtype=float)
    _chi2, p = survdiff(durations, status, high)
    assert report.by_risk.p == pytest.approx(p, rel=1e-6)
    cox = PHReg(durations, high[:, None], status=status, ties="efron").fit()
    # The page fits the distinct rows weighted by their counts, each counted as that many
    # resections in Efron's ties: the unweighted fit's figures.
    assert report.by_risk.hr[0] == pytest.approx(np.exp(cox.params[0]), rel=1e-6)
    lower, upper = np.exp(cox.conf_int()[0])
    assert report.by_risk.hr[1] == pytest.approx(lower, rel=1e-6)
    assert report.by_risk.hr[2] == pytest.approx(upper, rel=1e-6)

    # TACE given: the landmark (log-rank) and the time-varying Cox model.
    cohort = [r for r in rows if r["risk"] == rules.HIGH and r["first_session"]]
    landmark = outcomes.LANDMARK_DAYS
    after = [r for r in cohort if r["days"] > landmark]
    durations, status = arrays(after)
    by_then = np.array(
        [r["session"] is not None and r["session"] <= landmark for r in after], dtype=float
    )
    counts = [c.subjects for c in report.by_tace.landmark_comparison.curves]
    assert counts == [int(by_then.sum()), int(len(after) - by_then.sum())]
    assert report.by_tace.landmark_comparison.p is not None  # 500 assessments: enough
    if report.by_tace.landmark_comparison.p is not None:
        _chi2, p = survdiff(durations - landmark, status, by_then)
        assert report.by_tace.landmark_comparison.p == pytest.approx(p, rel=1e-6)
    starts, stops, events, tace = [], [], [], []
    for r in cohort:
        given = r["session"] is not None and r["session"] < r["days"]
        if given and r["session"] > 0:
            starts += [0, r["session"]]
            stops += [r["session"], r["days"]]
            events += [0, r["event"]]
            tace += [0, 1]
        else:
            starts.append(0)
            stops.append(r["days"])
            events.append(r["event"])
            tace.append(int(given))
    if report.by_tace.cox_hr is not None:
        fit = PHReg(
            np.array(stops, dtype=float),
            np.array(tace, dtype=float)[:, None],
            status=np.array(events, dtype=float),
            # statsmodels has a row at risk from its entry time itself; in the counting
            # process (start, stop] a row enters just after: the split day is the
            # untreated row's, not both rows'.
            entry=np.array(starts, dtype=float) + 1e-6,
            ties="efron",
        ).fit()
        assert report.by_tace.cox_hr[0] == pytest.approx(np.exp(fit.params[0]), rel=1e-6)
        lower, upper = np.exp(fit.conf_int()[0])
        assert report.by_tace.cox_hr[1] == pytest.approx(lower, rel=1e-6)
        assert report.by_tace.cox_hr[2] == pytest.approx(upper, rel=1e-6)
    assert report.by_tace.cox_hr is not None
