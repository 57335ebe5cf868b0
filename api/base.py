"""What every API view shares, and what ehr's views reuse: the base view, which
authenticates, throttles and checks permissions, and the audit row of a call."""

from django.contrib.auth.decorators import login_not_required
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission

from assessments import audit
from assessments.models import AuditEvent

from .actions import ApiAction
from .models import ApiToken
from .throttles import AddressRateThrottle

Action = AuditEvent.Action

__all__ = ["ApiAction", "ApiView", "log"]


def token_name(request) -> str:
    return request.auth.name if isinstance(request.auth, ApiToken) else "(browser session)"


def log(request, action: str, *, obj=None, patient=None, **detail) -> None:
    """One audit event: who, which token by name, what. Never the inputs."""
    audit.log_event(
        action=action,
        request=request._request,
        user=request.user,
        obj=obj,
        patient=patient,
        detail={"via": "api", "token": token_name(request), **detail},
    )


def requires(perm: str):
    class HasPermission(BasePermission):
        def has_permission(self, request, view):
            if not request.user.is_authenticated:
                return False  # 401
            if request.user.has_perm(perm):
                return True
            log(
                request,
                Action.PERMISSION_DENIED,
                permission=perm,
                path=request.path,
                method=request.method,
            )
            return False

    return HasPermission


class ApiView(GenericAPIView):
    """Authenticates itself (a token or the browser's session) and answers 401 or 403
    JSON, so the site's login-required middleware must not redirect it."""

    perms: dict[str, str] = {}
    # OPTIONS is refused (405): nothing calls the API across origins, and DRF's answer
    # would describe the view to any user.
    http_method_names = ["get", "post", "head"]

    @classmethod
    def as_view(cls, **initkwargs):
        return login_not_required(super().as_view(**initkwargs))

    def get_permissions(self):
        # HEAD runs the GET handler (Django's View.setup), so it needs GET's permission.
        method = "GET" if self.request.method == "HEAD" else self.request.method
        perm = self.perms.get(method)
        return [requires(perm)()] if perm else super().get_permissions()

    def initial(self, request, *args, **kwargs):
        # DRF's order, but the address's throttle before authentication and the token's
        # before permissions: requests with a wrong token are counted, and answered 429,
        # by their address; refused ones count against their token too. (The token's
        # throttle reads request.auth: checked with the address's, a wrong token raised
        # 401 before the address's 429 was ever raised.)
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(
            request
        )
        request.version, request.versioning_scheme = self.determine_version(
            request, *args, **kwargs
        )
        throttles = self.get_throttles()
        self._throttle(request, [t for t in throttles if isinstance(t, AddressRateThrottle)])
        self.perform_authentication(request)
        self._throttle(request, [t for t in throttles if not isinstance(t, AddressRateThrottle)])
        self.check_permissions(request)

    def _throttle(self, request, throttles) -> None:
        waits = [t.wait() for t in throttles if not t.allow_request(request, self)]
        if waits:
            self.throttled(request, max((w for w in waits if w is not None), default=None))
