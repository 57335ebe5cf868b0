"""CDS Hooks 2.0 endpoints (signed JWT, no session); the FHIR endpoint is fhir_views.py."""

import functools
import json
import logging
import math

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from assessments import audit
from common.jsonio import parse_json

from . import auth, cds, throttle
from .actions import Action

logger = logging.getLogger("django.request")


def _json(obj, status=200, content_type="application/json", **headers) -> HttpResponse:
    # Decimals out as `manage.py recommend` writes them: a lab value or a score of a few
    # digits keeps them through the float (5.1 stays 5.1).
    body = json.dumps(obj, default=float, ensure_ascii=False)
    response = HttpResponse(body, status=status, content_type=content_type)
    for name, value in headers.items():
        response[name] = value
    return response


def _error(message: str, status: int, **headers) -> HttpResponse:
    return _json({"error": message}, status=status, **headers)


def cds_endpoint(method: str | None):
    """A CDS Hooks endpoint: no session, no CSRF (see service()), throttled per client
    address, and every answer JSON, errors included (an EHR parses them)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if method is not None and request.method != method:
                return _error(f"Use {method}.", 405, Allow=method)
            limit = throttle.AddressThrottle()
            if not limit.allow_request(request):
                wait = limit.wait()
                return _error(
                    "Too many requests from this address.",
                    429,
                    **{"Retry-After": str(max(1, math.ceil(wait or 1)))},
                )
            try:
                return view(request, *args, **kwargs)
            except Exception:
                logger.error("CDS Hooks endpoint failed: %s", request.path, exc_info=True)
                return _error("The service failed; the error is logged.", 500)

        return csrf_exempt(login_not_required(wrapper))

    return decorate


# The EHR discovers the services without a user or a token.
@cds_endpoint("GET")
def discovery(request):
    return _json(cds.discovery())


@cds_endpoint(None)
def not_found(request, rest=""):
    return _error("No such CDS service.", 404)


def _authenticated(request, service_id: str):
    """The client, or the 401 answer (audited) when the JWT is refused.

    Nothing in a refused token is verified: the issuer it claims is kept apart as
    `claimed_issuer`, never as a user name. Past a bound per address, refusals are
    counted rather than each chained (throttle.refusal_to_chain)."""
    try:
        client, _ = auth.authenticate(request, audience=request.build_absolute_uri(request.path))
    except auth.Refused as refusal:
        extra = throttle.refusal_to_chain(request)
        if extra is not None:
            audit.log_event(
                action=Action.CDS_REFUSED,
                request=request,
                detail={
                    "service": service_id,
                    "reason": refusal.reason,
                    "path": request.path,
                    "claimed_issuer": refusal.issuer,
                    **extra,
                },
            )
        return None, _error(
            "The call is not signed by a registered EHR client (CDS Hooks JWT).",
            401,
            **{"WWW-Authenticate": 'Bearer realm="cds-services"'},
        )
    return client, None


def _body(request):
    try:
        obj, errors = parse_json(request.body)
    except RequestDataTooBig:
        return None, _error("The body is too large.", 413)
    if errors:
        return None, _error("The body is not valid JSON.", 400)
    return obj, None


# The EHR's calls carry no cookie: they are authenticated by the signed JWT of each
# request, which a browser cannot be made to send, so CSRF protection does not apply.
@cds_endpoint("POST")
def service(request, service_id: str):
    if service_id not in cds.SERVICES:
        return _error("No such CDS service.", 404)
    client, refused = _authenticated(request, service_id)
    if refused:
        return refused
    body, bad = _body(request)
    if bad:
        return bad
    detail = {"service": service_id, "issuer": client.issuer}
    try:
        call = cds.parse_call(body, service_id=service_id)
        detail["hookInstance"] = call["hook_instance"]
        resources, missing = cds.gather(call, client)
        if missing:
            detail["not_prefetched"] = missing
        mrn = cds.mrn_from(
            resources,
            patient_id=call["patient_id"],
            system=client.mrn_system,
            missing=missing.get("patient", ""),
        )
        labs = cds.read_labs(resources, missing, patient_id=call["patient_id"])
        cards, patient, assessment = cds.answer(
            request, service_id=service_id, call=call, mrn=mrn, labs=labs
        )
    except (cds.BadRequest, cds.Unusable) as error:
        # 412, CDS Hooks 2.0: the service cannot get the data it needs.
        status = 400 if isinstance(error, cds.BadRequest) else 412
        audit.log_event(
            action=Action.CDS_CALL,
            request=request,
            username=client.issuer[:150],
            detail={**detail, "status": status},
        )
        return _error(str(error), status)
    cds.remember_cards(cards, client=client, service_id=service_id)
    audit.log_event(
        action=Action.CDS_CALL,
        request=request,
        username=client.issuer[:150],
        obj=assessment,
        patient=patient,
        detail={
            **detail,
            "status": 200,
            "cards": [{"uuid": c["uuid"], "indicator": c["indicator"]} for c in cards],
        },
    )
    return _json({"cards": cards})


@cds_endpoint("POST")  # as service(): JWT-signed, no cookie
def feedback(request, service_id: str):
    if service_id not in cds.SERVICES:
        return _error("No such CDS service.", 404)
    client, refused = _authenticated(request, service_id)
    if refused:
        return refused
    body, bad = _body(request)
    if bad:
        return bad
    try:
        items = cds.feedback_items(body, client=client, service_id=service_id)
    except cds.BadRequest as error:
        return _error(str(error), 400)
    for item in items:
        audit.log_event(
            action=Action.CDS_FEEDBACK,
            request=request,
            username=client.issuer[:150],
            detail={"service": service_id, "issuer": client.issuer, **item},
        )
    return _json({"recorded": len(items)})
