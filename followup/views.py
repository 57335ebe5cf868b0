"""Follow-up events on the patient's record: recorded, amended and voided through the
services, each change in the event's history and sealed in the audit chain."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from assessments import audit
from assessments.models import AuditEvent, FollowUpEvent, Patient
from assessments.pages import VoidPage, refusal_redirect
from assessments.permissions import audited_permission_required
from assessments.services import Refused

from . import services
from .forms import EVENT_FORMS, EventVoidForm

# What the event page and its history show of each version, in the form's order.
SHOWN = ["date", *FollowUpEvent.DETAIL_FIELDS, "notes"]


def _event(pk) -> FollowUpEvent:
    return get_object_or_404(
        FollowUpEvent.objects.select_related("patient", "assessment", "created_by", "voided_by"),
        pk=pk,
    )


@audited_permission_required("assessments.add_followupevent")
def event_create(request, pk, kind):
    patient = get_object_or_404(Patient, pk=pk)
    if kind not in EVENT_FORMS:
        raise Http404
    form = EVENT_FORMS[kind](request.POST if request.method == "POST" else None, patient=patient)
    if form.is_valid():
        event = services.record_event(
            patient=patient, kind=kind, data=form.cleaned_data, user=request.user
        )
        messages.success(
            request,
            gettext("%(event)s recorded on %(date)s.")
            % {"event": event.get_kind_display(), "date": date_format(event.date)},
        )
        return redirect(patient)
    return render(
        request,
        "assessments/event_form.html",
        {"form": form, "patient": patient, "kind": FollowUpEvent.Kind(kind).label},
    )


@audited_permission_required("assessments.view_followupevent")
def event_detail(request, pk):
    event = _event(pk)
    audit.log_event(
        action=AuditEvent.Action.VIEW_EVENT, request=request, obj=event, patient=event.patient
    )
    history = event.history.select_related("history_user", "assessment").order_by("history_id")
    return render(
        request,
        "assessments/event_detail.html",
        {"event": event, "history": history, "fields": SHOWN},
    )


@audited_permission_required("assessments.change_followupevent")
def event_edit(request, pk):
    event = _event(pk)
    if refused := refusal_redirect(request, event):
        return refused
    form_class = EVENT_FORMS[event.kind]
    initial = {name: getattr(event, name) for name in SHOWN} | {"version": event.version}
    form = form_class(
        request.POST if request.method == "POST" else None,
        patient=event.patient,
        event=event,
        initial=initial,
    )
    if form.is_valid():
        try:
            services.amend_event(
                event=event,
                data=form.cleaned_data,
                user=request.user,
                reason=form.cleaned_data["change_reason"],
                version=form.cleaned_data["version"],
            )
        except Refused as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, gettext("Amendment saved; the reason is in the history."))
            return redirect(event)
    return render(
        request,
        "assessments/event_form.html",
        {"form": form, "patient": event.patient, "kind": event.get_kind_display(), "event": event},
    )


VOID = VoidPage(
    EventVoidForm,
    title=_("Void: %(event)s, patient %(mrn)s"),
    explanation=_(
        "A voided event is kept, with its history, and shown struck through with your "
        "reason. It no longer counts on the worklist or the outcomes page. It cannot be "
        "undone."
    ),
    button=_("Void event"),
    done=_("Event voided. It stays in the record and history."),
)


@audited_permission_required("assessments.void_followupevent")
def event_void(request, pk):
    event = _event(pk)
    return VOID(request, event, event=event.get_kind_display(), mrn=event.patient.mrn)
