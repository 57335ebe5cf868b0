"""The unit's daily page: the worklist of the windows due and passed."""

from django.shortcuts import render
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext

from .. import queries
from ..models import Assessment, person_name, pk_url
from ..permissions import audited_permission_required
from . import rows


def _rows(lists: dict, *, user, today) -> dict:
    """What each row of the four lists shows (see rows.py)."""
    detail_url, statuses = pk_url("assessments:detail"), dict(Assessment.Status.choices)
    badge, window_state = rows.badge(), rows.rendered_once("assessments/_window_state.html")
    first_session = gettext("First session")
    second_session = gettext("Second session, from the first on")

    def row(assessment) -> dict:
        return {
            "url": detail_url(assessment.pk),
            "mrn": assessment.patient.mrn,
            "status": statuses.get(assessment.status, assessment.status),
        }

    def window(assessment) -> dict:
        """A row of the due lists (templates/assessments/_window_table.html)."""
        start, end = assessment.window()
        second = assessment.advises_second_session
        return {
            **row(assessment),
            "state": assessment.window_state,
            "resection": rows.date(assessment.resection_date),
            "window": gettext("%(start)s to %(end)s")
            % {"start": rows.date(start), "end": rows.date(end)},
            "second": second,
            "session": f"{second_session} {rows.date(assessment.first_session_on)}"
            if second
            else first_session,
            "window_state": window_state(
                state=assessment.window_state,
                days_left=(end - today).days,
                days_ago=(today - end).days,
            ),
        }

    def recorded(assessment) -> dict:
        return {
            **row(assessment),
            "voided": assessment.is_voided,
            "assessed": rows.date_time(assessment.created_at),
            "badge": badge(recommendation=assessment.recommendation, voided=assessment.is_voided),
        }

    def draft(assessment) -> dict:
        return {
            **recorded(assessment),
            "own": assessment.created_by_id == user.pk,
            "waiting": timesince(assessment.created_at),
            "clinician": person_name(assessment.created_by),
        }

    return {
        "due_rows": [window(a) for a in lists["due"]],
        "passed_rows": [window(a) for a in lists["passed"]],
        "draft_rows": [draft(a) for a in lists["drafts"]],
        "mine_rows": [recorded(a) for a in lists["mine"]],
    }


@audited_permission_required("assessments.view_assessment")
def worklist(request):
    today = timezone.localdate()
    lists = queries.worklist(user=request.user, today=today)
    return render(
        request,
        "assessments/worklist.html",
        {**lists, **_rows(lists, user=request.user, today=today), "today": today},
    )
