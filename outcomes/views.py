"""The outcomes page, its charts and their CSV downloads (reviewers and consultants)."""

import hashlib
import pickle
from urllib.parse import urlencode

from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from assessments import audit, queries, rules
from assessments.models import AuditEvent
from assessments.permissions import audited_permission_required
from common.csvio import csv_response

from . import charts
from . import report as outcomes
from .forms import OutcomesFilterForm

RECOMMENDATIONS = {code: _(label) for code, label in rules.RECOMMENDATIONS.items()}
CHARTS = {
    "monthly": _("Resections by month, by recommendation"),
    "adherence": _("Adherence to the first session's window"),
    "rfs-risk": _("Recurrence-free survival by risk level"),
    "cif-risk": _("Cumulative incidence of recurrence by risk level, death as a competing event"),
    "rfs-tace": _("Recurrence-free survival after the landmark, high risk, by TACE given by then"),
}
WHY_NOT = {
    "small": _("not computed: a group has fewer than 10 patients"),
    "no_events": _("not computed: a group has no event"),
    "not_estimable": _("not computed: the model has no finite estimate"),
}


def _adherence_groups(adherence: dict) -> list[tuple[str, list[dict]]]:
    return [
        (gettext("Recommended"), adherence["recommended"]),
        (gettext("Not recommended"), adherence["not_recommended"]),
    ]


# The record's rows are read once per worker; after a change of the record
# (queries.record_version) only the rows of the patients changed since are read again.
# The report is kept per record, filters and day besides.
CACHE_SECONDS = 3600
FRAME_KEY = "outcomes:frame"
MAX_CHANGED_PATIENTS = 1000  # more: the whole record is read again
# History ids are drawn when a row is written, not when its transaction commits: the
# patients of the last few ids before the frame's are read again too, lest a
# transaction committed after a later one be missed.
REREAD_IDS = 50


def _marks(version: str) -> tuple[int, int]:
    """The newest history ids (assessments, events) record_version is made of."""
    return tuple(int(mark) if mark.isdigit() else 0 for mark in version.split("-"))


def _frame(version: str):
    cached = cache.get(FRAME_KEY)
    if cached is not None and cached[0] == version:
        return cached[1]
    frame = None
    if cached is not None:
        since, marks = _marks(cached[0]), _marks(version)
        if all(old <= new for old, new in zip(since, marks, strict=True)):
            changed = outcomes.changed_patients(tuple(max(0, m - REREAD_IDS) for m in since))
            if len(changed) <= MAX_CHANGED_PATIENTS:
                frame = outcomes.update_frame(cached[1], changed)
    if frame is None:
        frame = outcomes.load_frame()
    cache.set(FRAME_KEY, (version, frame), CACHE_SECONDS)
    return frame


def _report(filters: outcomes.Filters, version: str) -> tuple[outcomes.Report, str]:
    """The report of the record at version, and the key it is cached under."""
    today = timezone.localdate()
    key = f"outcomes:{version}:{filters.year}:{filters.ruleset}:{filters.landmark}:{today}"
    return cache.get_or_set(
        key,
        lambda: outcomes.report(filters=filters, today=today, frame=_frame(version)),
        CACHE_SECONDS,
    ), key


def _form(request, version: str) -> OutcomesFilterForm:
    """The filters; the years offered kept with the record version (finding the first
    and last resection reads every assessment)."""
    years = cache.get_or_set(f"outcomes:years:{version}", outcomes.resection_years, CACHE_SECONDS)
    return OutcomesFilterForm(request.GET or None, years=years)


@audited_permission_required("assessments.view_outcomes")
@require_http_methods(["GET"])
def outcomes_page(request):
    version = queries.record_version()
    form = _form(request, version)
    if form.is_bound and not form.is_valid():
        audit.log_event(
            action=AuditEvent.Action.VIEW_OUTCOMES,
            request=request,
            detail={"refused": sorted(form.errors)},
        )
        return render(request, "outcomes/outcomes.html", {"form": form}, status=400)
    filters = form.filters() if form.is_bound else outcomes.Filters()
    report, _key = _report(filters, version)
    audit.log_event(
        action=AuditEvent.Action.VIEW_OUTCOMES,
        request=request,
        detail={"filters": filters.as_detail()},
    )
    titles = {slug: str(title) for slug, title in CHARTS.items()}
    svg = _charts(report, titles)
    return render(
        request,
        "outcomes/outcomes.html",
        {
            "form": form,
            "report": report,
            "svg": svg,
            "titles": {slug.replace("-", "_"): title for slug, title in titles.items()},
            "query": _query(filters),
            "at_risk_months": outcomes.AT_RISK_MONTHS,
            "min_at_risk": outcomes.MIN_AT_RISK,
            "why_not": {
                "by_risk": WHY_NOT.get(report.by_risk.why_not),
                "landmark": WHY_NOT.get(report.by_tace.landmark_comparison.why_not),
                "cox": WHY_NOT.get(report.by_tace.cox_why_not),
            },
        },
    )


def _chart(draw, **data):
    """draw(**data), kept per language and data: a change of the record draws again only
    the charts whose figures it changed."""
    digest = hashlib.sha256(pickle.dumps((draw.__name__, data))).hexdigest()
    return cache.get_or_set(
        f"outcomes:svg:{get_language()}:{digest}", lambda: draw(**data), CACHE_SECONDS
    )


def _charts(report: outcomes.Report, titles: dict) -> dict:
    return {
        "monthly": _chart(
            charts.monthly_chart,
            months=report.months,
            labels=RECOMMENDATIONS,
            title=titles["monthly"],
        ),
        "adherence": _chart(
            charts.adherence_chart,
            groups=_adherence_groups(report.adherence),
            title=titles["adherence"],
        ),
        "rfs_risk": _chart(
            charts.survival_chart,
            comparison=report.by_risk,
            slug="chart-rfs-risk",
            title=titles["rfs-risk"],
        ),
        "cif_risk": _chart(
            charts.incidence_chart,
            incidence=report.incidence,
            slug="chart-cif-risk",
            title=titles["cif-risk"],
        ),
        "rfs_tace": _chart(
            charts.survival_chart,
            comparison=report.by_tace.landmark_comparison,
            slug="chart-rfs-tace",
            title=titles["rfs-tace"],
            xlabel=gettext("Months after the landmark"),
        ),
    }


def _query(filters: outcomes.Filters) -> str:
    params = urlencode(filters.as_params())
    return f"?{params}" if params else ""


def _number(value, digits=4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _monthly_rows(report: outcomes.Report):
    header = [
        gettext("Month of resection"),
        *RECOMMENDATIONS.values(),
        gettext("Resections"),
        gettext("Patients"),
    ]
    rows = (
        [f"{m['month']:%Y-%m}", *(m[code] for code in RECOMMENDATIONS), m["total"], m["patients"]]
        for m in report.months
    )
    return header, rows


def _adherence_rows(report: outcomes.Report):
    header = [
        gettext("Group"),
        gettext("Category"),
        gettext("Resections"),
        gettext("Patients"),
        gettext("Share (%)"),
    ]
    groups = [
        *_adherence_groups(report.adherence),
        (gettext("Recommended, not counted"), report.adherence["not_counted"]),
    ]
    rows = (
        [group, row["label"], row["count"], row["patients"], _number(row["share"], 1)]
        for group, rows in groups
        for row in rows
    )
    return header, rows


def _survival_rows(comparison: outcomes.Comparison, *, months: str):
    header = [
        gettext("Group"),
        months,
        gettext("Number at risk"),
        gettext("Events"),
        gettext("Censored"),
        gettext("Recurrence-free survival"),
        gettext("95% CI, lower"),
        gettext("95% CI, upper"),
        gettext("Note"),
    ]
    few = gettext("no estimate: fewer than 10 at risk")
    rows = (
        [
            curve.label,
            f"{time:.2f}",
            at_risk,
            events,
            censored,
            _number(survival),
            _number(lower),
            _number(upper),
            "" if survival is not None else few,
        ]
        for curve in comparison.curves
        for time, at_risk, events, censored, survival, lower, upper in curve.steps
    )
    return header, rows


def _incidence_rows(report: outcomes.Report):
    header = [
        gettext("Group"),
        gettext("Months after resection"),
        gettext("Number at risk"),
        gettext("Cumulative incidence of recurrence"),
        gettext("Note"),
    ]
    few = gettext("no estimate: fewer than 10 at risk")
    rows = (
        [item.label, f"{time:.2f}", at_risk, _number(value), "" if value is not None else few]
        for item in report.incidence
        for time, at_risk, value in item.steps
    )
    return header, rows


@audited_permission_required("assessments.view_outcomes")
@require_http_methods(["GET"])
def outcomes_csv(request, chart):
    if chart not in CHARTS:
        raise Http404
    version = queries.record_version()
    form = _form(request, version)
    if form.is_bound and not form.is_valid():
        errors = "; ".join(
            f"{form.fields[name].label}: {' '.join(messages)}"
            for name, messages in form.errors.items()
        )
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    filters = form.filters() if form.is_bound else outcomes.Filters()
    report, _key = _report(filters, version)
    audit.log_event(
        action=AuditEvent.Action.EXPORT,
        request=request,
        detail={"what": "outcomes", "chart": chart, "filters": filters.as_detail()},
    )
    if chart == "monthly":
        header, rows = _monthly_rows(report)
    elif chart == "adherence":
        header, rows = _adherence_rows(report)
    elif chart == "cif-risk":
        header, rows = _incidence_rows(report)
    elif chart == "rfs-risk":
        header, rows = _survival_rows(report.by_risk, months=gettext("Months after resection"))
    else:
        header, rows = _survival_rows(
            report.by_tace.landmark_comparison, months=gettext("Months after the landmark")
        )
    return csv_response(f"outcomes-{chart}.csv", header, rows)
