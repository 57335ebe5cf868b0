"""SMART App Launch 2.x, EHR launch: the EHR opens the app with the patient in context,
and the user it names logs in here without a password.

Authlib's OAuth 2 client makes the authorization request (PKCE S256) and exchanges the
code; joserfc (Authlib's JOSE library) checks the `id_token`. Only a registered `iss`
is launched; the EHR's configuration and keys are read from that `iss`, never from a
URL the request names. A user is logged in only through a `fhirUser` mapped to them
beforehand: a launch creates no user and gives no role. The EHR's tokens live in this
module's calls only: never logged, never stored, not even in the session.
"""

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from ipaddress import ip_address
from urllib.parse import quote, urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext
from joserfc import jwt
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

from assessments import audit
from assessments.models import MRN_VALIDATOR, Patient

from . import cds
from .actions import Action
from .models import SmartClient, SmartUser

SCOPES = "launch openid fhirUser patient/Patient.rs patient/Observation.rs"
# What SMART and OpenID Connect allow an EHR to sign with; never `none`, never HMAC.
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "ES256", "ES384"]
CLOCK_SKEW = 60  # seconds
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
FHIR_JSON = "application/fhir+json"
# Session keys: the launch under way (state, PKCE verifier, nonce) and the launched
# session (its client and the origins that may frame it).
PENDING = "smart_pending"
LAUNCHED = "smart_launched"
# Read once by the new-assessment form (assessments/views/assessments.py) for a patient not yet
# recorded: the MRN, and the EHR's newest labs with their dates and source.
NEW_ASSESSMENT = "launched_assessment"


class Refused(Exception):
    """The launch cannot go on: shown to the user, recorded as an audit event.

    `reason` is a short code for the audit log, never a token or patient data."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Launch:
    client: SmartClient
    user: object
    fhir_user: str
    mrn: str
    patient: Patient | None
    app_context: str
    labs: dict  # for a new assessment: {field: {"value", "unit", "date", "source"}}


def is_allowed_url(url: str) -> bool:
    """HTTPS, or plain HTTP to this machine's loopback (a trial EHR on one computer)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def origin_of(url: str) -> str:
    """The origin (scheme://host[:port]) a URL is exactly, or ValueError."""
    parts = urlsplit(url)
    if not is_allowed_url(url) or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{url!r} is not an origin such as https://ehr.example.org")
    return f"{parts.scheme}://{parts.netloc}".lower()


def normalized_iss(iss: str) -> str:
    return iss.strip().rstrip("/")


def relative_reference(fhir_user: str, iss: str) -> str:
    """`Practitioner/123` for both that and `{iss}/Practitioner/123`."""
    prefix = normalized_iss(iss) + "/"
    return fhir_user[len(prefix) :] if fhir_user.startswith(prefix) else fhir_user


def client_for(iss: str) -> SmartClient:
    client = SmartClient.objects.filter(iss=normalized_iss(iss)).first() if iss else None
    if client is None:
        raise Refused("unregistered_iss")
    return client


def _get_json(url: str, *, access_token: str = "", accept: str = "application/json") -> dict:
    headers = {"Accept": accept}
    if access_token:
        headers["Authorization"] = f"Bearer {access_token}"
    try:
        response = requests.get(
            url, headers=headers, timeout=settings.SMART_HTTP_TIMEOUT, allow_redirects=False
        )
        # Decimals: a lab value goes to the form as the EHR wrote it, never through a float.
        body = json.loads(response.content, parse_float=Decimal) if response.ok else None
    except (requests.RequestException, ValueError):
        body = None
    if not isinstance(body, dict):
        raise Refused("ehr_unavailable")
    return body


def configuration(client: SmartClient) -> dict:
    """The EHR's `.well-known/smart-configuration`, with the endpoints this app uses."""
    config = _get_json(f"{client.iss}/.well-known/smart-configuration")
    endpoints = ("authorization_endpoint", "token_endpoint", "jwks_uri")
    for name in endpoints:
        if not isinstance(config.get(name), str) or not is_allowed_url(config[name]):
            raise Refused("bad_smart_configuration")
    issuer = config.get("issuer", client.iss)
    if not isinstance(issuer, str) or not issuer:
        raise Refused("bad_smart_configuration")
    return {**{name: config[name] for name in endpoints}, "issuer": issuer}


def _oauth(client: SmartClient, *, redirect_uri: str, token_endpoint: str = "") -> OAuth2Session:
    secret = client.client_secret or None
    if client.auth_method == SmartClient.Auth.PRIVATE_KEY:
        jwk = client.private_jwks["keys"][0]
        secret = (RSAKey if jwk["kty"] == "RSA" else ECKey).import_key(jwk)
    session = OAuth2Session(
        client.client_id,
        secret,
        token_endpoint_auth_method=client.auth_method,
        scope=SCOPES,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        default_timeout=settings.SMART_HTTP_TIMEOUT,
    )
    if client.auth_method == SmartClient.Auth.PRIVATE_KEY:
        default = {"RSA": "RS384", "P-256": "ES256"}.get(jwk.get("crv", jwk["kty"]), "ES384")
        alg = jwk.get("alg") or default
        header = {"kid": jwk["kid"]} if jwk.get("kid") else None
        session.register_client_auth_method(PrivateKeyJWT(token_endpoint, headers=header, alg=alg))
    return session


def begin(*, client: SmartClient, launch: str, redirect_uri: str) -> tuple[str, dict]:
    """The authorization request's URL, and what the session keeps until the callback."""
    if not launch or len(launch) > 1024:
        raise Refused("no_launch_context")
    config = configuration(client)
    verifier, nonce = generate_token(64), generate_token(32)
    url, state = _oauth(client, redirect_uri=redirect_uri).create_authorization_url(
        config["authorization_endpoint"],
        code_verifier=verifier,
        nonce=nonce,
        aud=client.iss,
        launch=launch,
    )
    pending = {
        "client": client.pk,
        "state": state,
        "verifier": verifier,
        "nonce": nonce,
        "redirect_uri": redirect_uri,
        "config": config,
    }
    return url, pending


def _token_used(request, client: SmartClient, use: str, status: str) -> None:
    audit.log_event(
        action=Action.SMART_TOKEN,
        request=request,
        username=client.iss[:150],
        detail={"iss": client.iss, "use": use, "status": status},
    )


def _exchange(request, client: SmartClient, pending: dict, code: str) -> dict:
    config = pending["config"]
    session = _oauth(
        client, redirect_uri=pending["redirect_uri"], token_endpoint=config["token_endpoint"]
    )
    try:
        token = session.fetch_token(
            config["token_endpoint"], code=code, code_verifier=pending["verifier"]
        )
    except (AuthlibBaseError, requests.RequestException, ValueError) as error:
        _token_used(request, client, "code_exchange", type(error).__name__)
        raise Refused("token_exchange_failed") from None
    _token_used(request, client, "code_exchange", "ok")
    if not isinstance(token.get("access_token"), str) or not token.get("id_token"):
        raise Refused("token_exchange_failed")
    return token


def verify_id_token(id_token, *, client: SmartClient, config: dict, nonce: str) -> dict:
    """The claims of an `id_token` signed by a key of the EHR's JWKS, issued by the EHR
    for this client and this launch, not expired. Raises Refused."""
    if not isinstance(id_token, str):
        raise Refused("id_token_invalid")
    try:
        keys = KeySet.import_key_set(_get_json(config["jwks_uri"]))
        token = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
    except JoseError:
        raise Refused("id_token_signature") from None
    except (ValueError, TypeError, KeyError):
        raise Refused("id_token_invalid") from None
    registry = jwt.JWTClaimsRegistry(
        leeway=CLOCK_SKEW,
        iss={"essential": True, "value": config["issuer"]},
        aud={"essential": True, "value": client.client_id},
        exp={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(token.claims)
    except ExpiredTokenError:
        raise Refused("id_token_expired") from None
    except ClaimError as error:
        raise Refused(f"id_token_{error.claim}") from None
    return token.claims


def _mrn(resource: dict, system: str) -> str:
    for identifier in resource.get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("system") == system:
            value = identifier.get("value")
            try:
                MRN_VALIDATOR(value)
            except (ValidationError, TypeError):
                raise Refused("invalid_mrn") from None
            return value
    raise Refused("no_mrn")


def _patient_resource(request, client: SmartClient, patient_id, access_token: str) -> dict:
    if not isinstance(patient_id, str) or not FHIR_ID.match(patient_id):
        raise Refused("no_patient_in_context")
    url = f"{client.iss}/Patient/{quote(patient_id)}"
    try:
        resource = _get_json(url, access_token=access_token, accept=FHIR_JSON)
    except Refused:
        _token_used(request, client, "read_patient", "failed")
        raise
    _token_used(request, client, "read_patient", "ok")
    if resource.get("resourceType") != "Patient" or resource.get("id") != patient_id:
        raise Refused("patient_unreadable")
    return resource


def newest_labs(request, client: SmartClient, patient_id: str, access_token: str) -> dict:
    """The newest bilirubin, albumin and INR the EHR holds for the patient, searched as
    the CDS services' prefetch would; a lab that cannot be read is left out."""
    labs = {}
    for key, template in cds.PREFETCH.items():
        if key not in cds.LAB_CODES:
            continue
        query = template.replace("{{context.patientId}}", patient_id)
        try:
            bundle = _get_json(f"{client.iss}/{query}", access_token=access_token, accept=FHIR_JSON)
            lab, _left_out = cds.latest_lab(bundle, key, patient_id=patient_id)
        except (Refused, cds.Unusable):
            _token_used(request, client, f"search_{key}", "failed")
            continue
        _token_used(request, client, f"search_{key}", "ok")
        if lab is None:
            continue
        day = lab.effective.date() if isinstance(lab.effective, datetime) else lab.effective
        labs[key] = {
            "value": str(lab.value),
            "unit": lab.unit,
            "date": day.isoformat(),
            "source": client.iss,
        }
    return labs


def finish(request, *, pending: dict | None, code: str, state: str) -> Launch:
    """Check the EHR's answer to the authorization request and read the launch's user
    and patient. Logs no one in. Raises Refused."""
    if not pending:
        raise Refused("no_launch_under_way")
    if not state or not secrets.compare_digest(state, pending["state"]):
        raise Refused("wrong_state")
    client = SmartClient.objects.filter(pk=pending["client"]).first()
    if client is None:
        raise Refused("unregistered_iss")
    if not code:
        raise Refused("no_authorization_code")
    token = _exchange(request, client, pending, code)
    claims = verify_id_token(
        token["id_token"], client=client, config=pending["config"], nonce=pending["nonce"]
    )
    fhir_user = claims.get("fhirUser")
    if not isinstance(fhir_user, str):
        raise Refused("no_fhir_user")
    fhir_user = relative_reference(fhir_user, client.iss)
    mapping = (
        SmartUser.objects.select_related("user").filter(client=client, fhir_user=fhir_user).first()
    )
    if mapping is None or not mapping.user.is_active:
        raise Refused("unknown_fhir_user")
    resource = _patient_resource(request, client, token.get("patient"), token["access_token"])
    mrn = _mrn(resource, client.mrn_system)
    patient = Patient.objects.filter(mrn=mrn).first()
    labs = {}
    if patient is None:  # a new assessment opens: with the EHR's newest labs
        labs = newest_labs(request, client, resource["id"], token["access_token"])
    app_context = token.get("appContext")
    return Launch(
        client=client,
        user=mapping.user,
        fhir_user=fhir_user,
        mrn=mrn,
        patient=patient,
        app_context=app_context if isinstance(app_context, str) else "",
        labs=labs,
    )


def app_context(assessment) -> str:
    """A CDS card's `appContext`: the assessment the launch opens."""
    return json.dumps({"assessment": assessment.pk})


def launch_links(request, assessment) -> list[dict]:
    """A CDS card's link that opens the assessment in the app by a SMART launch (the EHR
    adds `iss` and `launch`), once an EHR is registered to launch it."""
    if not SmartClient.objects.exists():
        return []
    return [
        {
            "label": gettext("Open in the app from the chart (SMART launch)"),
            "url": request.build_absolute_uri(reverse("smart:launch")),
            "type": "smart",
            "appContext": app_context(assessment),
        }
    ]


def assessment_in_context(launch: Launch):
    """The assessment a card's `appContext` names, if it is the launched patient's."""
    if launch.patient is None or not launch.app_context:
        return None
    try:
        pk = json.loads(launch.app_context).get("assessment")
    except (ValueError, AttributeError):
        return None
    if not isinstance(pk, int):
        return None
    return launch.patient.assessments.filter(pk=pk).first()
