"""Each definition of docs/outcomes.md on a hand-made cohort, against figures worked by
hand: the resection as the unit, sessions through their link, adherence of the eligible,
the recommendation in force when the window closed, the filters, small numbers, and a
cohort whose true TACE effect is zero."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments import rules, services
from assessments.forms import AssessmentForm
from outcomes import report as outcomes
from tests.factories import record, ruleset_1_assessment

from .test_outcomes import HIGH, LOW, event

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = TODAY - timedelta(days=900)


def frame_rows(**filters):
    frame = outcomes.filtered(outcomes.load_frame(), outcomes.Filters(**filters))
    return frame.sort_values(["patient_id", "resection_date"])


def resected(clinician, mrn, days=0, size=HIGH, **changes):
    day = DAY + timedelta(days=days)
    return record(clinician, mrn=mrn, tumor_size_cm=size, resection_date=day.isoformat(), **changes)


# The resection is the unit


def test_each_resection_has_its_own_clock_and_ends_at_the_next(clinician):
    first = resected(clinician, "R-1")
    event(first, "recurrence", 100)
    second = resected(clinician, "R-1", days=200, size=LOW)
    event(second, "no_recurrence", 300)  # day 500 of the first
    other = resected(clinician, "R-2")
    resected(clinician, "R-2", days=150)  # no event in between: censored at 150
    event(other, "recurrence", 400)  # day 250 of the second resection
    frame = frame_rows()
    assert list(zip(frame["days"], frame["event"], frame["risk_level"], strict=True)) == [
        (100, True, rules.HIGH),  # the recurrence stays with the first, high-risk, resection
        (300, False, rules.LOW),
        (150, False, rules.HIGH),  # censored at the next resection
        (250, True, rules.HIGH),
    ]
    report = outcomes.report(filters=outcomes.Filters(), today=TODAY)
    assert report.counts == {"resections": 4, "patients": 2}
    high, low = report.by_risk.curves
    assert (high.subjects, high.patients, high.events) == (3, 2, 2)
    assert (low.subjects, low.patients) == (1, 1)


def test_the_year_filter_keeps_each_resection_its_own_origin(clinician):
    first = resected(clinician, "Y-1")
    later = DAY.replace(year=DAY.year + 1, month=6, day=1)
    second = record(clinician, mrn="Y-1", tumor_size_cm=HIGH, resection_date=later.isoformat())
    event(second, "recurrence", 30)
    frame = frame_rows(year=later.year)
    assert list(frame["days"]) == [30]
    assert list(frame_rows(year=DAY.year)["days"]) == [(later - first.resection_date).days]


def test_an_event_on_the_day_of_surgery(clinician):
    first = resected(clinician, "D-1")
    event(first, "recurrence", 0)  # on the day of the first resection: day 0
    other = resected(clinician, "D-2")
    second = resected(clinician, "D-2", days=120)
    event(second, "recurrence", 0)  # on the day of the re-resection: the first's event
    event(second, "no_recurrence", 60)
    frame = frame_rows()
    assert list(zip(frame["days"], frame["event"], strict=True)) == [
        (0, True),
        (120, True),
        (60, False),
    ]
    assert other.resection_date == DAY


# Sessions through their link


def session(base, days, *, follows):
    """A session days after base's resection, linked to the assessment it follows."""
    made = event(base, "no_recurrence", days)
    made.kind, made.assessment, made.complications = "tace_session", follows, "none"
    made.save()


def test_a_session_counts_for_the_assessment_it_follows_only(clinician):
    first = resected(clinician, "S-1")
    second = resected(clinician, "S-1", days=100)
    session(first, 35, follows=first)
    session(first, 120, follows=first)  # after the next resection: never counts
    session(first, 130, follows=second)  # the second's, its day 30
    lone = resected(clinician, "S-2")
    later = resected(clinician, "S-2", days=60)
    session(lone, 70, follows=later)  # a later resection's session, not the first's
    frame = frame_rows()
    assert list(frame["session_at"].fillna(-1)) == [35, 30, -1, 10]


# Adherence


def shares(rows):
    return {row["code"]: (row["count"], row["share"]) for row in rows}


def test_adherence_counts_the_eligible_and_says_why_the_others_are_not(clinician):
    for number, days in enumerate([35, 28, 50]):
        event(resected(clinician, f"A-{number}"), "tace_session", days)
    resected(clinician, "A-3")  # no session, window passed
    event(resected(clinician, "A-4"), "recurrence", 20)
    event(resected(clinician, "A-5"), "death", 30)
    resected(clinician, "A-6")
    resected(clinician, "A-6", days=40)  # re-resected: the first is not eligible
    treated = resected(clinician, "A-7")
    event(treated, "tace_session", 30)
    event(treated, "recurrence", 40)  # treated first: counted, inside
    recent = record(
        clinician,
        mrn="A-8",
        tumor_size_cm=HIGH,
        resection_date=(TODAY - timedelta(days=10)).isoformat(),
    )
    result = outcomes.report(filters=outcomes.Filters(), today=TODAY).adherence
    # Eligible: A-0, A-1, A-7 inside; A-2 after; A-3 and A-6's second resection passed.
    assert shares(result["recommended"]) == {
        "before": (0, 0.0),
        "inside": (3, 50.0),
        "after": (1, pytest.approx(100 / 6)),
        "never": (2, pytest.approx(100 / 3)),
    }
    assert result["recommended_total"] == {"resections": 6, "patients": 6}
    counted = {row["code"]: row["count"] for row in result["not_counted"]}
    assert counted == {
        "not_yet": 1,
        "ineligible_recurrence": 1,
        "ineligible_death": 1,
        "ineligible_resection": 1,
    }
    assert recent.recommendation == rules.RECOMMENDED


def at(day, hour=12):
    moment = timezone.make_aware(datetime.combine(day, time(hour)))
    return lambda: moment


def amend(assessment, user, **changes):
    data = {
        field: getattr(assessment, field)
        for field in ("tumor_size_cm", "tumor_count", "vascular_invasion", "cirrhosis_grade")
    }
    data.update(mrn=assessment.patient.mrn, resection_date=assessment.resection_date, **changes)
    form = AssessmentForm(data={k: str(v) for k, v in data.items()})
    assert form.is_valid(), form.errors
    return services.amend_assessment(
        assessment=assessment,
        data=form.cleaned_data,
        user=user,
        reason="Corrected",
        version=assessment.version,
    )


def test_adherence_uses_the_recommendation_in_force_when_the_window_closed(clinician, monkeypatch):
    monkeypatch.setattr(timezone, "now", at(DAY))
    late = resected(clinician, "H-1")  # recommended
    early = resected(clinician, "H-2")
    monkeypatch.setattr(timezone, "now", at(DAY + timedelta(days=60)))
    amend(late, clinician, cirrhosis_grade="severe")  # after the window: not in force
    monkeypatch.setattr(timezone, "now", at(DAY + timedelta(days=10)))
    amend(early, clinician, cirrhosis_grade="severe")  # before it closed: in force
    monkeypatch.undo()
    frame = frame_rows()
    assert list(frame["recommendation"]) == [rules.RECOMMENDED, rules.NOT_RECOMMENDED]
    result = outcomes.report(filters=outcomes.Filters(), today=TODAY).adherence
    assert result["recommended_total"]["resections"] == 1
    assert result["not_recommended_total"]["resections"] == 1


# Filters


def test_the_ruleset_filter_uses_the_ruleset_that_first_gave_the_recommendation(clinician):
    old = ruleset_1_assessment(clinician)
    data = {
        "tumor_size_cm": old.tumor_size_cm,
        "tumor_count": old.tumor_count,
        "vascular_invasion": old.vascular_invasion,
        "cirrhosis_grade": old.cirrhosis_grade,
        "prior_adjuvant_tace_sessions": 0,
        "resection_date": old.resection_date,
    }
    services.reevaluate_assessment(assessment=old, data=data, user=clinician, version=old.version)
    old.refresh_from_db()
    assert old.ruleset == rules.LATEST_RULESET
    record(clinician, mrn="F-1")
    assert len(frame_rows(ruleset="1")) == 1
    assert len(frame_rows(ruleset=rules.LATEST_RULESET)) == 1


def test_a_year_outside_the_list_is_refused(reviewer_client, clinician):
    record(clinician, mrn="F-2")
    url = reverse("assessments:outcomes")
    response = reviewer_client.get(url, {"year": "1999"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose a year from the list" in html and "Year of resection" in html
    assert "data-chart" not in html  # no figure for a filter not applied
    assert reviewer_client.get(url, {"landmark": "7"}).status_code == 400
    csv = reviewer_client.get(reverse("assessments:outcomes_csv", args=["monthly"]), {"year": "x"})
    assert csv.status_code == 400 and "Year of resection" in csv.content.decode()
    assert reviewer_client.get(url, {"year": str(TODAY.year)}).status_code == 200


# Small numbers


def test_no_estimate_where_fewer_than_ten_are_at_risk(clinician, reviewer_client):
    for number, days in enumerate([300, 400, 500, 600]):
        assessment = resected(clinician, f"N-{number}", size=HIGH)
        event(assessment, "recurrence" if number == 1 else "no_recurrence", days)
    report = outcomes.report(filters=outcomes.Filters(), today=TODAY)
    high, _low = report.by_risk.curves
    assert [mark["survival"] for mark in high.at_marks] == [None] * 5  # 4 at risk
    assert all(step[4] is None for step in high.steps)
    assert high.median == "not_reached"  # it never falls to one half while 10 are at risk
    assert report.by_risk.p is None and report.by_risk.hr is None
    assert report.by_risk.why_not == "small"
    html = reviewer_client.get(reverse("assessments:outcomes")).content.decode()
    assert "a group has fewer than 10 patients" in html
    assert "15.0 (15.0" not in html


def test_a_median_whose_upper_limit_cannot_be_estimated(clinician):
    # 20 resections, events at days 10, 20, ... 200: the median at day 100 (10 at risk
    # then); the upper limit of its interval only where fewer than 10 remain.
    for number in range(20):
        assessment = resected(clinician, f"M-{number}")
        event(assessment, "recurrence", 10 * (number + 1))
    (high, _low) = outcomes.report(filters=outcomes.Filters(), today=TODAY).by_risk.curves
    assert high.median == pytest.approx(100 / outcomes.DAYS_PER_MONTH)
    assert high.median_ci[1] == "not_estimable"
    assert isinstance(high.median_ci[0], float)


# A cohort whose true TACE effect is zero


def test_landmark_and_cox_show_no_effect_where_the_naive_comparison_shows_one(clinician):
    from lifelines.statistics import logrank_test

    # Pairs of high-risk patients with the same recurrence day, one of each pair
    # "offered" a session on day 40 when still recurrence-free: TACE changes nothing.
    times, naive_given = [], []
    for pair in range(30):
        day = 3 + 3 * pair  # 3 to 90
        for offered in (True, False):
            assessment = resected(clinician, f"Z-{pair}-{offered}")
            event(assessment, "recurrence", day)
            given = offered and day > 40
            if given:
                event(assessment, "tace_session", 40)
            times.append(day)
            naive_given.append(given)
    given_times = [t for t, g in zip(times, naive_given, strict=True) if g]
    other_times = [t for t, g in zip(times, naive_given, strict=True) if not g]
    naive = logrank_test(given_times, other_times).p_value
    assert naive < 0.05  # the naive "TACE given" vs "no TACE" shows an effect
    report = outcomes.report(filters=outcomes.Filters(), today=TODAY).by_tace
    assert report.eligible == {"resections": 60, "patients": 60}
    assert report.excluded["resections"] == 28  # events on days 3 to 42
    landmark = report.landmark_comparison
    by_then, not_by_then = landmark.curves
    assert by_then.subjects == not_by_then.subjects == 16
    assert landmark.p == pytest.approx(1.0)
    assert landmark.hr[0] == pytest.approx(1.0, abs=1e-6)
    assert landmark.hr[1] < 1 < landmark.hr[2]
    assert report.cox_hr[0] == pytest.approx(1.0, abs=1e-6)
    assert report.cox_hr[1] < 1 < report.cox_hr[2]
