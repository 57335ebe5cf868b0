"""The unit's daily page: the worklist of the windows due and passed."""

from django.shortcuts import render
from django.utils import timezone

from .. import queries
from ..permissions import audited_permission_required


def _windows(assessments, today) -> list[dict]:
    rows = []
    for assessment in assessments:
        window = assessment.window()
        rows.append(
            {
                "assessment": assessment,
                "window": window,
                "second": assessment.advises_second_session,
                "state": queries.WindowState(assessment.window_state),
                "days_left": (window[1] - today).days,
                "days_ago": (today - window[1]).days,
            }
        )
    return rows


@audited_permission_required("assessments.view_assessment")
def worklist(request):
    today = timezone.localdate()
    lists = queries.worklist(user=request.user, today=today)
    return render(
        request,
        "assessments/worklist.html",
        {
            **lists,
            "due": _windows(lists["due"], today),
            "passed": _windows(lists["passed"], today),
            "today": today,
        },
    )
