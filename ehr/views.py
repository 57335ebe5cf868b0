"""CDS Hooks 2.0 endpoints (signed JWT, no session); the FHIR endpoint is fhir_views.py."""

import json

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from assessments import audit
from assessments.forms import parse_json
from assessments.models import AuditEvent

from . import auth, cds

Action = AuditEvent.Action
FEEDBACK_OUTCOMES = {"accepted", "overridden"}


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


@require_GET
@login_not_required  # the EHR discovers the services without a user or a token
def discovery(request):
    return _json(cds.discovery())


def _authenticated(request, service_id: str):
    """The client, or the 401 answer (audited) when the JWT is refused."""
    try:
        client, _ = auth.authenticate(request, audience=request.build_absolute_uri(request.path))
    except auth.Refused as refusal:
        audit.log_event(
            action=Action.CDS_REFUSED,
            request=request,
            username=refusal.issuer[:150],
            detail={"service": service_id, "reason": refusal.reason, "path": request.path},
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
@csrf_exempt
@require_POST
@login_not_required
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
        mrn = cds.mrn_from(
            call["prefetch"], patient_id=call["patient_id"], system=client.mrn_system
        )
        cards, patient, assessment = cds.answer(request, service_id=service_id, call=call, mrn=mrn)
    except (cds.BadRequest, cds.Unusable) as error:
        # 412, CDS Hooks 2.0: the service cannot get the data it needs, and fetches nothing.
        status = 400 if isinstance(error, cds.BadRequest) else 412
        audit.log_event(
            action=Action.CDS_CALL,
            request=request,
            username=client.issuer[:150],
            detail={**detail, "status": status},
        )
        return _error(str(error), status)
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


def _feedback_items(body) -> list[dict]:
    items = body.get("feedback") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise cds.BadRequest('the body is {"feedback": [...]}, with at least one item')
    checked = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("card"), str):
            raise cds.BadRequest("each feedback item names its card")
        if item.get("outcome") not in FEEDBACK_OUTCOMES:
            raise cds.BadRequest("each outcome is accepted or overridden")
        entry = {"card": item["card"][:64], "outcome": item["outcome"]}
        override = item.get("overrideReason")
        if item["outcome"] == "overridden" and isinstance(override, dict):
            reason = override.get("reason") if isinstance(override.get("reason"), dict) else {}
            entry["reason"] = {
                key: str(reason[key])[:255]
                for key in ("system", "code", "display")
                if key in reason
            }
            if isinstance(override.get("userComment"), str):
                entry["userComment"] = override["userComment"][:1000]
        if isinstance(item.get("outcomeTimestamp"), str):
            entry["outcomeTimestamp"] = item["outcomeTimestamp"][:40]
        checked.append(entry)
    return checked


@csrf_exempt  # as service(): JWT-signed, no cookie
@require_POST
@login_not_required
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
        items = _feedback_items(body)
    except cds.BadRequest as error:
        return _error(str(error), 400)
    for item in items:
        audit.log_event(
            action=Action.CDS_FEEDBACK,
            request=request,
            username=client.issuer[:150],
            detail={"service": service_id, "issuer": client.issuer, **item},
        )
    return HttpResponse(status=200)
