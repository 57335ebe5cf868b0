"""An assessment's pages: new, detail, amend, re-evaluate, the live preview, void,
history and printout; and the patient's page."""

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Max
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from .. import audit, queries, rules, services, wording
from ..forms import AMEND_FORMS, AssessmentForm, ReevaluateForm, VoidForm
from ..models import (
    Assessment,
    AuditEvent,
    FollowUpEvent,
    Patient,
    code_labels,
    person_name,
    pk_url,
)
from ..pages import VoidPage, assessment_or_404, refusal_redirect
from ..permissions import audited_permission_required
from . import rows

Action = AuditEvent.Action


def _patient_initial(request) -> dict:
    """?patient=<id> (from the patient page) fills in the MRN, which stays out of URLs,
    and the prior sessions from the sessions recorded for the patient."""
    patient_id = request.GET.get("patient", "")
    if not (patient_id.isdigit() and len(patient_id) < 19):
        return {}
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        return {}
    sessions = patient.events.filter(
        kind=FollowUpEvent.Kind.TACE_SESSION, status=FollowUpEvent.Status.RECORDED
    ).count()
    initial = {"mrn": patient.mrn}
    if sessions:
        initial["prior_adjuvant_tace_sessions"] = min(sessions, rules.PRIOR_SESSIONS_MAX)
    return initial


def _launched_initial(request) -> tuple[dict, dict]:
    """Once, after a launch from the EHR for a patient not recorded here (ehr/smart.py):
    the MRN and the EHR's newest labs, and for each lab its date and source."""
    launched = request.session.pop("launched_assessment", None)
    if not launched:
        return {}, {}
    initial, notes = {"mrn": launched["mrn"]}, {}
    for name, lab in launched["labs"].items():
        initial[name] = lab["value"]
        if lab["unit"]:
            initial[f"{name}_unit"] = lab["unit"]
        notes[name] = gettext("From the EHR (%(source)s), dated %(date)s.") % {
            "source": lab["source"],
            "date": formats.date_format(date.fromisoformat(lab["date"])),
        }
    return initial, notes


@audited_permission_required("assessments.add_assessment")
def assessment_create(request):
    initial = _patient_initial(request)
    notes = {}
    if not initial and request.method == "GET":
        initial, notes = _launched_initial(request)
    form = AssessmentForm(request.POST if request.method == "POST" else None, initial=initial)
    for name, note in notes.items():
        form.fields[name].help_text = f"{note} {form.fields[name].help_text}".strip()
    if "prior_adjuvant_tace_sessions" in initial:
        count = initial["prior_adjuvant_tace_sessions"]
        form.fields["prior_adjuvant_tace_sessions"].help_text = ngettext(
            "Filled in from the %(count)s adjuvant TACE session recorded for this patient: "
            "change it if the record is incomplete.",
            "Filled in from the %(count)s adjuvant TACE sessions recorded for this patient: "
            "change it if the record is incomplete.",
            count,
        ) % {"count": count}
    if form.is_valid():
        assessment = services.record_assessment(data=form.cleaned_data, user=request.user)
        messages.success(request, gettext("Assessment saved."))
        return redirect(assessment)
    return render(request, "assessments/assessment_form.html", {"form": form})


def _result_context(assessment: Assessment, *, made_on, patient=None) -> dict:
    """What templates/assessments/_result_card.html shows of an assessment, saved or not
    (an unsaved one with the patient it would belong to, if known)."""
    window = assessment.first_session_window() if assessment.resection_date else None
    if patient is None and assessment.patient_id:
        patient = assessment.patient
    return {
        "assessment": assessment,
        "window": window,
        "window_passed": window is not None and made_on > window[1],
        "second_session": queries.second_session(assessment, patient),
        **wording.coded_sentences(assessment),
        # The factors, contraindications and cautions are listed with their sentences
        # above it: the rationale shown adds the outcome, not the same sentences again.
        "outcome": wording.rationale(assessment)[-1],
        "rules": rules,
    }


EARLIER_SHOWN = 10
EARLIER_COLUMNS = ["created_at", "recommendation", "status"]


@audited_permission_required("assessments.view_assessment")
def assessment_detail(request, pk):
    assessment = assessment_or_404(pk)
    audit.log_event(
        action=Action.VIEW_ASSESSMENT, request=request, obj=assessment, patient=assessment.patient
    )
    panel = assessment.liver_panel
    earlier = assessment.patient.assessments.filter(created_at__lt=assessment.created_at)
    return render(
        request,
        "assessments/assessment_detail.html",
        {
            **_result_context(assessment, made_on=timezone.localtime(assessment.created_at).date()),
            "child_pugh_points": rules.child_pugh_points(panel) if panel else None,
            "earlier": earlier.only(*EARLIER_COLUMNS)[:EARLIER_SHOWN],
            "newer_rulesets": wording.newer_rulesets(assessment.ruleset),
        },
    )


@audited_permission_required("assessments.change_assessment")
def assessment_edit(request, pk):
    assessment = assessment_or_404(pk)
    if refused := refusal_redirect(request, assessment):
        return refused
    form_class = AMEND_FORMS[assessment.ruleset]
    if request.method == "POST":
        form = form_class(request.POST)
    else:
        form = form_class(initial=_initial(assessment, form_class))
    if form.is_valid():
        try:
            amended = services.amend_assessment(
                assessment=assessment,
                data=form.cleaned_data,
                user=request.user,
                reason=form.cleaned_data["change_reason"],
                version=form.cleaned_data["version"],
            )
        except services.Refused as error:
            form.add_error(None, str(error))
        else:
            message = _saved_message(
                before=assessment,
                after=amended,
                unchanged=gettext("Amendment saved; the reason is in the history."),
                changed=gettext(
                    "Amendment saved: the recommendation changed from %(before)s to %(after)s."
                ),
            )
            messages.success(request, message)
            return redirect(assessment)
    return render(
        request, "assessments/assessment_edit.html", {"form": form, "assessment": assessment}
    )


def _saved_message(*, before: Assessment, after: Assessment, unchanged: str, changed: str):
    """What was saved, saying so when it changed the recommendation."""
    values = {
        "before": before.get_recommendation_display(),
        "after": after.get_recommendation_display(),
        "ruleset": after.ruleset,
    }
    return (unchanged if before.recommendation == after.recommendation else changed) % values


def _initial(assessment: Assessment, form_class) -> dict:
    initial = {
        name: getattr(assessment, name)
        for name in form_class.base_fields
        if hasattr(assessment, name) and name != "change_reason"
    }
    if initial.get("prior_adjuvant_tace_sessions") == 0:  # the hint: "leave empty for none"
        initial["prior_adjuvant_tace_sessions"] = None
    return initial


@audited_permission_required("assessments.change_assessment")
def assessment_reevaluate(request, pk):
    assessment = assessment_or_404(pk)
    if refused := refusal_redirect(request, assessment, services.check_reevaluable):
        return refused
    if request.method == "POST":
        form = ReevaluateForm(request.POST)
    else:
        form = ReevaluateForm(initial=_initial(assessment, ReevaluateForm))
    if form.is_valid():
        try:
            reevaluated = services.reevaluate_assessment(
                assessment=assessment,
                data=form.cleaned_data,
                user=request.user,
                version=form.cleaned_data["version"],
            )
        except services.Refused as error:
            form.add_error(None, str(error))
        else:
            message = _saved_message(
                before=assessment,
                after=reevaluated,
                unchanged=gettext("Re-evaluated under ruleset %(ruleset)s."),
                changed=gettext(
                    "Re-evaluated under ruleset %(ruleset)s: the recommendation changed from "
                    "%(before)s to %(after)s."
                ),
            )
            messages.success(request, message)
            return redirect(assessment)
    return render(
        request,
        "assessments/assessment_reevaluate.html",
        {
            "form": form,
            "assessment": assessment,
            "ruleset": rules.LATEST_RULESET,
            "newer_rulesets": wording.newer_rulesets(assessment.ruleset),
        },
    )


def _unsaved_assessment(form) -> Assessment:
    """What saving the form would store, unsaved, for the detail page's templates."""
    assessment = Assessment()
    services.apply_inputs(assessment, data=form.cleaned_data, ruleset=form.ruleset)
    return assessment


CONFIRMED_ON_SAVING = {"implausible", "duplicate"}


def _preview(request, form, **context):
    """The live preview as HTML: the fields still missing or invalid, as the form's error
    summary lists them, and the result as soon as the rule inputs are valid."""
    form.is_valid()
    data = form.cleaned_data
    rule_fields = {*Assessment.RULE_INPUTS, *Assessment.PANEL_INPUTS} & set(form.fields)
    # What saving asks to confirm (an unusual value, a possible duplicate) changes no result.
    invalid = {
        name
        for name, errors in form.errors.as_data().items()
        if any(error.code not in CONFIRMED_ON_SAVING for error in errors)
    }
    if not rule_fields & invalid:
        form.cleaned_data.update(getattr(form, "unconfirmed", {}))
        amended = context.get("amended")
        context.update(
            _result_context(
                _unsaved_assessment(form),
                made_on=timezone.localdate(),
                patient=amended.patient if amended else context.get("patient"),
            )
        )
    # Each lab value as typed, in the other unit, so that a unit slip shows.
    context["conversions"] = [
        (form[name].auto_id, data[name], data[f"{name}_unit"])
        for name in ("bilirubin", "albumin")
        if data.get(name) is not None and data.get(f"{name}_unit")
    ]
    return render(request, "assessments/_preview_answer.html", {"form": form, **context})


@audited_permission_required("assessments.add_assessment")
@require_POST
def assessment_preview(request):
    """The new assessment form's preview, and what the MRN already has."""
    form = AssessmentForm(request.POST)
    form.is_valid()
    patient = (
        Patient.objects.filter(mrn=form.cleaned_data.get("mrn", ""))
        .annotate(assessment_count=Count("assessments"), latest=Max("assessments__created_at"))
        .filter(assessment_count__gt=0)
        .first()
    )
    return _preview(request, form, patient=patient)


@audited_permission_required("assessments.change_assessment")
@require_POST
def amendment_preview(request, pk, reevaluate=False):
    """The amend (or re-evaluate) form's preview: says when the recommendation would change."""
    amended = assessment_or_404(pk)
    form = (ReevaluateForm if reevaluate else AMEND_FORMS[amended.ruleset])(request.POST)
    return _preview(request, form, amended=amended)


VOID = VoidPage(
    VoidForm,
    title=_("Void assessment of %(mrn)s"),
    explanation=_(
        "A voided assessment is kept, with its history, and shown struck through with "
        "your reason. It is hidden from the default list. It cannot be undone."
    ),
    button=_("Void assessment"),
    done=_("Assessment voided. It stays in the record and history."),
)


@audited_permission_required("assessments.void_assessment")
def assessment_void(request, pk):
    assessment = assessment_or_404(pk)
    return VOID(request, assessment, mrn=assessment.patient.mrn)


@audited_permission_required("assessments.view_assessment")
def assessment_history(request, pk):
    assessment = assessment_or_404(pk)
    audit.log_event(
        action=Action.VIEW_HISTORY, request=request, obj=assessment, patient=assessment.patient
    )
    return render(
        request,
        "assessments/assessment_history.html",
        {
            "assessment": assessment,
            "versions": queries.history_versions(assessment),
            "time_zone": timezone.get_current_timezone_name(),
        },
    )


def _timeline_rows(timeline: list, today) -> list[dict]:
    """What each row of the patient's timeline shows (see rows.py); an event's details,
    its own text, come from their template."""
    assessment_url, event_url = pk_url("assessments:detail"), pk_url("assessments:event")
    statuses = dict(Assessment.Status.choices)
    badge, window_state = rows.badge(), rows.rendered_once("assessments/_window_state.html")
    no_factor = gettext("none")
    first_window, second_window = (
        gettext("First session window:"),
        gettext("Second session window:"),
    )

    def assessment_row(a: Assessment) -> dict:
        row = {
            "voided": a.is_voided,
            "url": assessment_url(a.pk),
            "label": gettext("Assessment of %(assessed)s, resection %(resected)s")
            % {"assessed": rows.date_time(a.created_at), "resected": rows.date(a.resection_date)},
            "resection": rows.date(a.resection_date),
            "badge": badge(recommendation=a.recommendation, voided=a.is_voided),
            "status_code": a.status,
            "status": statuses.get(a.status, a.status),
            "risk_factors": code_labels(a.risk_factors) or no_factor,
            "window_state": a.window_state,
            "clinician": person_name(a.created_by),
        }
        if a.status == Assessment.Status.SIGNED:
            row["status"] += " " + gettext("by %(who)s") % {"who": person_name(a.signed_by)}
        if a.window_state:
            start, end = a.window()
            row["window"] = format_html(
                "{} {} {}",
                second_window if a.advises_second_session else first_window,
                gettext("%(start)s to %(end)s")
                % {"start": rows.date(start), "end": rows.date(end)},
                window_state(
                    state=a.window_state,
                    days_left=(end - today).days,
                    days_ago=(today - end).days,
                ),
            )
        return row

    def event_row(event: FollowUpEvent) -> dict:
        return {
            "event": event,
            "kind": event.kind,
            "voided": event.is_voided,
            "url": event_url(event.pk),
            "date": rows.date(event.date),
            "kind_label": event.get_kind_display(),
            "status_code": event.status,
            "status": event.get_status_display(),
            "clinician": person_name(event.created_by),
        }

    return [
        event_row(entry) if isinstance(entry, FollowUpEvent) else assessment_row(entry)
        for entry in timeline
    ]


@audited_permission_required("assessments.view_assessment")
def patient_detail(request, pk):
    patient = get_object_or_404(Patient, pk=pk)
    audit.log_event(action=Action.VIEW_PATIENT, request=request, obj=patient, patient=patient)
    today = timezone.localdate()
    # The window's state as the worklist gives it, the sessions recorded taken into account.
    assessments = queries.with_sessions(
        patient.assessments.select_related("created_by", "signed_by")
    ).annotate(window_state=queries.window_state(today))
    events = patient.events.select_related("assessment", "created_by")
    # One timeline in date order: an assessment at its resection, before that day's events.
    timeline = [
        entry[3]
        for entry in sorted(
            [
                *((a.resection_date, 0, a.created_at, a) for a in assessments),
                *((e.date, 1, e.created_at, e) for e in events),
            ],
            key=lambda entry: entry[:3],
        )
    ]
    return render(
        request,
        "assessments/patient_detail.html",
        {
            "patient": patient,
            "timeline": timeline,
            "timeline_rows": _timeline_rows(timeline, today),
            "event_kinds": FollowUpEvent.Kind.choices,
        },
    )


@audited_permission_required("assessments.view_assessment")
def assessment_print(request, pk):
    assessment = assessment_or_404(pk)
    audit.log_event(
        action=Action.VIEW_ASSESSMENT,
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
