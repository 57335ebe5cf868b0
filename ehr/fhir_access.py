"""CDS Hooks 2.0, "FHIR Resource Access": what a call did not prefetch is read from
the EHR's FHIR server with the bearer token the call passes (`fhirAuthorization`).

Only from the FHIR server registered for the calling client (`cds_client add
--fhir-server`), never from a URL a call names alone; the token is sent nowhere
else (no redirect is followed, no proxy from the environment is used), is never
logged or stored, and each read has a short timeout.
"""

import ipaddress
import time
import urllib.error
import urllib.request
from http.client import HTTPException
from urllib.parse import quote, urlsplit

from common.jsonio import parse_json

TIMEOUT_SECONDS = 3  # per read, and at most BUDGET_SECONDS for all the reads of a call
BUDGET_SECONDS = 5
MAX_BYTES = 2 * 1024 * 1024
LOOPBACK_NAMES = {"localhost"}


class Failed(Exception):
    """The resource could not be read."""


def check_server(url: str) -> str:
    """A FHIR base URL a client may register, without its trailing slash: https (http
    only on this host's loopback, for a trial), no credentials, query or fragment.
    Raises ValueError saying what is wrong."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError("the FHIR server is an https:// URL")
    if parts.scheme == "http" and not _loopback(host):
        raise ValueError("the FHIR server must use https (http only on localhost)")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("the FHIR server's URL has no user, password, query or fragment")
    return url.strip().rstrip("/")


def _loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx is answered as the failure it is here


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


class Reader:
    """Reads relative FHIR URLs from one server with one token, within a time budget."""

    def __init__(self, *, server: str, token: str):
        self.server = server
        self.token = token
        self.deadline = time.monotonic() + BUDGET_SECONDS

    def read(self, relative: str):
        """The decoded JSON of one read or search (numbers as Decimal). Raises Failed."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Failed("no time left")
        request = urllib.request.Request(
            f"{self.server}/{quote(relative, safe='/?=&,:-._')}",
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/fhir+json"},
        )
        try:
            with _opener.open(request, timeout=min(TIMEOUT_SECONDS, left)) as response:
                body = response.read(MAX_BYTES + 1)
        except (urllib.error.URLError, HTTPException, OSError, ValueError) as error:
            raise Failed(type(error).__name__) from None
        if len(body) > MAX_BYTES:
            raise Failed("too large")
        document, errors = parse_json(body)
        if errors:
            raise Failed("not JSON")
        return document
