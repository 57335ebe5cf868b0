"""The audit log page and its CSV export."""

from datetime import UTC

from django.contrib.auth import get_user_model
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from common.csvio import csv_response

from .. import actions as all_actions
from .. import audit, queries
from ..forms.filters import AuditFilterForm
from ..models import AuditEvent, Patient, person_name, pk_url
from ..permissions import audited_permission_required
from ..views.list import page_query, paginator

Action = AuditEvent.Action


def detail_text(detail: dict) -> str:
    """An audit event's detail as 'key: value; ...', lists as their items.

    Keys sorted: PostgreSQL's jsonb keeps no order of its own."""
    return "; ".join(
        f"{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
        for key, value in sorted(detail.items())
    )


def _audit_rows(events) -> list[dict]:
    """What each row of the audit log shows, worked out once here (see _list_rows)."""
    detail_url = pk_url("assessments:detail")
    actions = dict(all_actions.choices())
    system = gettext("(system)")
    names = {
        user.get_username(): person_name(user)
        for user in get_user_model().objects.filter(username__in={e.username for e in events})
    }
    rows = []
    for event in events:
        if event.object_type == "assessment":
            url = detail_url(event.object_id)
            shown = gettext("assessment %(id)s") % {"id": event.object_id}
        else:
            url, shown = "", f"{event.object_type} {event.object_id}"
        rows.append(
            {
                "action_code": event.action,
                "time": formats.date_format(
                    timezone.localtime(event.timestamp), "SHORT_DATETIME_FORMAT"
                ),
                "user": names.get(event.username, event.username) or system,
                "action": actions.get(event.action, event.action),
                "url": url,
                "object": shown,
                "mrn": event.patient.mrn if event.patient else "",
                "client_ip": event.client_ip or "",
                "detail": detail_text(event.detail),
            }
        )
    return rows


@audited_permission_required("assessments.view_auditevent")
def audit_log(request):
    if request.method == "POST":
        # An MRN travels in the body, never in a URL: it becomes the patient's id.
        params = {name: request.POST.get(name, "").strip() for name in queries.AUDIT_FILTERS}
        if mrn := request.POST.get("mrn", "").strip().upper():
            patient_id = Patient.objects.filter(mrn=mrn).values_list("pk", flat=True).first()
            params["patient"] = patient_id or "none"
        query = urlencode({name: value for name, value in params.items() if value})
        return redirect(f"{reverse('assessments:audit_log')}?{query}")
    events, filters = queries.filtered_events(request.GET)
    page = paginator(request, events, queries.AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessments/audit_log.html",
        {
            "page": page,
            "rows": _audit_rows(page.object_list),
            "filters": filters,
            "filter_form": AuditFilterForm(initial=filters),
            "page_query": page_query(request),
            "time_zone": timezone.get_current_timezone_name(),
        },
    )


@audited_permission_required("assessments.view_auditevent")
@require_http_methods(["GET"])
def audit_export(request):
    events, filters = queries.filtered_events(request.GET)
    audit.log_event(
        action=Action.EXPORT,
        request=request,
        detail={
            "what": "audit log",
            "filters": {k: v for k, v in filters.items() if v and k != "mrn"},
        },
    )
    return csv_response(
        "audit-log.csv",
        [
            "id",
            "time (UTC)",
            "user",
            "action",
            "action (label)",
            "object",
            "object id",
            "MRN",
            "client IP",
            "detail",
        ],
        (
            (
                e.id,
                e.timestamp.astimezone(UTC).isoformat(),
                e.username,
                e.action,
                e.get_action_display(),
                e.object_type,
                e.object_id,
                e.patient.mrn if e.patient else "",
                e.client_ip,
                e.detail,
            )
            for e in events.iterator(chunk_size=2000)
        ),
    )
