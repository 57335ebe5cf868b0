from http.cookies import Morsel

from django.conf import settings

from . import smart


def _frame_ancestors(policy: str, origins: list[str]) -> str:
    directives = [
        directive.strip()
        for directive in policy.split(";")
        if directive.strip() and not directive.strip().startswith("frame-ancestors")
    ]
    return "; ".join([*directives, "frame-ancestors " + " ".join(origins)])


class _PartitionedMorsel(Morsel):
    """A cookie with the `Partitioned` attribute (CHIPS), which Python's cookies do not
    know before 3.14: kept apart for each top-level site, it is the one kind a browser
    that blocks third-party cookies still sends to a framed page."""

    def OutputString(self, attrs=None):
        return super().OutputString(attrs) + "; Partitioned"


def _framed_cookie(cookies, name: str) -> None:
    old = cookies[name]
    new = _PartitionedMorsel()
    new.set(old.key, old.value, old.coded_value)
    new.update(old)
    new["samesite"] = "None"
    new["secure"] = True
    dict.__setitem__(cookies, name, new)


class SmartFrameMiddleware:
    """A session launched from an EHR (ehr/smart.py) may be framed by that EHR's
    registered origins, and only by them; every other response stays unframeable
    (X-Frame-Options DENY, frame-ancestors 'none').

    With SMART_FRAMED_COOKIES (HTTPS), that session's cookies are SameSite=None; Secure;
    Partitioned: a browser sends no other cookie to a page framed by another site."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        origins = getattr(request, "smart_frame_origins", None)
        session = getattr(request, "session", None)
        # Only a session already read by the request: no database read for the others.
        if origins is None and session is not None and session.accessed:
            origins = (session.get(smart.LAUNCHED) or {}).get("frame_origins")
        if origins:
            if "X-Frame-Options" in response:
                del response["X-Frame-Options"]
            if "Content-Security-Policy" in response:
                policy = _frame_ancestors(response["Content-Security-Policy"], origins)
                response["Content-Security-Policy"] = policy
            if settings.SMART_FRAMED_COOKIES:
                for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
                    if name in response.cookies and response.cookies[name].value:
                        _framed_cookie(response.cookies, name)
        return response
