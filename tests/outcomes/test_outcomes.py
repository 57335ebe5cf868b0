"""The outcomes page: Kaplan-Meier and log-rank on a cohort worked by hand (each patient
four times over, so that at least 10 are at risk), adherence at each edge of the window,
the filters, the charts and their tables, the audited CSV."""

import csv
import io
import math
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments import rules, services
from assessments.models import Assessment, AuditEvent, FollowUpEvent
from followup import services as followup_services
from outcomes import report as outcomes
from outcomes.forms import OutcomesFilterForm
from tests.factories import events, record, ruleset_1_assessment

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
RESECTED = TODAY - timedelta(days=800)
HIGH, LOW = "6.0", "3.0"  # tumor sizes: over 5 cm is high risk


def event(assessment, kind, days, **fields):
    """A recorded event of the assessment's patient, days after its resection."""
    values = {"created_by": assessment.created_by, **fields}
    if kind == "tace_session":
        values.setdefault("assessment", assessment)
        values.setdefault("complications", "none")
    elif kind == "recurrence":
        values.update(recurrence_site="intrahepatic", found_by="imaging")
    elif kind == "death":
        values.update(death_cause="hcc")
    return FollowUpEvent.objects.create(
        patient=assessment.patient,
        kind=kind,
        date=assessment.resection_date + timedelta(days=days),
        **values,
    )


# name: (tumor size, [(kind, days after the resection)])
COHORT = {
    "H1": (HIGH, [("recurrence", 100), ("tace_session", 150)]),  # a session after: not given
    "H2": (HIGH, [("tace_session", 35), ("no_recurrence", 200)]),
    "H3": (HIGH, [("tace_session", 35), ("recurrence", 300)]),
    "H4": (HIGH, [("death", 300)]),
    "H5": (HIGH, [("no_recurrence", 400)]),
    "L1": (LOW, [("recurrence", 250)]),
    "L2": (LOW, [("no_recurrence", 500)]),
    "L3": (LOW, [("no_recurrence", 150)]),
    "L4": (LOW, [("no_recurrence", 300), ("recurrence", 600)]),
    "L5": (LOW, [("tace_session", 35), ("no_recurrence", 700)]),
    "L6": (LOW, []),  # no follow-up: left out
}


COPIES = 4


@pytest.fixture
def cohort(clinician):
    made = {}
    for copy in range(COPIES):
        for name, (size, happened) in COHORT.items():
            assessment = record(
                clinician,
                mrn=f"KM-{name}-{copy}",
                tumor_size_cm=size,
                resection_date=RESECTED.isoformat(),
            )
            for kind, days in happened:
                event(assessment, kind, days)
            made[f"{name}-{copy}"] = assessment
    # What does not count: a voided event.
    voided = event(made["L6-0"], "no_recurrence", 30)
    voided.status = FollowUpEvent.Status.VOIDED
    voided.save()
    return made


def months(days):
    return days / 30.4375


def hand_km(times):
    """(time, at risk, survival) at each event time, from (days, event) pairs."""
    steps, survival = [], 1.0
    for time in sorted({t for t, e in times if e}):
        at_risk = sum(1 for t, _ in times if t >= time)
        deaths = sum(1 for t, e in times if t == time and e)
        survival *= 1 - deaths / at_risk
        steps.append((time, at_risk, survival))
    return steps


def hand_log_rank_p(a, b):
    """The log-rank chi-square by its formula, one degree of freedom."""
    observed = expected = variance = 0.0
    for time in sorted({t for t, e in a + b if e}):
        n1 = sum(1 for t, _ in a if t >= time)
        n = n1 + sum(1 for t, _ in b if t >= time)
        d = sum(1 for t, e in a + b if t == time and e)
        observed += sum(1 for t, e in a if t == time and e)
        expected += d * n1 / n
        if n > 1:
            variance += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    chi2 = (observed - expected) ** 2 / variance
    return math.erfc(math.sqrt(chi2 / 2))


HIGH_TIMES = [(100, True), (200, False), (300, True), (300, True), (400, False)] * COPIES
LOW_TIMES = [(250, True), (500, False), (150, False), (600, True), (700, False)] * COPIES


def test_kaplan_meier_equals_the_hand_calculation(cohort):
    report = outcomes.report(filters=outcomes.Filters(), today=TODAY)
    assert report.left_out == {"resections": 4, "patients": 4}
    assert report.survival == {"resections": 40, "patients": 40}
    high, low = report.by_risk.curves
    # Worked by hand: high risk 4/5 at 100 days, then 4/5 * 1/3 at 300 (8 events of 12).
    assert hand_km(HIGH_TIMES) == [(100, 20, 0.8), (300, 12, pytest.approx(0.8 / 3))]
    assert hand_km(LOW_TIMES) == [(250, 16, 0.75), (600, 8, 0.375)]
    for curve, times in ((high, HIGH_TIMES), (low, LOW_TIMES)):
        steps = {round(step[0], 6): step for step in curve.steps}
        for time, at_risk, survival in hand_km(times):
            step = steps[round(months(time), 6)]
            assert step[1] == at_risk
            # No estimate where fewer than 10 are at risk.
            assert step[4] == (pytest.approx(survival) if at_risk >= 10 else None)
        assert (curve.subjects, curve.events) == (20, sum(e for _, e in times))
    assert [p["at_risk"] for p in high.at_marks] == [20, 16, 4, 0, 0]
    assert [p["at_risk"] for p in low.at_marks] == [20, 16, 12, 0, 0]
    assert [p["survival"] for p in high.at_marks] == [1, 0.8, None, None, None]
    assert [p["survival"] for p in low.at_marks[:3]] == pytest.approx([1, 1, 0.75])
    # The median: the first time survival falls to 0.5 or below (12 at risk then); the
    # low-risk curve falls to 0.375 only where 8 are at risk: not estimable.
    assert high.median == pytest.approx(months(300))
    assert low.median == "not_estimable"


def test_log_rank_p_equals_lifelines_and_the_formula(cohort):
    from lifelines.statistics import logrank_test

    report = outcomes.report(filters=outcomes.Filters(), today=TODAY)
    by_hand = hand_log_rank_p(HIGH_TIMES, LOW_TIMES)
    direct = logrank_test(
        [months(t) for t, _ in HIGH_TIMES],
        [months(t) for t, _ in LOW_TIMES],
        [e for _, e in HIGH_TIMES],
        [e for _, e in LOW_TIMES],
    ).p_value
    assert report.by_risk.p == pytest.approx(by_hand) and by_hand == pytest.approx(direct)
    hr, lower, upper = report.by_risk.hr
    assert lower < hr < upper and hr > 1  # high risk against low risk


def test_the_page_shows_the_figures(reviewer_client, cohort):
    response = reviewer_client.get(reverse("assessments:outcomes"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg ") == 5
    assert html.count('role="img" aria-labelledby="chart-') == 5
    for slug in ("monthly", "adherence", "rfs-risk", "cif-risk", "rfs-tace"):
        assert f'<title id="chart-{slug}-title">' in html
        assert f'data-chart="{slug}"' in html
    # No inline style for the Content-Security-Policy to block.
    assert "style=" not in html and "<style" not in html
    assert "style-src 'self'" in response["Content-Security-Policy"]
    assert "<td>20</td><td>16</td><td>4</td><td>0</td><td>0</td>" in html  # high risk at risk
    assert "not estimable (fewer than 10 at risk)" in html
    assert f"Log-rank test: p = {report_p(cohort):.3f}" in html
    assert "Left out, no follow-up recorded after the resection: 4 resections of 4" in html
    assert "observational data" in html and "not evidence that TACE works" in html
    assert "data-tace-caveat" in html
    assert "KM-" not in html  # no MRN on the page
    (viewed,) = events(AuditEvent.Action.VIEW_OUTCOMES)
    assert viewed.detail == {"filters": {}}


def report_p(cohort):
    return outcomes.report(filters=outcomes.Filters(), today=TODAY).by_risk.p


def test_the_page_is_computed_again_once_the_record_changes(
    reviewer_client, cohort, clinician, monkeypatch
):
    computed = []
    report = outcomes.report
    monkeypatch.setattr(outcomes, "report", lambda **kw: computed.append(kw) or report(**kw))
    url = reverse("assessments:outcomes")
    left_out = "Left out, no follow-up recorded after the resection: 4 resections"
    assert left_out in reviewer_client.get(url).content.decode()
    reviewer_client.get(url)
    reviewer_client.get(reverse("assessments:outcomes_csv", args=["monthly"]))
    assert len(computed) == 1  # the same record, the same day: the report is kept
    patient = Assessment.objects.get(patient__mrn="KM-L6-1").patient
    followup_services.record_event(
        patient=patient, kind="no_recurrence", data={"date": timezone.localdate()}, user=clinician
    )
    assert left_out not in reviewer_client.get(url).content.decode()
    assessment = Assessment.objects.get(patient__mrn="KM-L6-2")
    services.void_assessment(
        assessment=assessment, user=clinician, reason="Wrong patient", version=1
    )
    reviewer_client.get(url)
    reviewer_client.get(url, {"year": RESECTED.year})
    assert len(computed) == 4


# Adherence: each edge of the window

START, END = rules.first_session_window(RESECTED)


@pytest.mark.parametrize(
    ("session", "today", "category"),
    [
        (START - timedelta(days=1), TODAY, "before"),
        (START, TODAY, "inside"),
        (END, TODAY, "inside"),
        (END + timedelta(days=1), TODAY, "after"),
        (None, END, "not_yet"),
        (None, END + timedelta(days=1), "never"),
    ],
)
def test_adherence_categories_at_each_edge(clinician, session, today, category):
    assessment = record(
        clinician, mrn="E-1", tumor_size_cm=HIGH, resection_date=RESECTED.isoformat()
    )
    if session:
        event(assessment, "tace_session", (session - RESECTED).days)
    result = outcomes.adherence(outcomes.load_frame(), today=today)
    counted = {row["code"]: row["count"] for row in result["recommended"] + result["not_counted"]}
    assert counted[category] == 1 and sum(counted.values()) == 1


def shares(rows):
    return {row["code"]: row["count"] for row in rows}


def test_adherence_counts_resections(clinician):
    def recommended(mrn, days=None, voided=False):
        assessment = record(
            clinician, mrn=mrn, tumor_size_cm=HIGH, resection_date=RESECTED.isoformat()
        )
        if days is not None:
            session = event(assessment, "tace_session", days)
            if voided:
                session.status = FollowUpEvent.Status.VOIDED
                session.save()
        return assessment

    recommended("A-1", 27)
    recommended("A-2", 28)
    recommended("A-3", 42)
    recommended("A-4", 43)
    recommended("A-5", 30, voided=True)  # a voided session is no session
    recommended("A-6")
    refused = record(
        clinician, mrn="A-7", cirrhosis_grade="severe", resection_date=RESECTED.isoformat()
    )
    event(refused, "tace_session", 40)
    record(clinician, mrn="A-8", cirrhosis_grade="severe")
    second = record(clinician, mrn="A-9", tumor_size_cm=HIGH, prior_adjuvant_tace_sessions="1")
    assert second.recommendation == rules.RECOMMENDED  # a second session: no window
    result = outcomes.adherence(outcomes.load_frame(), today=TODAY)
    assert shares(result["recommended"]) == {"before": 1, "inside": 2, "after": 1, "never": 2}
    assert result["recommended_total"] == {"resections": 6, "patients": 6}
    assert shares(result["not_recommended"]) == {"given": 1, "not_given": 1}
    inside = next(row for row in result["recommended"] if row["code"] == "inside")
    assert inside["share"] == pytest.approx(100 * 2 / 6)


def test_a_session_before_the_next_resection_is_the_first_resections(clinician):
    first = record(clinician, mrn="B-1", tumor_size_cm=HIGH, resection_date=RESECTED.isoformat())
    event(first, "tace_session", 30)
    later = RESECTED + timedelta(days=200)
    record(clinician, mrn="B-1", tumor_size_cm=HIGH, resection_date=later.isoformat())
    result = outcomes.adherence(outcomes.load_frame(), today=TODAY)
    assert shares(result["recommended"])["inside"] == 1
    assert shares(result["recommended"])["never"] == 1


# Filters


def test_filters_by_resection_year_and_ruleset(clinician):
    this_year = TODAY.replace(month=1, day=1)
    last_year = this_year - timedelta(days=1)
    record(clinician, mrn="Y-1", resection_date=this_year.isoformat())
    record(clinician, mrn="Y-2", resection_date=last_year.isoformat())
    ruleset_1_assessment(clinician)  # resected 20 days ago
    old_year = (TODAY - timedelta(days=20)).year

    def total(**filters):
        return len(outcomes.filtered(outcomes.load_frame(), outcomes.Filters(**filters)))

    assert total() == 3
    assert total(year=last_year.year) == 1
    assert total(year=this_year.year) == 1 + (old_year == this_year.year)
    assert total(ruleset="1") == 1
    assert total(ruleset="4") == 2
    assert outcomes.resection_years() == list(range(TODAY.year, last_year.year - 1, -1))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"year": "2025", "ruleset": "2"}, outcomes.Filters(2025, "2")),
        ({"year": "", "ruleset": "", "landmark": "60"}, outcomes.Filters(landmark=60)),
        ({"year": "２０２５"}, None),
        ({"year": "-1"}, None),
        ({"ruleset": "9"}, None),
        ({"landmark": "27"}, None),
        ({}, outcomes.Filters()),
    ],
)
def test_the_filter_form(params, expected):
    form = OutcomesFilterForm(params, years=[2026, 2025, 2024])
    assert form.is_valid() == (expected is not None), form.errors
    if expected is not None:
        assert form.filters() == expected


def test_the_page_filters_and_keeps_the_filters_in_its_links(reviewer_client, cohort):
    url = reverse("assessments:outcomes")
    html = reverse("assessments:outcomes_csv", args=["monthly"]) + (
        f"?year={RESECTED.year}&amp;ruleset=3&amp;landmark=60"
    )
    page = reviewer_client.get(url, {"year": RESECTED.year, "ruleset": "3", "landmark": "60"})
    assert html in page.content.decode()
    assert "at day 60" in page.content.decode()
    assert events(AuditEvent.Action.VIEW_OUTCOMES)[-1].detail == {
        "filters": {"year": RESECTED.year, "ruleset": "3", "landmark": 60}
    }


# CSV


def read_csv(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize("chart", ["monthly", "adherence", "rfs-risk", "cif-risk", "rfs-tace"])
def test_each_chart_has_an_audited_csv(consultant_client, cohort, chart):
    response = consultant_client.get(
        reverse("assessments:outcomes_csv", args=[chart]), {"ruleset": "4"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="outcomes-{chart}.csv"' in response["Content-Disposition"]
    rows = read_csv(response)
    assert len(rows) > 1
    (exported,) = events(AuditEvent.Action.EXPORT)
    assert exported.detail == {"what": "outcomes", "chart": chart, "filters": {"ruleset": "4"}}


def test_the_survival_csv_holds_each_step(reviewer_client, cohort):
    rows = read_csv(reviewer_client.get(reverse("assessments:outcomes_csv", args=["rfs-risk"])))
    assert rows[0][:4] == ["Group", "Months after resection", "Number at risk", "Events"]
    high = [row for row in rows[1:] if row[0] == "High risk"]
    assert [(row[1], row[2], row[3], row[5]) for row in high if row[3] != "0"] == [
        (f"{months(100):.2f}", "20", "4", "0.8000"),
        (f"{months(300):.2f}", "12", "8", "0.2667"),
    ]
    low = [row for row in rows[1:] if row[0] == "Low risk" and row[3] != "0"]
    assert low[-1][2:6] == ["8", "4", "0", ""]  # 8 at risk: no estimate
    assert low[-1][-1] == "no estimate: fewer than 10 at risk"


def test_the_csv_is_neutralised(reviewer_client, cohort, monkeypatch):
    monkeypatch.setitem(outcomes.ADHERENCE, "inside", "=HYPERLINK(1)")
    response = reviewer_client.get(reverse("assessments:outcomes_csv", args=["adherence"]))
    assert "'=HYPERLINK(1)" in [row[1] for row in read_csv(response)]


def test_an_unknown_chart_is_not_found(reviewer_client):
    assert reviewer_client.get("/outcomes/nothing.csv").status_code == 404
