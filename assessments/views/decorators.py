"""What the assessments' views share: the permission check that audits a refusal, the
assessment a URL names, and the redirect when a service refuses an action."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect

from .. import audit, services
from ..models import Assessment, AuditEvent


def audited_permission_required(perm: str, *, denied=None):
    """403 without the permission, and the refusal itself audited (unlike Django's
    permission_required, which redirects to the login page). `denied`, if given,
    answers the refusal with its own page (status 403) instead of the generic one."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                audit.log_event(
                    action=AuditEvent.Action.PERMISSION_DENIED,
                    request=request,
                    detail={"permission": perm, "path": request.path, "method": request.method},
                )
                if denied is not None and (answer := denied(request, *args, **kwargs)):
                    return answer
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def assessment_or_404(pk) -> Assessment:
    return get_object_or_404(
        Assessment.objects.select_related("patient", "created_by", "signed_by", "voided_by"),
        pk=pk,
    )


def refusal_redirect(request, record, check=services.check_changeable):
    """A redirect to the record, saying why, if the service refuses the action."""
    try:
        check(record)
    except services.Refused as refusal:
        messages.error(request, str(refusal))
        return redirect(record)
    return None
