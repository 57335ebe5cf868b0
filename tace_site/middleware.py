import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext, ngettext

from common import proxy

STARTED_AT = "session_started_at"
ACTIVE_AT = "session_active_at"
LOGGED_OUT_BECAUSE = "logged_out_because"
# Saving the session on every request would write to the database on every page view.
ACTIVITY_RESOLUTION = 60
# Where programs call (the API, the FHIR read): a timed-out session answers 401, no login page.
PROGRAM_PREFIXES = ("/api/", "/fhir/")


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return ngettext("%(count)d hour", "%(count)d hours", seconds // 3600) % {
            "count": seconds // 3600
        }
    if seconds % 60 == 0:
        return ngettext("%(count)d minute", "%(count)d minutes", seconds // 60) % {
            "count": seconds // 60
        }
    return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}


class SessionTimeoutMiddleware:
    """Log out after SESSION_IDLE_TIMEOUT without activity or SESSION_MAX_AGE_TOTAL in all."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            started_at = session.setdefault(STARTED_AT, now)
            active_at = session.setdefault(ACTIVE_AT, now)
            if now - started_at >= settings.SESSION_MAX_AGE_TOTAL:
                reason = gettext("You were logged out after %(duration)s. Please log in again.")
                reason %= {"duration": _duration(settings.SESSION_MAX_AGE_TOTAL)}
            elif now - active_at >= settings.SESSION_IDLE_TIMEOUT:
                reason = gettext(
                    "You were logged out after %(duration)s without activity. Please log in again."
                )
                reason %= {"duration": _duration(settings.SESSION_IDLE_TIMEOUT)}
            else:
                reason = None
                if now - active_at >= ACTIVITY_RESOLUTION:
                    session[ACTIVE_AT] = now
            if reason:
                logout(request)
                # In the new, anonymous session until the next login, so that the login
                # page says why however it is reached: a message would be used up by the
                # first page rendered, perhaps one fetched by a script.
                session[LOGGED_OUT_BECAUSE] = reason
                if request.path.startswith(PROGRAM_PREFIXES):  # a program, not a person
                    return JsonResponse({"errors": {"__all__": [reason]}}, status=401)
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)


class ProxyHeadersMiddleware:
    """X-Forwarded-Proto is believed only from TRUSTED_PROXIES: from anyone else it is
    dropped before SecurityMiddleware and request.is_secure() read it.

    SECURE_PROXY_SSL_HEADER alone trusts the header from any peer, so a client that
    reaches gunicorn directly over plain HTTP could claim HTTPS: no redirect to HTTPS,
    secure links and CSRF's HTTPS referer rule applied to a plain connection.
    """

    HEADER = settings.SECURE_PROXY_SSL_HEADER[0]

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self.HEADER in request.META and not proxy.from_proxy(request):
            del request.META[self.HEADER]
        return self.get_response(request)


class Utf8FormsMiddleware:
    """Refuse a body declared in another charset than UTF-8, before anything reads it.

    Django raises BadRequest for such a form only when request.POST is first read
    (by the CSRF check), and leaves the body unparsed: its 400 handler, which runs
    the CSRF check again, then fails a second time and the client gets a 500 with
    a traceback in the log. Refused here, the client gets a plain 400.
    """

    ALLOWED = {"utf-8", "utf8", "us-ascii", "ascii"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        charset = request.content_params.get("charset", "utf-8").strip().lower()
        if request.method == "POST" and charset not in self.ALLOWED:
            if request.path.startswith(PROGRAM_PREFIXES):  # the API's one shape of error
                return JsonResponse(
                    {"errors": {"__all__": ["Send the body as UTF-8."]}}, status=400
                )
            return HttpResponseBadRequest("Send form data as UTF-8.", content_type="text/plain")
        return self.get_response(request)


class NoStoreMiddleware:
    """Nothing a logged-in user is shown is kept by a browser or a cache.

    Every page behind the login may show patient data (lists, details, exports, the
    preview): on a shared ward computer, the back button after logout must not.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated:
            add_never_cache_headers(response)
        return response
