"""The unit's daily pages: the worklist, the list's CSV export and the printout."""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from . import audit, queries, wording
from .models import Assessment, AuditEvent, code_labels
from .views import _assessment, permission_required


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
    _("ID"),
    _("MRN"),
    _("Date of resection"),
    _("Assessed at"),
    _("Clinician"),
    _("Status"),
    _("Recommendation"),
    _("Risk of recurrence"),
    _("High-risk factors"),
    _("Contraindications"),
    _("Cautions"),
    _("Ruleset"),
    _("First session from"),
    _("First session to"),
    _("Largest tumor diameter (cm)"),
    _("Number of tumors"),
    _("Vascular invasion"),
    _("Cirrhosis grade"),
    _("Prior adjuvant TACE sessions"),
    _("Child-Pugh class"),
    _("ALBI grade"),
    _("Signed by"),
    _("Signed at"),
    _("Self-signed"),
    _("Resection margin"),
    _("Satellite nodules"),
    _("MVI grade"),
    _("AFP before surgery (ng/mL)"),
    _("AFP after surgery (ng/mL)"),
    _("Tumor rupture"),
    "risk_factors",
    "contraindications",
    "cautions",
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
        code_labels(a.risk_factors),
        code_labels(a.contraindications),
        code_labels(a.cautions),
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
        gettext("yes") if a.self_signed else "",
        a.get_resection_margin_display(),
        a.get_satellite_nodules_display(),
        a.get_mvi_grade_display(),
        a.afp_before_ng_ml if a.afp_before_ng_ml is not None else "",
        a.afp_after_ng_ml if a.afp_after_ng_ml is not None else "",
        a.get_tumor_rupture_display(),
        # The codes too, for machines: they never change with the language.
        " ".join(a.risk_factors),
        " ".join(a.contraindications),
        " ".join(a.cautions),
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
    audit.write_csv(
        response,
        [str(name) for name in EXPORT_HEADER],
        map(_export_row, rows.iterator(chunk_size=2000)),
    )
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
    return render(
        request,
        "assessments/assessment_print.html",
        {
            "assessment": assessment,
            "site_name": settings.SITE_NAME,
            "printed_at": timezone.localtime(),
            "time_zone": timezone.get_current_timezone_name(),
            "window": assessment.first_session_window(),
            "second_session": queries.second_session(assessment, assessment.patient),
            **wording.coded_sentences(assessment),
            "outcome": wording.rationale(assessment)[-1],
        },
    )
