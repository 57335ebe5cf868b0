"""CDS Hooks 2.0 authentication: the EHR signs each call with a JWT.

Only registered clients are accepted, with the keys stored at registration: a key
or key URL named in a token (`jku`, `jwk`, `x5u`) is never used or fetched.
"""

import json
from datetime import UTC, datetime, timedelta

import jwt
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import CdsClient, SeenToken

# Asymmetric only: never `none`, never HMAC (whose key would be the public key).
ALGORITHMS = ["ES256", "ES384", "RS384"]
# CDS Hooks 2.0: tokens are short-lived; the app refuses any that lives longer.
MAX_LIFETIME = timedelta(minutes=5)
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti"]
KEY_TYPES = {"ES256": "EC", "ES384": "EC", "RS384": "RSA"}


class Refused(Exception):
    """The call is not authenticated: answered 401, recorded as an audit event.

    `reason` is a short code for the audit log; `issuer` the claimed issuer, if any."""

    def __init__(self, reason: str, issuer: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.issuer = issuer[:255]


def check_jwks(jwks: dict) -> jwt.PyJWKSet:
    """A JWKS a client may register: public keys only, of the accepted types.
    Raises ValueError saying what is wrong."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise ValueError('a JWKS is a JSON object {"keys": [...]} with at least one key')
    for key in jwks["keys"]:
        if not isinstance(key, dict) or key.get("kty") not in ("EC", "RSA"):
            raise ValueError("every key must be an EC or RSA key")
        if "d" in key or "p" in key:
            raise ValueError("the JWKS holds a private key: register the public keys only")
        if key.get("kty") == "EC" and key.get("crv") not in ("P-256", "P-384"):
            raise ValueError("EC keys must be on curve P-256 or P-384")
    try:
        return jwt.PyJWKSet.from_dict(jwks)
    except jwt.PyJWTError as error:
        raise ValueError(f"the keys cannot be read: {error}") from None


def _bearer(request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused("no_bearer_token")
    return token.strip()


def _keys(client: CdsClient, header: dict) -> list:
    """The client's stored keys that may have signed this token."""
    keys = check_jwks(client.jwks).keys
    kid = header.get("kid")
    wanted = KEY_TYPES[header["alg"]]
    return [
        key.key for key in keys if (kid is None or key.key_id == kid) and key.key_type == wanted
    ]


def _decode(token: str, keys: list, *, issuer: str, audience: str) -> dict:
    header_alg = jwt.get_unverified_header(token)["alg"]
    for key in keys:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[header_alg],
                audience=audience,
                issuer=issuer,
                options={"require": REQUIRED_CLAIMS, "strict_aud": True},
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.ExpiredSignatureError:
            raise Refused("expired", issuer) from None
        except jwt.InvalidAudienceError:
            raise Refused("wrong_audience", issuer) from None
        except jwt.PyJWTError:
            raise Refused("invalid_token", issuer) from None
    raise Refused("bad_signature", issuer)


def authenticate(request, *, audience: str) -> tuple[CdsClient, dict]:
    """The registered client that signed this call, and the token's claims.

    `audience` is the exact URL of the service called. Raises Refused."""
    token = _bearer(request)
    try:
        header = jwt.get_unverified_header(token)
        claimed = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, json.JSONDecodeError, UnicodeDecodeError, TypeError):
        raise Refused("malformed_token") from None
    issuer = claimed.get("iss") if isinstance(claimed.get("iss"), str) else ""
    if header.get("alg") not in ALGORITHMS:
        raise Refused("algorithm_not_allowed", issuer)
    client = CdsClient.objects.filter(issuer=issuer).first() if issuer else None
    if client is None:
        raise Refused("unregistered_issuer", issuer)
    claims = _decode(token, _keys(client, header), issuer=issuer, audience=audience)
    expires = datetime.fromtimestamp(claims["exp"], UTC)
    if expires - timezone.now() > MAX_LIFETIME:
        raise Refused("lifetime_too_long", issuer)
    if not isinstance(claims["jti"], str) or not 0 < len(claims["jti"]) <= 255:
        raise Refused("invalid_token", issuer)
    _remember(client, claims["jti"], expires)
    return client, claims


def _remember(client: CdsClient, jti: str, expires: datetime) -> None:
    """Refuse a jti seen before; forget those whose tokens have expired (they can no
    longer be replayed: an expired token is refused anyway)."""
    SeenToken.objects.filter(expires_at__lt=timezone.now()).delete()
    try:
        with transaction.atomic():
            SeenToken.objects.create(client=client, jti=jti, expires_at=expires)
    except IntegrityError:
        raise Refused("replayed_jti", client.issuer) from None
