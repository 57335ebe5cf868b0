"""CDS Hooks 2.0 authentication: the EHR signs each call with a JWT.

Only registered clients are accepted, with the keys stored at registration: a key
or key URL named in a token (`jku`, `jwk`, `x5u`) is never used or fetched.
"""

import json
import math
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
# The EHR's clock and ours may differ a little: `iat`, `nbf` and `exp` are read with
# this allowance, and a token's lifetime may exceed MAX_LIFETIME by as much.
CLOCK_SKEW = timedelta(seconds=60)
TIME_CLAIMS = ("exp", "iat", "nbf")
# Seconds since the epoch before the year 3000: anything else is not a time.
LATEST_TIME = 32503680000
# The members of a JWK that only a private (or symmetric) key has (RFC 7518, 6.2.2,
# 6.3.2 and 6.4).
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


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
    kids = []
    for key in jwks["keys"]:
        if not isinstance(key, dict) or key.get("kty") not in ("EC", "RSA"):
            raise ValueError("every key must be an EC or RSA key")
        private = [member for member in PRIVATE_MEMBERS if member in key]
        if private:
            raise ValueError(
                f"the JWKS holds a private key (member {', '.join(private)}): "
                "register the public keys only"
            )
        if key.get("kty") == "EC" and key.get("crv") not in ("P-256", "P-384"):
            raise ValueError("EC keys must be on curve P-256 or P-384")
        kids.append(key.get("kid"))
    # CDS Hooks 2.0: every token names its key by `kid`, unique in the client's JWKS.
    if not all(isinstance(kid, str) and kid for kid in kids):
        raise ValueError('every key must have a "kid", which the tokens name')
    if len(set(kids)) != len(kids):
        raise ValueError('each key\'s "kid" must be unique in the JWKS')
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
    """The client's stored key named by the token's `kid`, if of the algorithm's type."""
    keys = check_jwks(client.jwks).keys
    wanted = KEY_TYPES[header["alg"]]
    return [key.key for key in keys if key.key_id == header["kid"] and key.key_type == wanted]


def _check_header(header: dict, issuer: str) -> None:
    """CDS Hooks 2.0, "Trusting CDS Clients": `alg`, `kid` and `typ` (fixed value
    `JWT`) are required. A media type is read case-insensitively (RFC 7515, 4.1.9)."""
    if header.get("alg") not in ALGORITHMS:
        raise Refused("algorithm_not_allowed", issuer)
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise Refused("no_kid", issuer)
    if not isinstance(header.get("typ"), str) or header["typ"].upper() != "JWT":
        raise Refused("not_typ_jwt", issuer)


def _check_times(claims: dict, issuer: str) -> None:
    """`exp`, `iat` and `nbf` are numbers of seconds (RFC 7519, NumericDate): a string,
    a boolean or a number no clock reaches is refused before any date is computed."""
    for name in TIME_CLAIMS:
        if name not in claims:
            continue
        value = claims[name]
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise Refused("invalid_token", issuer)
        if not (math.isfinite(value) and 0 <= value < LATEST_TIME):
            raise Refused("invalid_token", issuer)


def _check_audience(claims: dict, audience: str, issuer: str) -> None:
    """`aud` is the service's URL, as a string or an array of strings (CDS Hooks 2.0).
    An array naming anyone else is refused too: a token also meant for another party
    could be replayed here by that party."""
    aud = claims.get("aud")
    values = aud if isinstance(aud, list) else [aud]
    if not values or any(value != audience for value in values):
        raise Refused("wrong_audience", issuer)


def _decode(token: str, keys: list, *, alg: str, issuer: str, audience: str) -> dict:
    for key in keys:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                issuer=issuer,
                leeway=CLOCK_SKEW,
                options={"require": REQUIRED_CLAIMS, "verify_aud": False},
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.ExpiredSignatureError:
            raise Refused("expired", issuer) from None
        except jwt.PyJWTError:
            raise Refused("invalid_token", issuer) from None
        _check_audience(claims, audience, issuer)
        return claims
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
    if not isinstance(header, dict) or not isinstance(claimed, dict):
        raise Refused("malformed_token")
    issuer = claimed.get("iss") if isinstance(claimed.get("iss"), str) else ""
    _check_header(header, issuer)
    _check_times(claimed, issuer)
    client = CdsClient.objects.filter(issuer=issuer).first() if issuer else None
    if client is None:
        raise Refused("unregistered_issuer", issuer)
    keys = _keys(client, header)
    if not keys:
        raise Refused("unknown_kid", issuer)
    claims = _decode(token, keys, alg=header["alg"], issuer=issuer, audience=audience)
    expires = datetime.fromtimestamp(claims["exp"], UTC)
    if expires - timezone.now() > MAX_LIFETIME + CLOCK_SKEW:
        raise Refused("lifetime_too_long", issuer)
    if not isinstance(claims["jti"], str) or not 0 < len(claims["jti"]) <= 255:
        raise Refused("invalid_token", issuer)
    # Kept while the token is still accepted, the allowance for the clocks included.
    _remember(client, claims["jti"], expires + CLOCK_SKEW)
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
