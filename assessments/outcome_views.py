"""The outcomes page, its charts and their CSV downloads (reviewers and consultants)."""

from urllib.parse import urlencode

from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from . import audit, charts, outcomes, queries, rules
from .models import AuditEvent
from .views import permission_required

RECOMMENDATIONS = {code: _(label) for code, label in rules.RECOMMENDATIONS.items()}
CHARTS = {
    "monthly": _("Assessments by month of resection, by recommendation"),
    "adherence": _("Adherence to the first session's window"),
    "rfs-risk": _("Recurrence-free survival by risk level"),
    "rfs-tace": _("Recurrence-free survival of high-risk patients, by TACE given"),
}


def _adherence_groups(adherence: dict) -> list[tuple[str, list[dict]]]:
    return [
        (gettext("Recommended"), adherence["recommended"]),
        (gettext("Not recommended"), adherence["not_recommended"]),
    ]


# A report is computed once per worker for the same filters, day and record
# (queries.record_version).
CACHE_SECONDS = 3600


def _report(filters: outcomes.Filters) -> tuple[outcomes.Report, str]:
    """The report, and the key it is cached under."""
    today = timezone.localdate()
    key = f"outcomes:{queries.record_version()}:{filters.year}:{filters.ruleset}:{today}"
    return cache.get_or_set(
        key, lambda: outcomes.report(filters=filters, today=today), CACHE_SECONDS
    ), key


@permission_required("assessments.view_outcomes")
@require_http_methods(["GET"])
def outcomes_page(request):
    filters = outcomes.parse_filters(request.GET)
    report, key = _report(filters)
    audit.log_event(
        action=AuditEvent.Action.VIEW_OUTCOMES,
        request=request,
        detail={"filters": filters.as_detail()},
    )
    titles = {slug: str(title) for slug, title in CHARTS.items()}
    svg = cache.get_or_set(
        f"{key}:svg:{get_language()}", lambda: _charts(report, titles), CACHE_SECONDS
    )
    return render(
        request,
        "assessments/outcomes.html",
        {
            "report": report,
            "svg": svg,
            "titles": {slug.replace("-", "_"): title for slug, title in titles.items()},
            "years": outcomes.resection_years(),
            "rulesets": rules.RULESETS,
            "query": _query(filters),
            "at_risk_months": outcomes.AT_RISK_MONTHS,
        },
    )


def _charts(report: outcomes.Report, titles: dict) -> dict:
    return {
        "monthly": charts.monthly_chart(
            months=report.months, labels=RECOMMENDATIONS, title=titles["monthly"]
        ),
        "adherence": charts.adherence_chart(
            groups=_adherence_groups(report.adherence), title=titles["adherence"]
        ),
        "rfs_risk": charts.survival_chart(
            comparison=report.by_risk, slug="chart-rfs-risk", title=titles["rfs-risk"]
        ),
        "rfs_tace": charts.survival_chart(
            comparison=report.by_tace, slug="chart-rfs-tace", title=titles["rfs-tace"]
        ),
    }


def _query(filters: outcomes.Filters) -> str:
    params = urlencode(filters.as_params())
    return f"?{params}" if params else ""


def _monthly_rows(report: outcomes.Report):
    header = [gettext("Month of resection"), *RECOMMENDATIONS.values(), gettext("Total")]
    rows = (
        [f"{m['month']:%Y-%m}", *(m[code] for code in RECOMMENDATIONS), m["total"]]
        for m in report.months
    )
    return header, rows


def _adherence_rows(report: outcomes.Report):
    header = [gettext("Group"), gettext("Category"), gettext("Assessments"), gettext("Share (%)")]
    rows = (
        [group, row["label"], row["count"], "" if row["share"] is None else f"{row['share']:.1f}"]
        for group, rows in _adherence_groups(report.adherence)
        for row in rows
    )
    return header, rows


def _survival_rows(comparison: outcomes.Comparison):
    header = [
        gettext("Group"),
        gettext("Months after resection"),
        gettext("Number at risk"),
        gettext("Events"),
        gettext("Censored"),
        gettext("Recurrence-free survival"),
        gettext("95% CI, lower"),
        gettext("95% CI, upper"),
    ]
    rows = (
        [
            curve.label,
            f"{months:.2f}",
            at_risk,
            events,
            censored,
            f"{survival:.4f}",
            f"{lower:.4f}",
            f"{upper:.4f}",
        ]
        for curve in comparison.curves
        for months, at_risk, events, censored, survival, lower, upper in curve.steps
    )
    return header, rows


@permission_required("assessments.view_outcomes")
@require_http_methods(["GET"])
def outcomes_csv(request, chart):
    if chart not in CHARTS:
        raise Http404
    filters = outcomes.parse_filters(request.GET)
    report, _key = _report(filters)
    audit.log_event(
        action=AuditEvent.Action.EXPORT,
        request=request,
        detail={"what": "outcomes", "chart": chart, "filters": filters.as_detail()},
    )
    if chart == "monthly":
        header, rows = _monthly_rows(report)
    elif chart == "adherence":
        header, rows = _adherence_rows(report)
    else:
        header, rows = _survival_rows(report.by_risk if chart == "rfs-risk" else report.by_tace)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="outcomes-{chart}.csv"'
    audit.write_csv(response, [str(name) for name in header], ([str(v) for v in r] for r in rows))
    return response
