"""CDS Hooks JWT authentication: registered clients only, and each refusal audited."""

import hashlib
import hmac
import io
import json
import time
from datetime import UTC, datetime

import jwt
import pytest
from django.contrib.admin.sites import site
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from ehr.admin import CdsClientAdmin
from ehr.models import CdsClient, SeenToken
from tests.ehr.conftest import ISSUER, FakeEhr, hook_request, private_key, public_jwk
from tests.factories import events

pytestmark = pytest.mark.django_db

SERVICE = "/cds-services/adjuvant-tace"
AUD = f"http://testserver{SERVICE}"


def refused(response, reason):
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "cards" not in response.json()
    event = events("cds_refused")[-1]
    assert event.detail["reason"] == reason
    assert event.detail["service"] == "adjuvant-tace"
    assert not events("cds_call")
    return event


@pytest.mark.parametrize("alg", ["ES256", "ES384", "RS384"])
def test_a_registered_client_signing_with_an_accepted_algorithm_is_answered(tmp_path, alg):
    ehr = FakeEhr(alg=alg)
    ehr.register(tmp_path)
    response = ehr.post(SERVICE, hook_request())
    assert response.status_code == 200, response.content
    assert response.json()["cards"][0]["summary"] == "No adjuvant-TACE assessment recorded"
    assert events("cds_call")[-1].detail["issuer"] == ISSUER
    assert not events("cds_refused")


def test_no_bearer_token(ehr):
    response = ehr.client.post(SERVICE, json.dumps(hook_request()), content_type="application/json")
    refused(response, "no_bearer_token")


def test_an_unregistered_issuer(ehr):
    stranger = FakeEhr(issuer="https://other-ehr.example")
    event = refused(stranger.post(SERVICE, hook_request()), "unregistered_issuer")
    # What an unverified token claims is never a user name: it is kept apart.
    assert event.username == "" and event.user is None
    assert event.detail["claimed_issuer"] == "https://other-ehr.example"


def test_a_refused_token_naming_a_registered_issuer_is_no_user_name_either(ehr):
    event = refused(
        ehr.post(SERVICE, hook_request(), token=ehr.token(AUD, key=private_key("ES384"))),
        "bad_signature",
    )
    assert event.username == ""
    assert event.detail["claimed_issuer"] == ISSUER


def test_the_audience_must_be_the_exact_service_url(ehr):
    for aud in [
        "http://testserver/cds-services/adjuvant-tace-order-check",
        "http://testserver/cds-services/adjuvant-tace/",
        "https://testserver/cds-services/adjuvant-tace",
        "http://testserver/cds-services",
    ]:
        refused(ehr.post(SERVICE, hook_request(), token=ehr.token(aud)), "wrong_audience")


def test_an_audience_array_of_the_service_url_is_accepted(ehr):
    # CDS Hooks 2.0: `aud` is the service's URL, "either a string or an array of strings".
    token = ehr.token([AUD])
    assert ehr.post(SERVICE, hook_request(), token=token).status_code == 200


@pytest.mark.parametrize(
    "aud", [[AUD, "https://elsewhere.example"], [], ["https://elsewhere.example"], [AUD, 1]]
)
def test_an_audience_array_naming_anyone_else_is_refused(ehr, aud):
    refused(ehr.post(SERVICE, hook_request(), token=ehr.token(aud)), "wrong_audience")


@pytest.mark.parametrize(
    ("claims", "accepted"),
    [
        ({"iat": 1}, True),  # the EHR's clock one second ahead
        ({"iat": 59}, True),
        ({"iat": 90}, False),
        ({"nbf": 59}, True),
        ({"nbf": 90}, False),
        ({"iat": -300, "exp": -30}, True),  # expired by less than the allowance
        ({"iat": -300, "exp": -90}, False),
        ({"iat": 59, "exp": 359}, True),  # five minutes' life, on a clock ahead
    ],
)
def test_the_clocks_may_differ_by_60_seconds(ehr, claims, accepted):
    now = int(time.time())
    token = ehr.token(AUD, **{name: now + offset for name, offset in claims.items()})
    response = ehr.post(SERVICE, hook_request(), token=token)
    if accepted:
        assert response.status_code == 200, response.content
    else:
        assert response.status_code == 401
        assert events("cds_refused")[-1].detail["reason"] in {"invalid_token", "expired"}


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"kid": None}, "no_kid"),
        ({"kid": ""}, "no_kid"),
        ({"typ": None}, "not_typ_jwt"),
        ({"typ": "at+jwt"}, "not_typ_jwt"),
    ],
)
def test_kid_and_typ_are_required(ehr, headers, reason):
    # CDS Hooks 2.0, "Trusting CDS Clients": alg, kid and typ (fixed value JWT) REQUIRED.
    header = {"alg": "ES384", "kid": ehr.kid, "typ": "JWT", **headers}
    header = {name: value for name, value in header.items() if value is not None}
    token = jwt.api_jws.PyJWS().encode(
        json.dumps(ehr.claims(AUD)).encode(), ehr.key, algorithm="ES384", headers=header,
        is_payload_detached=False,
    )  # fmt: skip
    if "typ" not in header:  # PyJWS adds typ JWT unless told otherwise: strip it by hand
        token = _without_typ(token, ehr)
    refused(ehr.post(SERVICE, hook_request(), token=token), reason)


def _without_typ(token, ehr):
    encode = jwt.utils.base64url_encode
    header = encode(json.dumps({"alg": "ES384", "kid": ehr.kid}).encode())
    payload = encode(json.dumps(ehr.claims(AUD)).encode())
    signing_input = header + b"." + payload
    signature = jwt.algorithms.ECAlgorithm(jwt.algorithms.ECAlgorithm.SHA384).sign(
        signing_input, ehr.key
    )
    return b".".join([header, payload, encode(signature)]).decode()


def test_a_kid_the_client_did_not_register_is_refused(ehr):
    token = ehr.token(AUD, headers={"kid": "another-key"})
    refused(ehr.post(SERVICE, hook_request(), token=token), "unknown_kid")


def test_typ_is_read_case_insensitively(ehr):
    token = ehr.token(AUD, headers={"typ": "jwt"})
    assert ehr.post(SERVICE, hook_request(), token=token).status_code == 200


@pytest.mark.parametrize(
    "exp", ["9999999999", "soon", 1e300, 2**70, True, None, [1], "Infinity", "NaN"]
)
def test_a_signed_token_whose_exp_is_not_a_time_is_401_and_audited(ehr, exp):
    claims = {**ehr.claims(AUD), "exp": exp}
    if exp in ("Infinity", "NaN"):
        claims["exp"] = float(exp.lower().replace("infinity", "inf"))
    payload = json.dumps(claims).encode()  # Infinity and NaN as Python's json writes them
    token = jwt.api_jws.PyJWS().encode(
        payload, ehr.key, algorithm="ES384", headers={"kid": ehr.kid}
    )
    response = ehr.post(SERVICE, hook_request(), token=token)
    refused(response, "invalid_token")


def test_an_expired_token(ehr):
    now = int(time.time())
    token = ehr.token(AUD, iat=now - 400, exp=now - 61)  # past the 60 s allowance
    refused(ehr.post(SERVICE, hook_request(), token=token), "expired")


@pytest.mark.parametrize(("seconds", "accepted"), [(290, True), (400, False)])
def test_a_token_lives_at_most_five_minutes(ehr, seconds, accepted):
    token = ehr.token(AUD, exp=int(time.time()) + seconds)
    response = ehr.post(SERVICE, hook_request(), token=token)
    if accepted:
        assert response.status_code == 200
    else:
        refused(response, "lifetime_too_long")


def test_a_token_without_exp_or_jti_is_refused(ehr):
    refused(ehr.post(SERVICE, hook_request(), token=ehr.token(AUD, exp=None)), "invalid_token")
    refused(ehr.post(SERVICE, hook_request(), token=ehr.token(AUD, jti=None)), "invalid_token")


def test_alg_none(ehr):
    token = jwt.encode(ehr.claims(AUD), None, algorithm="none")
    refused(ehr.post(SERVICE, hook_request(), token=token), "algorithm_not_allowed")


def test_hs256(ehr):
    # Signed with the client's public key as the HMAC secret: the classic confusion
    # (made by hand: PyJWT itself refuses to sign so).
    secret = json.dumps(ehr.jwks()["keys"][0]).encode()
    encode = jwt.utils.base64url_encode
    header = encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": ehr.kid}).encode())
    payload = encode(json.dumps(ehr.claims(AUD)).encode())
    signature = hmac.new(secret, header + b"." + payload, hashlib.sha256).digest()
    token = b".".join([header, payload, encode(signature)]).decode()
    refused(ehr.post(SERVICE, hook_request(), token=token), "algorithm_not_allowed")


def test_rs256_is_not_among_the_algorithms(tmp_path):
    ehr = FakeEhr(alg="RS384")
    ehr.register(tmp_path)
    token = ehr.token(AUD, alg="RS256")
    refused(ehr.post(SERVICE, hook_request(), token=token), "algorithm_not_allowed")


def test_a_replayed_jti(ehr):
    token = ehr.token(AUD)
    assert ehr.post(SERVICE, hook_request(), token=token).status_code == 200
    response = ehr.post(SERVICE, hook_request(), token=token)
    assert response.status_code == 401
    assert events("cds_refused")[-1].detail["reason"] == "replayed_jti"
    # The same jti in a new token is refused too.
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    again = ehr.post(SERVICE, hook_request(), token=ehr.token(AUD, jti=jti))
    assert again.status_code == 401


def test_expired_jtis_are_forgotten(ehr):
    client = CdsClient.objects.get()
    SeenToken.objects.create(client=client, jti="old", expires_at="2020-01-01T00:00:00Z")
    assert ehr.post(SERVICE, hook_request()).status_code == 200
    assert list(SeenToken.objects.values_list("jti", flat=True)) != ["old"]
    assert not SeenToken.objects.filter(jti="old").exists()


def test_a_bad_signature(ehr):
    # The right kid, the right algorithm, another key: as a forger would send it.
    token = ehr.token(AUD, key=private_key("ES384"))
    refused(ehr.post(SERVICE, hook_request(), token=token), "bad_signature")


def test_a_tampered_token(ehr):
    header, payload, signature = ehr.token(AUD).split(".")
    claims = jwt.decode(f"{header}.{payload}.{signature}", options={"verify_signature": False})
    forged = jwt.utils.base64url_encode(json.dumps({**claims, "sub": "x"}).encode()).decode()
    refused(ehr.post(SERVICE, hook_request(), token=f"{header}.{forged}.{signature}"),
            "bad_signature")  # fmt: skip


def test_a_key_named_in_the_token_is_never_used(ehr):
    other = private_key("ES384")
    token = ehr.token(
        AUD,
        key=other,
        headers={"jku": "https://attacker.example/jwks", "jwk": public_jwk(other, "ES384", "x")},
    )
    refused(ehr.post(SERVICE, hook_request(), token=token), "bad_signature")


def test_a_malformed_token(ehr):
    refused(ehr.post(SERVICE, hook_request(), token="not-a-jwt"), "malformed_token")


def test_feedback_is_authenticated_for_its_own_url(ehr):
    path = f"{SERVICE}/feedback"
    card = ehr.post(SERVICE, hook_request()).json()["cards"][0]["uuid"]
    now = datetime.now(UTC).isoformat()
    body = {"feedback": [{"card": card, "outcome": "accepted", "acceptedSuggestions": [],
                          "outcomeTimestamp": now}]}  # fmt: skip
    assert ehr.post(path, body, token=ehr.token(AUD)).status_code == 401
    assert events("cds_refused")[-1].detail["reason"] == "wrong_audience"
    assert ehr.post(path, body).status_code == 200


# Registering clients


def test_cds_client_add_list_remove(tmp_path):
    ehr = FakeEhr()
    ehr.register(tmp_path, mrn_system="urn:oid:9.8.7")
    client = CdsClient.objects.get()
    assert client.issuer == ISSUER and client.mrn_system == "urn:oid:9.8.7"
    assert client.jwks == ehr.jwks()
    assert events("cds_client")[-1].detail["change"] == "registered"
    out = io.StringIO()
    call_command("cds_client", "list", stdout=out)
    assert out.getvalue().split("\t")[:3] == [ISSUER, "urn:oid:9.8.7", ehr.kid]
    call_command("cds_client", "remove", "--issuer", ISSUER, stdout=io.StringIO())
    assert not CdsClient.objects.exists()
    assert events("cds_client")[-1].detail == {"change": "removed", "issuer": ISSUER}
    # Removed: its calls are refused.
    assert ehr.post(SERVICE, hook_request()).status_code == 401


def test_cds_client_refuses_private_keys_and_unknown_key_types(tmp_path):
    ehr = FakeEhr()
    private = jwt.algorithms.ECAlgorithm.to_jwk(ehr.key, as_dict=True)
    for jwks, message in [
        ({"keys": [private]}, "private key"),
        ({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}, "EC or RSA"),
        ({"keys": []}, "at least one key"),
        ([], "at least one key"),
    ]:
        path = tmp_path / "keys.json"
        path.write_text(json.dumps(jwks))
        with pytest.raises(CommandError, match=message):
            call_command("cds_client", "add", "--issuer", "x", "--jwks-file", str(path),
                         "--mrn-system", "urn:x")  # fmt: skip
    assert not CdsClient.objects.exists()


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi", "oth"])
def test_cds_client_refuses_any_private_member_of_an_rsa_key(tmp_path, member):
    key = private_key("RS384")
    private = jwt.algorithms.RSAAlgorithm.to_jwk(key, as_dict=True)
    public = {**public_jwk(key, "RS384", "rsa-1"), member: private.get(member, "AQAB")}
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [public]}))
    with pytest.raises(CommandError, match=f"private key \\(member {member}\\)"):
        call_command("cds_client", "add", "--issuer", "x", "--jwks-file", str(path),
                     "--mrn-system", "urn:x")  # fmt: skip
    assert not CdsClient.objects.exists()


@pytest.mark.parametrize(
    ("kids", "message"), [([None], 'must have a "kid"'), (["a", "a"], "must be unique")]
)
def test_cds_client_needs_a_unique_kid_for_each_key(tmp_path, kids, message):
    keys = []
    for kid in kids:
        jwk = public_jwk(private_key("ES256"), "ES256", kid)
        keys.append({name: value for name, value in jwk.items() if value is not None})
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": keys}))
    with pytest.raises(CommandError, match=message):
        call_command("cds_client", "add", "--issuer", "x", "--jwks-file", str(path),
                     "--mrn-system", "urn:x")  # fmt: skip


def test_cds_client_add_twice_is_refused(ehr, tmp_path):
    with pytest.raises(CommandError, match="is registered"):
        ehr.register(tmp_path)


def test_the_admin_lists_clients_read_only(ehr, django_user_model):
    admin_user = django_user_model.objects.create_superuser("root", password="x" * 20)
    request = RequestFactory().get("/")
    request.user = admin_user
    model_admin = CdsClientAdmin(CdsClient, site)
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, CdsClient.objects.get())
    assert not model_admin.has_delete_permission(request, CdsClient.objects.get())
