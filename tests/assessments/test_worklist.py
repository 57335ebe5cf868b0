"""The worklist: what is due for TACE, in which window state, and what awaits sign-off."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments import queries, services
from assessments.models import Assessment
from tests.factories import PASSWORD, record

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 16)
RECOMMENDED = {"tumor_size_cm": "6.0"}


def resected(days_ago: int, today: date = TODAY) -> str:
    return (today - timedelta(days=days_ago)).isoformat()


@pytest.mark.parametrize(
    ("days_since_resection", "state"),
    [
        (0, "upcoming"),
        (27, "upcoming"),  # the window opens tomorrow
        (28, "open"),  # it opens today (4 weeks)
        (34, "open"),  # 8 days left
        (35, "closing"),  # 7 days left
        (42, "closing"),  # its last day (6 weeks)
        (43, "passed"),  # it ended yesterday
        (400, "passed"),
    ],
)
def test_window_state_on_both_sides_of_each_edge(clinician, days_since_resection, state):
    assessment = record(clinician, resection_date=resected(days_since_resection), **RECOMMENDED)
    (due,) = queries.due_for_tace(today=TODAY)
    assert due == assessment
    assert due.window_state == state
    lists = queries.worklist(user=clinician, today=TODAY)
    passed = state == "passed"
    assert [*lists["passed"]] == ([assessment] if passed else [])
    assert [*lists["due"]] == ([] if passed else [assessment])
    assert (lists["due_count"], lists["passed_count"]) == ((0, 1) if passed else (1, 0))


@pytest.mark.parametrize(
    ("inputs", "is_due"),
    [
        (RECOMMENDED, True),
        ({**RECOMMENDED, "prior_adjuvant_tace_sessions": "1"}, False),  # a second session
        ({"tumor_size_cm": "3.0"}, False),  # not recommended
        ({**RECOMMENDED, "cirrhosis_grade": "severe"}, False),  # contraindicated
    ],
)
def test_only_a_recommended_first_session_is_due(clinician, inputs, is_due):
    assessment = record(clinician, resection_date=resected(30), **inputs)
    assert (assessment in queries.due_for_tace(today=TODAY)) is is_due


def test_signed_stays_due_and_voided_leaves(clinician, consultant):
    signed = record(clinician, mrn="S-1", resection_date=resected(30), **RECOMMENDED)
    voided = record(clinician, mrn="V-1", resection_date=resected(30), **RECOMMENDED)
    services.sign_assessment(assessment=signed, user=consultant, version=1)
    services.void_assessment(assessment=voided, user=clinician, reason="Entered twice", version=1)
    assert list(queries.due_for_tace(today=TODAY)) == [signed]


def test_due_lists_least_time_left_first_and_passed_most_recent_first(clinician):
    made = {
        days: record(clinician, mrn=f"D-{days}", resection_date=resected(days), **RECOMMENDED)
        for days in (10, 40, 30, 50, 45)
    }
    lists = queries.worklist(user=clinician, today=TODAY)
    assert list(lists["due"]) == [made[40], made[30], made[10]]
    assert list(lists["passed"]) == [made[45], made[50]]


def test_worklist_page_sections_counts_and_links(client, clinician, other_clinician):
    today = timezone.localdate()
    open_window = record(clinician, mrn="OPEN-1", resection_date=resected(30, today), **RECOMMENDED)
    record(clinician, mrn="PAST-1", resection_date=resected(60, today), **RECOMMENDED)
    theirs = record(other_clinician, mrn="THEIRS-1")
    client.force_login(clinician)
    response = client.get(reverse("assessments:worklist"))
    html = response.content.decode()
    assert "Due for TACE (1)" in html
    assert "Window passed, no session recorded (1)" in html
    assert "Awaiting sign-off (3)" in html
    assert "My recent assessments (2)" in html
    assert 'data-window-state="open"' in html and 'data-window-state="passed"' in html
    window = open_window.first_session_window()
    assert f"{window[0]:%-d %b %Y} to {window[1]:%-d %b %Y}" in html
    # The drafts: oldest first, the user's own marked, the colleague's not.
    drafts = list(response.context["drafts"])
    assert drafts == sorted(drafts, key=lambda a: (a.created_at, a.pk))
    assert html.count("data-own") == 2
    assert theirs.get_absolute_url() in html
    # Each draft's age: all were made within the minute.
    assert html.count("<td>0\xa0minutes</td>") == 3
    assert [*response.context["mine"]] == [
        Assessment.objects.get(patient__mrn="PAST-1"),
        open_window,
    ]


def test_links_to_the_full_lists_appear_past_the_rows_shown(clinician_client, clinician):
    today = timezone.localdate()
    for number in range(queries.WORKLIST_ROWS + 1):
        record(clinician, mrn=f"DUE-{number}", resection_date=resected(30, today), **RECOMMENDED)
    html = clinician_client.get(reverse("assessments:worklist")).content.decode()
    count = queries.WORKLIST_ROWS + 1
    assert f'href="/assessments/?window=due&amp;sort=resection">All {count} due' in html
    assert f'href="/assessments/?status=draft&amp;sort=assessed">All {count} awaiting' in html
    listed = clinician_client.get(reverse("assessments:list"), {"window": "due"})
    assert len(listed.context["page"].object_list) == count


def test_signing_takes_it_off_awaiting_sign_off_and_amending_puts_it_back(
    client, clinician, consultant
):
    assessment = record(clinician)
    client.force_login(consultant)
    url = reverse("assessments:worklist")
    assert list(client.get(url).context["drafts"]) == [assessment]
    client.post(
        reverse("assessments:sign", args=[assessment.pk]), {"password": PASSWORD, "version": 1}
    )
    assert list(client.get(url).context["drafts"]) == []
    current = Assessment.objects.get(pk=assessment.pk)
    services.amend_assessment(
        assessment=current,
        data={
            "resection_date": current.resection_date,
            "notes": "Corrected.",
            "tumor_size_cm": current.tumor_size_cm,
            "tumor_count": 2,
            "vascular_invasion": "none",
            "cirrhosis_grade": "none",
            "prior_adjuvant_tace_sessions": 0,
        },
        user=clinician,
        reason="Second nodule on review.",
        version=current.version,
    )
    assert list(client.get(url).context["drafts"]) == [assessment]


def test_empty_worklist_says_what_to_do(client, clinician, reviewer):
    client.force_login(clinician)
    html = client.get(reverse("assessments:worklist")).content.decode()
    assert 'No assessments yet: <a href="/assessments/new/">create the first one</a>' in html
    assert "Nothing is due" in html
    client.force_login(reviewer)
    html = client.get(reverse("assessments:worklist")).content.decode()
    assert "You have made no assessments." in html and "create the first one" not in html


def test_login_lands_on_the_worklist(client, clinician):
    response = client.post(reverse("login"), {"username": clinician.username, "password": PASSWORD})
    assert response["Location"] == reverse("assessments:worklist")


def test_the_users_count_is_kept_only_while_the_record_is_the_same(
    client, clinician, other_clinician
):
    record(clinician, mrn="MINE-1")
    client.force_login(clinician)
    url = reverse("assessments:worklist")
    assert "My recent assessments (1)" in client.get(url).content.decode()
    record(clinician, mrn="MINE-2")
    assert "My recent assessments (2)" in client.get(url).content.decode()
    client.force_login(other_clinician)
    assert "My recent assessments (0)" in client.get(url).content.decode()


# Session, user, the record's version (two), the due and passed rows (one), the drafts,
# the user's rows; the unit's counts and which due rows come first, the user's count,
# and the permissions of the menu, come from the cache (the first request loaded them).
WORKLIST_QUERIES = 7


@pytest.mark.parametrize("rows", [5, 200])
def test_worklist_queries_do_not_grow_with_the_rows(
    client, clinician, consultant, django_assert_num_queries, rows
):
    today = timezone.localdate()
    for number in range(rows):
        record(
            clinician if number % 2 else consultant,
            mrn=f"Q-{number % 7}",
            resection_date=resected(number % 60, today),
            **(RECOMMENDED if number % 3 else {}),
        )
    client.force_login(clinician)
    url = reverse("assessments:worklist")
    client.get(url)  # the first request of a session saves the session
    with django_assert_num_queries(WORKLIST_QUERIES):
        response = client.get(url)
    # Of five, the three recommended are due; of 200, the first few rows are shown.
    assert len(response.context["due"]) == (3 if rows == 5 else queries.WORKLIST_ROWS)
