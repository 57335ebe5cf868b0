"""SMART App Launch: /smart/launch (from the EHR) and /smart/callback (from its
authorization server). See ehr/smart.py."""

from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from assessments import audit

from . import smart
from .actions import Action
from .models import SmartClient

BACKEND = "assessments.permissions.CachedPermissionsBackend"
# What the user reads for each refusal; the audit event keeps the reason's code.
MESSAGES = {
    "unregistered_iss": _("This EHR is not registered to launch the app."),
    "no_launch_context": _("The EHR sent no launch context."),
    "ehr_unavailable": _("The EHR could not be reached or did not answer as expected."),
    "bad_smart_configuration": _("The EHR's SMART configuration is incomplete."),
    "no_launch_under_way": _("No launch is under way in this browser: it may have expired."),
    "wrong_state": _("The EHR's answer does not belong to the launch under way."),
    "authorization_denied": _("The EHR did not authorize the launch."),
    "no_authorization_code": _("The EHR did not authorize the launch."),
    "token_exchange_failed": _("The EHR did not grant access."),
    "no_fhir_user": _("The EHR did not say who the user is."),
    "unknown_fhir_user": _(
        "Your EHR account is not mapped to a user of this app: ask an administrator."
    ),
    "no_patient_in_context": _("The EHR did not say which patient is open."),
    "patient_unreadable": _("The patient could not be read from the EHR."),
    "no_mrn": _("The EHR's patient has no MRN of this hospital."),
    "invalid_mrn": _("The EHR's patient has an MRN this app cannot use."),
}
ID_TOKEN_REFUSED = _("The EHR's identity token could not be verified.")


def _refused(request, refusal: smart.Refused, *, iss: str, origins=None):
    audit.log_event(
        action=Action.SMART_REFUSED,
        request=request,
        username=iss[:150],
        detail={"iss": iss, "reason": refusal.reason, "path": request.path},
    )
    request.smart_frame_origins = origins
    message = MESSAGES.get(refusal.reason, ID_TOKEN_REFUSED)
    return render(request, "ehr/smart_refused.html", {"message": message}, status=403)


@require_GET
@login_not_required  # the EHR opens it; the user logs in by the launch
def launch(request):
    iss = smart.normalized_iss(request.GET.get("iss", ""))[:255]
    try:
        client = smart.client_for(iss)
        url, pending = smart.begin(
            client=client,
            launch=request.GET.get("launch", ""),
            redirect_uri=request.build_absolute_uri(reverse("smart:callback")),
        )
    except smart.Refused as refusal:
        origins = None if refusal.reason == "unregistered_iss" else client.frame_origins
        return _refused(request, refusal, iss=iss, origins=origins)
    request.session[smart.PENDING] = pending
    request.smart_frame_origins = client.frame_origins
    audit.log_event(
        action=Action.SMART_LAUNCH,
        request=request,
        username=iss[:150],
        detail={"iss": iss, "step": "authorization_requested"},
    )
    return redirect(url)


@require_GET
@login_not_required  # the EHR's authorization server sends the user back here
def callback(request):
    pending = request.session.pop(smart.PENDING, None)
    iss = ""
    origins = None
    if pending:
        client = SmartClient.objects.filter(pk=pending["client"]).first()
        iss, origins = (client.iss, client.frame_origins) if client else ("", None)
    try:
        if request.GET.get("error"):
            raise smart.Refused("authorization_denied")
        found = smart.finish(
            request,
            pending=pending,
            code=request.GET.get("code", ""),
            state=request.GET.get("state", ""),
        )
    except smart.Refused as refusal:
        return _refused(request, refusal, iss=iss, origins=origins)
    login(request, found.user, backend=BACKEND)
    request.session[smart.LAUNCHED] = {
        "client": found.client.pk,
        "frame_origins": found.client.frame_origins,
    }
    assessment = smart.assessment_in_context(found)
    if assessment is not None:
        landing, target = "assessment", assessment.get_absolute_url()
    elif found.patient is not None:
        landing, target = "patient", found.patient.get_absolute_url()
    else:
        request.session[smart.NEW_ASSESSMENT] = {"mrn": found.mrn, "labs": found.labs}
        landing, target = "new_assessment", reverse("assessments:create")
    audit.log_event(
        action=Action.SMART_LAUNCH,
        request=request,
        obj=assessment or found.patient,
        patient=found.patient,
        detail={
            "iss": found.client.iss,
            "step": "logged_in",
            "fhir_user": found.fhir_user,
            "landed_on": landing,
        },
    )
    return redirect(target)
