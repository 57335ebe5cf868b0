from datetime import UTC, date
from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext, pgettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from . import audit, lockout, permissions, queries, rules, services, wording
from .forms import (
    AMEND_FORMS,
    AssessmentForm,
    ReevaluateForm,
    SignForm,
    VoidForm,
)
from .forms.filters import AssessmentFilterForm, AuditFilterForm
from .models import (
    Assessment,
    AuditEvent,
    FollowUpEvent,
    Patient,
    code_labels,
    confirmation_labels,
    person_name,
    pk_url,
)
from .templatetags.clinical import detail_text

Action = AuditEvent.Action


def permission_required(perm: str, *, denied=None):
    """403 without the permission; the refusal is itself audited. `denied`, if given,
    answers the refusal with its own page (status 403) instead of the generic one."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                audit.log_event(
                    action=Action.PERMISSION_DENIED,
                    request=request,
                    detail={"permission": perm, "path": request.path, "method": request.method},
                )
                if denied is not None and (answer := denied(request, *args, **kwargs)):
                    return answer
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _assessment(pk) -> Assessment:
    return get_object_or_404(
        Assessment.objects.select_related("patient", "created_by", "signed_by", "voided_by"),
        pk=pk,
    )


def _page_query(request) -> str:
    """The query string of a list without its page, for the links to other pages."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _clinicians() -> list[tuple[int, str]]:
    return [
        (user.pk, person_name(user)) for user in queries.users_with_permission("add_assessment")
    ]


def _paginator(request, object_list, per_page: int) -> queries.CappedPaginator:
    """Keyed on the page's path and filters: a count past the cap is made once a minute."""
    key = f"{request.path}?{_page_query(request)}"
    return queries.CappedPaginator(object_list, per_page, cache_key=key)


def _list_rows(assessments) -> list[dict]:
    """What each row of the list shows, worked out once here: in the template, a lookup, a
    filter or an include for each cell cost more than the page's queries."""
    patient_url, detail_url = pk_url("assessments:patient"), pk_url("assessments:detail")
    statuses = dict(Assessment.Status.choices)
    no_factor = gettext("none")
    badges = {}  # the badge's template, rendered once for each recommendation it shows

    def badge(recommendation, voided):
        if (recommendation, voided) not in badges:
            badges[recommendation, voided] = render_to_string(
                "assessments/_recommendation_badge.html",
                {"recommendation": recommendation, "voided": voided},
            )
        return badges[recommendation, voided]

    return [
        {
            "voided": a.is_voided,
            "patient_url": patient_url(a.patient_id),
            "mrn": a.patient.mrn,
            "url": detail_url(a.pk),
            "assessed": formats.date_format(timezone.localtime(a.created_at), "DATETIME_FORMAT"),
            "resection": formats.date_format(a.resection_date),
            "badge": badge(a.recommendation, a.is_voided),
            "status": statuses.get(a.status, a.status),
            "risk_factors": code_labels(a.risk_factors) or no_factor,
            "clinician": person_name(a.created_by),
        }
        for a in assessments
    ]


@permission_required("assessments.view_assessment")
def assessment_list(request):
    assessments, filters = queries.filtered_assessments(request.GET)
    page = _paginator(request, assessments, queries.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessments/assessment_list.html",
        {
            "page": page,
            "rows": _list_rows(page.object_list),
            "page_query": _page_query(request),
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


@permission_required("assessments.add_assessment")
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


@permission_required("assessments.view_assessment")
def assessment_detail(request, pk):
    assessment = _assessment(pk)
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


def _refused(request, assessment, check=services.check_changeable):
    """A redirect to the assessment, saying why, if the service refuses the action."""
    try:
        check(assessment)
    except services.Refused as refusal:
        messages.error(request, str(refusal))
        return redirect(assessment)
    return None


@permission_required("assessments.change_assessment")
def assessment_edit(request, pk):
    assessment = _assessment(pk)
    if refused := _refused(request, assessment):
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


@permission_required("assessments.change_assessment")
def assessment_reevaluate(request, pk):
    assessment = _assessment(pk)
    if refused := _refused(request, assessment, services.check_reevaluable):
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


@permission_required("assessments.add_assessment")
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


@permission_required("assessments.change_assessment")
@require_POST
def amendment_preview(request, pk, reevaluate=False):
    """The amend (or re-evaluate) form's preview: says when the recommendation would change."""
    amended = _assessment(pk)
    form = (ReevaluateForm if reevaluate else AMEND_FORMS[amended.ruleset])(request.POST)
    return _preview(request, form, amended=amended)


def _sign_denied(request, pk):
    """The sign page for a user who may read the assessment but not sign: who may."""
    if not request.user.has_perm("assessments.view_assessment"):
        return None
    assessment = _assessment(pk)
    signers = queries.users_with_permission("sign_assessment").exclude(
        pk__in=services.authors(assessment)
    )
    refusal = gettext(
        "Signing needs the permission to sign, which the Consultants role gives: you do not "
        "hold it. Nothing was signed."
    )
    context = {"assessment": assessment, "refusal": refusal, "signers": signers}
    return render(request, "assessments/assessment_sign.html", context, status=403)


@sensitive_post_parameters("password")
@permission_required("assessments.sign_assessment", denied=_sign_denied)
def assessment_sign(request, pk):
    assessment = _assessment(pk)
    if refused := _refused(request, assessment):
        return refused
    if refused := _not_signable(request, assessment):
        return refused
    form = SignForm(
        request.POST if request.method == "POST" else None,
        request=request,
        initial={"version": assessment.version},
    )
    if form.is_valid():
        lockout.reset(request)
        try:
            services.sign_assessment(
                assessment=assessment, user=request.user, version=form.cleaned_data["version"]
            )
        except services.Refused as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, gettext("Assessment signed as reviewed and approved."))
            return redirect(assessment)
    elif lockout.end_session_if_locked(request):
        return redirect("login")  # AxesMiddleware answers with the lockout page
    return render(
        request,
        "assessments/assessment_sign.html",
        {
            "form": form,
            "assessment": assessment,
            "last_attempt": form.is_bound and lockout.one_attempt_left(request),
        },
    )


def _not_signable(request, assessment):
    """The sign page without its form, saying why and who may sign instead."""
    try:
        services.check_signable(assessment=assessment, user=request.user)
    except services.NotAllowed as refusal:
        signers = queries.users_with_permission("sign_assessment").exclude(
            pk__in=services.authors(assessment)
        )
        return render(
            request,
            "assessments/assessment_sign.html",
            {"assessment": assessment, "refusal": str(refusal), "signers": signers},
        )
    return None


@permission_required("assessments.void_assessment")
def assessment_void(request, pk):
    assessment = _assessment(pk)
    if refused := _refused(request, assessment):
        return refused
    form = VoidForm(
        request.POST if request.method == "POST" else None,
        initial={"version": assessment.version},
    )
    if form.is_valid():
        try:
            services.void_assessment(
                assessment=assessment,
                user=request.user,
                reason=form.cleaned_data["reason"],
                version=form.cleaned_data["version"],
            )
        except services.Refused as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, gettext("Assessment voided. It stays in the record and history.")
            )
            return redirect(assessment)
    return render(
        request, "assessments/assessment_void.html", {"form": form, "assessment": assessment}
    )


# The fields a reviewer sees change, in the order of the form.
HISTORY_FIELDS = [
    "resection_date",
    *Assessment.RULE_INPUTS,
    *Assessment.PANEL_INPUTS,
    *Assessment.PATHOLOGY,
    "notes",
    "confirmations",
    *Assessment.RESULT,
    *Assessment.LIVER_FUNCTION,
    "status",
    "signed_by",
    "signature_meaning",
    "void_reason",
]


def _shown(field, value, people):
    if value is None or value == "" or value == []:
        return gettext("(none)")
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if field.is_relation:
        return people.get(value, value)
    if field.name == "confirmations":
        return confirmation_labels(value)
    if field.name == "signature_meaning":
        return gettext(value)
    if isinstance(value, list):  # rule codes
        return code_labels(value)
    return str(value)


def history_versions(assessment: Assessment) -> list[dict]:
    """Every version, newest first, each with its changes as (label, old, new)."""
    records = list(assessment.history.select_related("history_user").order_by("history_id"))
    user_ids = {r.signed_by_id for r in records if r.signed_by_id}
    people = {
        user.pk: person_name(user) for user in get_user_model().objects.filter(pk__in=user_ids)
    }
    fields = {name: Assessment._meta.get_field(name) for name in HISTORY_FIELDS}
    versions, previous = [], None
    for record in records:
        changes = []
        if previous is not None:
            delta = record.diff_against(previous, included_fields=HISTORY_FIELDS)
            changed = {change.field: change for change in delta.changes}
            for name in HISTORY_FIELDS:
                if name in changed:
                    change = changed[name]
                    changes.append(
                        {
                            "field": name,
                            "label": fields[name].verbose_name.capitalize(),
                            "old": _shown(fields[name], change.old, people),
                            "new": _shown(fields[name], change.new, people),
                        }
                    )
        confirmed = confirmation_labels(record.confirmations) if record.confirmations else ""
        versions.append({"record": record, "changes": changes, "confirmed": confirmed})
        previous = record
    return versions[::-1]


@permission_required("assessments.view_assessment")
def assessment_history(request, pk):
    assessment = _assessment(pk)
    audit.log_event(
        action=Action.VIEW_HISTORY, request=request, obj=assessment, patient=assessment.patient
    )
    return render(
        request,
        "assessments/assessment_history.html",
        {
            "assessment": assessment,
            "versions": history_versions(assessment),
            "time_zone": timezone.get_current_timezone_name(),
        },
    )


@permission_required("assessments.view_assessment")
def patient_detail(request, pk):
    patient = get_object_or_404(Patient, pk=pk)
    audit.log_event(action=Action.VIEW_PATIENT, request=request, obj=patient, patient=patient)
    today = timezone.localdate()
    # The window's state as the worklist gives it, the sessions recorded taken into account.
    assessments = queries.with_sessions(
        patient.assessments.select_related("created_by", "signed_by")
    ).annotate(window_state=queries.window_state(today))
    for assessment in assessments:
        assessment.session_window = assessment.window() if assessment.window_state else None
        if assessment.session_window:
            assessment.days_left = (assessment.session_window[1] - today).days
            assessment.days_ago = -assessment.days_left
    events = patient.events.select_related("assessment", "created_by")
    # One timeline in date order: an assessment at its resection, before that day's events.
    timeline = sorted(
        [
            *((a.resection_date, 0, a.created_at, a) for a in assessments),
            *((e.date, 1, e.created_at, e) for e in events),
        ],
        key=lambda entry: entry[:3],
    )
    return render(
        request,
        "assessments/patient_detail.html",
        {
            "patient": patient,
            "timeline": [entry[3] for entry in timeline],
            "event_kinds": FollowUpEvent.Kind.choices,
        },
    )


def _audit_rows(events) -> list[dict]:
    """What each row of the audit log shows, worked out once here (see _list_rows)."""
    detail_url = pk_url("assessments:detail")
    actions = dict(Action.choices)
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


@permission_required("assessments.view_auditevent")
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
    page = _paginator(request, events, queries.AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessments/audit_log.html",
        {
            "page": page,
            "rows": _audit_rows(page.object_list),
            "filters": filters,
            "filter_form": AuditFilterForm(initial=filters),
            "page_query": _page_query(request),
            "time_zone": timezone.get_current_timezone_name(),
        },
    )


@permission_required("assessments.view_auditevent")
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
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    audit.write_csv(
        response,
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
    return response


def rules_page(request):
    """The rules and their evidence, from the constants the engine uses."""

    def table(codes: dict[str, str]):
        return [
            (
                code,
                rules.fires_when(code, gettext),
                rules.sentence(sentence, list(rules.ADVERSE_FINDINGS), gettext),
                gettext(" and ").join(r for r in rules.RULESETS if code in rules.RULESET_CODES[r]),
            )
            for code, sentence in codes.items()
        ]

    return render(
        request,
        "assessments/rules.html",
        {
            "rules": rules,
            # Translated here: {% translate %} doubles each "%" of a variable's text, and the
            # catalogue's entries for these sentences have single ones ("44.4%").
            "sources": [gettext(source) for source in rules.SOURCES],
            "child_pugh_classes": gettext("; ").join(
                gettext("Class %(name)s: %(low)s to %(high)s")
                % {"name": name, "low": low, "high": high}
                for name, low, high in rules.CHILD_PUGH_CLASSES
            )
            + pgettext("end of a sentence", "."),
            "ruleset_adds": wording.newer_rulesets(rules.RULESET_1),
            "codes": [
                (
                    gettext("High-risk factors (any one makes the risk high)"),
                    table(rules.RISK_FACTORS),
                ),
                (
                    gettext("Contraindications (any one rules TACE out)"),
                    table(rules.contraindication_sentences(rules.LATEST_RULESET)),
                ),
                (gettext("Cautions (shown; the recommendation stands)"), table(rules.CAUTIONS)),
            ],
            "window": rules.FIRST_SESSION_WINDOW_DAYS,
            "second_window": rules.SECOND_SESSION_WINDOW_DAYS,
            "findings": [
                (code, gettext(label)) for code, label in rules.PATHOLOGY_FINDINGS.items()
            ],
            "bili": rules.CHILD_PUGH_BILIRUBIN_UMOL_L,
            "alb": rules.CHILD_PUGH_ALBUMIN_G_L,
            "inr": rules.CHILD_PUGH_INR,
            "ascites": rules.ASCITES.values(),
            "encephalopathy": rules.ENCEPHALOPATHY.values(),
        },
    )
