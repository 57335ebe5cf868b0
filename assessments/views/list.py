"""The list of assessments, with its filters, and its CSV export."""

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from common.csvio import csv_response

from .. import audit, permissions, queries
from ..forms.filters import AssessmentFilterForm
from ..models import Assessment, AuditEvent, code_labels, person_name, pk_url
from ..permissions import audited_permission_required
from . import rows


def page_query(request) -> str:
    """The query string of a list without its page, for the links to other pages."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _clinicians() -> list[tuple[int, str]]:
    return [
        (user.pk, person_name(user)) for user in queries.users_with_permission("add_assessment")
    ]


def paginator(request, object_list, per_page: int) -> queries.CappedPaginator:
    """Keyed on the page's path and filters: a count past the cap is made once a minute."""
    key = f"{request.path}?{page_query(request)}"
    return queries.CappedPaginator(object_list, per_page, cache_key=key)


def _list_rows(assessments) -> list[dict]:
    """What each row of the list shows, worked out once here (see rows.py)."""
    patient_url, detail_url = pk_url("assessments:patient"), pk_url("assessments:detail")
    statuses = dict(Assessment.Status.choices)
    no_factor = gettext("none")
    badge = rows.badge()

    return [
        {
            "voided": a.is_voided,
            "patient_url": patient_url(a.patient_id),
            "mrn": a.patient.mrn,
            "url": detail_url(a.pk),
            "assessed": rows.date_time(a.created_at),
            "resection": rows.date(a.resection_date),
            "badge": badge(recommendation=a.recommendation, voided=a.is_voided),
            "status": statuses.get(a.status, a.status),
            "risk_factors": code_labels(a.risk_factors) or no_factor,
            "clinician": person_name(a.created_by),
        }
        for a in assessments
    ]


@audited_permission_required("assessments.view_assessment")
def assessment_list(request):
    assessments, filters = queries.filtered_assessments(request.GET)
    page = paginator(request, assessments, queries.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessments/assessment_list.html",
        {
            "page": page,
            "rows": _list_rows(page.object_list),
            "page_query": page_query(request),
            # As given: a filter that does not parse is left out, not marked an error.
            "filter_form": AssessmentFilterForm(
                initial=request.GET.dict(), clinicians=permissions.cached("clinicians", _clinicians)
            ),
            "sort_label": queries.SORT_LABELS[filters["sort"]],
            "filtered": any(value for name, value in filters.items() if name != "sort"),
            "more_filters": filters["sort"] != "-assessed"
            or any(filters[name] for name in queries.MORE_FILTERS),
            **filters,
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


@audited_permission_required("assessments.export_assessment")
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
    rows = assessments.defer(None).select_related("signed_by")
    return csv_response(
        "assessments.csv", EXPORT_HEADER, map(_export_row, rows.iterator(chunk_size=2000))
    )
