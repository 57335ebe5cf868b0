"""Ruleset 4's second session: on the worklist with its window from the first session
recorded, off it once the second is recorded; the timeline's window states."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments import queries
from followup import services as followup_services
from followup.forms import EVENT_FORMS
from tests.factories import record, ruleset_1_assessment

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
SECOND = {"tumor_size_cm": "6.0", "prior_adjuvant_tace_sessions": "1"}


def ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


def session(user, assessment, days_ago: int):
    bound = EVENT_FORMS["tace_session"](
        data={"assessment": assessment.pk, "complications": "none", "date": ago(days_ago)},
        patient=assessment.patient,
    )
    assert bound.is_valid(), bound.errors
    return followup_services.record_event(
        patient=assessment.patient, kind="tace_session", data=bound.cleaned_data, user=user
    )


@pytest.mark.parametrize(
    ("days_since_first", "state"),
    [
        (0, "upcoming"),
        (27, "upcoming"),  # opens tomorrow
        (28, "open"),  # 4 weeks
        (48, "open"),  # 8 days left
        (49, "closing"),  # 7 days left
        (56, "closing"),  # its last day (8 weeks)
        (57, "passed"),
    ],
)
def test_second_session_window_state_on_both_sides_of_each_edge(clinician, days_since_first, state):
    assessment = record(clinician, resection_date=ago(120), **SECOND)
    session(clinician, assessment, days_since_first)
    (due,) = queries.due_for_tace(today=TODAY)
    assert due == assessment
    assert (due.window_state, due.first_session_on) == (
        state,
        TODAY - timedelta(days=days_since_first),
    )
    lists = queries.worklist(user=clinician, today=TODAY)
    passed = state == "passed"
    assert [*lists["passed"]] == ([assessment] if passed else [])
    assert [*lists["due"]] == ([] if passed else [assessment])
    assert (lists["due_count"], lists["passed_count"]) == ((0, 1) if passed else (1, 0))


def test_a_second_session_is_due_from_the_first_recorded_until_the_second(clinician):
    assessment = record(clinician, resection_date=ago(120), **SECOND)
    # No first session recorded: the window cannot be dated, so not on the worklist.
    assert list(queries.due_for_tace(today=TODAY)) == []
    first = session(clinician, assessment, 30)
    assert list(queries.due_for_tace(today=TODAY)) == [assessment]
    assert assessment.window(first.date) == (
        first.date + timedelta(days=28),
        first.date + timedelta(days=56),
    )
    second = session(clinician, assessment, 0)
    assert list(queries.due_for_tace(today=TODAY)) == []
    # Voided, the second session is no longer given.
    followup_services.void_event(event=second, user=clinician, reason="Wrong patient", version=1)
    assert list(queries.due_for_tace(today=TODAY)) == [assessment]


def test_only_ruleset_4_dates_a_second_session(clinician):
    older = ruleset_1_assessment(clinician, ruleset="3", tumor_size_cm=Decimal("6.0"))
    older.prior_adjuvant_tace_sessions = 1
    older.resection_date = TODAY - timedelta(days=120)
    older.save()
    session(clinician, older, 30)
    assert list(queries.due_for_tace(today=TODAY)) == []


def test_first_and_second_sessions_least_time_left_first(clinician):
    # A first session's window ending in 12 days (resected 30 days ago), a second's in
    # 6 (the first session 50 days ago) and another's in 26 (the first 30 days ago).
    first = record(clinician, mrn="FIRST-1", tumor_size_cm="6.0", resection_date=ago(30))
    soon = record(clinician, mrn="SECOND-1", resection_date=ago(120), **SECOND)
    later = record(clinician, mrn="SECOND-2", resection_date=ago(120), **SECOND)
    session(clinician, soon, 50)
    session(clinician, later, 30)
    lists = queries.worklist(user=clinician, today=TODAY)
    assert list(lists["due"]) == [soon, first, later]
    listed = queries.filtered_assessments({"window": "due"}, today=TODAY)[0]
    assert set(listed) == {first, soon, later}


def test_the_worklist_shows_the_second_sessions_window(clinician_client, clinician):
    assessment = record(clinician, mrn="SECOND-9", resection_date=ago(120), **SECOND)
    first = session(clinician, assessment, 30)
    html = clinician_client.get(reverse("assessments:worklist")).content.decode()
    start, end = first.date + timedelta(days=28), first.date + timedelta(days=56)
    assert "Due for TACE (1)" in html
    assert f"{start:%-d %b %Y} to {end:%-d %b %Y}" in html
    assert "data-second-session" in html and 'data-window-state="open"' in html
    detail = clinician_client.get(assessment.get_absolute_url()).content.decode()
    assert f"Second session window: <strong>{start:%-d %b %Y} to {end:%-d %b %Y}</strong>" in detail


def test_the_result_says_when_the_second_window_cannot_be_dated(clinician_client, clinician):
    assessment = record(clinician, resection_date=ago(120), **SECOND)
    html = clinician_client.get(assessment.get_absolute_url()).content.decode()
    assert "not recorded in follow-up, so the window cannot be dated" in html
    assert "First session window" not in html


# The timeline shows each window's state as the worklist does


@pytest.mark.parametrize(
    ("resected", "given", "state"),
    [
        (20, False, "upcoming"),
        (30, False, "open"),
        (36, False, "closing"),
        (36, True, "given"),  # once given, no longer closing
        (60, False, "passed"),
        (60, True, "given"),
    ],
)
def test_the_timeline_window_state(reviewer_client, clinician, resected, given, state):
    assessment = record(clinician, tumor_size_cm="6.0", resection_date=ago(resected))
    if given:
        session(clinician, assessment, 1)
    html = reviewer_client.get(assessment.patient.get_absolute_url()).content.decode()
    assert f'data-window-state="{state}"' in html
    label = {"upcoming": "Upcoming", "open": "Open", "closing": "Closing", "passed": "Passed"}
    assert label.get(state, "Given") in html


def test_the_timeline_window_states_in_chinese(reviewer_client, clinician):
    record(clinician, mrn="ZH-1", tumor_size_cm="6.0", resection_date=ago(30))
    record(clinician, mrn="ZH-1", tumor_size_cm="6.0", resection_date=ago(10))
    patient = record(clinician, mrn="ZH-1").patient
    html = reviewer_client.get(
        patient.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "时间窗内" in html and "尚未开始" in html


def test_an_older_inconsistent_pair_keeps_its_result_and_reevaluation_asks_to_correct_it(
    clinician_client, clinician
):
    older = ruleset_1_assessment(clinician, ruleset="3", vascular_invasion="none")
    older.mvi_grade = "m2"  # recorded, not read, under ruleset 3
    older.save()
    page = clinician_client.get(older.get_absolute_url())
    assert page.status_code == 200 and 'data-newer-ruleset="4"' in page.content.decode()
    data = {
        "resection_date": older.resection_date.isoformat(),
        "tumor_size_cm": "4.0",
        "tumor_count": "1",
        "vascular_invasion": "none",
        "cirrhosis_grade": "moderate",
        "mvi_grade": "m2",
        "version": "1",
    }
    url = reverse("assessments:reevaluate", args=[older.pk])
    response = clinician_client.post(url, data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["vascular_invasion"] == errors["mvi_grade"]
    assert "The MVI grade records microvascular invasion" in errors["mvi_grade"][0]
    older.refresh_from_db()
    assert (older.ruleset, older.version) == ("3", 1)
    corrected = clinician_client.post(url, {**data, "vascular_invasion": "microvascular"})
    assert corrected.status_code == 302
    older.refresh_from_db()
    assert older.ruleset == "4" and older.pathology_findings == ["mvi_m2"]
    assert older.cautions == ["moderate_cirrhosis", "liver_panel_missing", "adverse_pathology"]


@pytest.mark.parametrize(("listed", "passed"), [("due", False), ("passed", True)])
def test_the_first_rows_shown_are_the_first_of_all_by_the_windows_last_day(
    clinician, listed, passed
):
    """First and second sessions interleaved, more of each kind than the list shows."""
    rows = queries.WORKLIST_ROWS + 2
    for number in range(rows):
        # The first session's window ends 42 days after the resection.
        record(
            clinician,
            mrn=f"FIRST-{number}",
            resection_date=ago((60 if passed else 20) + 2 * number),
            tumor_size_cm="6.0",
        )
        second = record(clinician, mrn=f"SECOND-{number}", resection_date=ago(200), **SECOND)
        # The second's ends 56 days after the first session: one day after the first kind's.
        session(clinician, second, (74 if passed else 34) + 2 * number - 1)
    due = queries.due_for_tace(today=TODAY).filter(
        queries.window_passed(TODAY) if passed else queries.window_ahead_or_open(TODAY)
    )
    assert due.count() == 2 * rows
    ends = sorted(due, key=lambda a: (a.window()[1], a.pk), reverse=passed)
    shown = queries.worklist(user=clinician, today=TODAY)[listed]
    assert shown == ends[: queries.WORKLIST_ROWS]
    assert {a.advises_second_session for a in shown} == {True, False}
    assert [a.window_state for a in shown] == [a.window_state for a in ends[: len(shown)]]
