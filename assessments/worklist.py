"""The unit's daily pages: the worklist, the list's CSV export and the printout."""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from . import audit, queries, rules
from .models import Assessment, AuditEvent
from .views import _assessment, permission_required


def _windows(assessments, today) -> list[dict]:
    rows = []
    for assessment in assessments:
        window = assessment.first_session_window()
        rows.append(
            {
                "assessment": assessment,
                "window": window,
                "state": queries.WindowState(assessment.window_state),
                "days_left": (window[1] - today).days,
                "days_ago": (today - window[1]).days,
            }
        )
    return rows


@permission_required("assessments.view_assessment")
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


EXPORT_HEADER = [
    "ID",
    "MRN",
    "Date of resection",
    "Assessed at",
    "Clinician",
    "Status",
    "Recommendation",
    "Risk of recurrence",
    "High-risk factors",
    "Contraindications",
    "Cautions",
    "Ruleset",
    "First session from",
    "First session to",
    "Largest tumor diameter (cm)",
    "Number of tumors",
    "Vascular invasion",
    "Cirrhosis grade",
    "Prior adjuvant TACE sessions",
    "Child-Pugh class",
    "ALBI grade",
    "Signed by",
    "Signed at",
    "Self-signed",
]


def _export_row(a: Assessment) -> list:
    window = a.first_session_window() or (None, None)
    signed_at = timezone.localtime(a.signed_at) if a.signed_at else None
    return [
        a.pk,
        a.patient.mrn,
        a.resection_date.isoformat(),
        f"{timezone.localtime(a.created_at):%Y-%m-%d %H:%M %Z}",
        a.created_by.get_username(),
        a.get_status_display(),
        a.get_recommendation_display(),
        a.get_risk_level_display(),
        "; ".join(a.risk_factors),
        "; ".join(a.contraindications),
        "; ".join(a.cautions),
        a.ruleset,
        window[0].isoformat() if window[0] else "",
        window[1].isoformat() if window[1] else "",
        a.tumor_size_cm,
        a.tumor_count,
        a.get_vascular_invasion_display(),
        a.get_cirrhosis_grade_display(),
        a.prior_adjuvant_tace_sessions,
        a.child_pugh_class or "",
        a.albi_grade or "",
        a.signed_by.get_username() if a.signed_by else "",
        f"{signed_at:%Y-%m-%d %H:%M %Z}" if signed_at else "",
        "yes" if a.self_signed else "",
    ]


@permission_required("assessments.export_assessment")
@require_http_methods(["GET"])
def assessment_export(request):
    assessments, filters = queries.filtered_assessments(request.GET)
    audit.log_event(
        action=AuditEvent.Action.EXPORT,
        request=request,
        detail={
            "what": "assessments",
            # Not the MRN searched for: only whether there was one.
            "filters": {k: v for k, v in filters.items() if v and k != "query"},
            "searched_by_mrn": bool(filters["query"]),
        },
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="assessments.csv"'
    rows = assessments.defer(None).select_related("signed_by")
    audit.write_csv(response, EXPORT_HEADER, map(_export_row, rows.iterator(chunk_size=2000)))
    return response


@permission_required("assessments.view_assessment")
def assessment_print(request, pk):
    assessment = _assessment(pk)
    audit.log_event(
        action=AuditEvent.Action.VIEW_ASSESSMENT,
        request=request,
        obj=assessment,
        patient=assessment.patient,
        detail={"printout": True},
    )
    cautions = rules.caution_sentences(
        assessment.ruleset, recommended=assessment.recommendation == rules.RECOMMENDED
    )
    return render(
        request,
        "assessments/assessment_print.html",
        {
            "assessment": assessment,
            "site_name": settings.SITE_NAME,
            "printed_at": timezone.localtime(),
            "time_zone": timezone.get_current_timezone_name(),
            "window": assessment.first_session_window(),
            "factors": [rules.RISK_FACTORS[c] for c in assessment.risk_factors],
            "contraindications": [rules.CONTRAINDICATIONS[c] for c in assessment.contraindications],
            "cautions": [cautions[c] for c in assessment.cautions],
        },
    )
