"""Signing re-enters the password: it counts towards the login lockout (django-axes)."""

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.utils.translation import gettext

from . import audit


def failures(request) -> int:
    """Wrong passwords so far for this user from this address."""
    credentials = {"username": request.user.get_username()}
    return AxesProxyHandler.get_failures(request, credentials)


def one_attempt_left(request) -> bool:
    return failures(request) == settings.AXES_FAILURE_LIMIT - 1


def reset(request) -> None:
    """A correct password ends the run of failures, as a successful login does."""
    AxesProxyHandler.reset_attempts(
        username=request.user.get_username(), ip_address=audit.client_ip(request)
    )


def end_session_if_locked(request) -> bool:
    """Locked out while signing: log out, so that no half-working page is left; the
    lockout page (AxesMiddleware) then answers, with this message."""
    if not getattr(request, "axes_locked_out", False):
        return False
    logout(request)
    messages.error(
        request,
        gettext(
            "Too many wrong passwords: nothing was signed, and you were logged out. "
            "Your account is locked for a while on this computer."
        ),
    )
    return True
