"""Signing an assessment: the password asked again, and who may sign instead."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.debug import sensitive_post_parameters

from .. import lockout, queries, services
from ..forms import SignForm
from ..pages import assessment_or_404, refusal_redirect
from ..permissions import audited_permission_required


def _sign_denied(request, pk):
    """The sign page for a user who may read the assessment but not sign: who may."""
    if not request.user.has_perm("assessments.view_assessment"):
        return None
    assessment = assessment_or_404(pk)
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
@audited_permission_required("assessments.sign_assessment", denied=_sign_denied)
def assessment_sign(request, pk):
    assessment = assessment_or_404(pk)
    if refused := refusal_redirect(request, assessment):
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
