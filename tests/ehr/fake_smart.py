"""A fake EHR for SMART App Launch tests: an authorization server and a FHIR endpoint in
a local HTTP server thread, with keys it makes itself. It approves every authorization
request that is well formed (as the public SMART launcher does after its simulated
login), checks PKCE and the client at its token endpoint, and signs the id_token."""

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CLIENT_ID = "tace-app"
FHIR_USER = "Practitioner/123"
PATIENT_ID = "pat-123"  # the patient of tests/ehr/conftest.py's observations
MRN_SYSTEM = "urn:oid:1.2.3.4.5.6.7"


def patient_resource(mrn="MRN-1", system=MRN_SYSTEM, patient_id=PATIENT_ID) -> dict:
    return {
        "resourceType": "Patient",
        "id": patient_id,
        "identifier": [
            {"system": "urn:other:system", "value": "OTHER-9"},
            {"system": system, "value": mrn},
        ],
    }


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class FakeSmartEhr:
    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "ehr-1", "alg": "RS256"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "ehr-1", "alg": "RS256"})
        self.sign_with = self.key
        self.patient = patient_resource()
        self.fhir_user = FHIR_USER
        self.id_token_changes: dict = {}
        self.app_context = None
        self.observations: list = []  # answered to every Observation search that asks its code
        self.client_secret = None  # set: the token endpoint wants HTTP Basic with it
        self.client_key = None  # set: it wants private_key_jwt signed by this key's pair
        self.app_launch_url = ""  # what the chart page frames (the browser test)
        self.codes: dict = {}
        self.access_tokens: set = set()
        self.authorize_requests: list = []
        self.token_requests: list = []
        self.fhir_requests: list = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.iss = f"{self.origin}/fhir"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def configuration(self) -> dict:
        return {
            "issuer": self.origin,
            "authorization_endpoint": f"{self.origin}/auth/authorize",
            "token_endpoint": f"{self.origin}/auth/token",
            "jwks_uri": f"{self.origin}/auth/jwks",
            "code_challenge_methods_supported": ["S256"],
            "capabilities": ["launch-ehr", "sso-openid-connect", "client-confidential-symmetric"],
        }

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.origin,
            "sub": "user-123",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "fhirUser": f"{self.iss}/{self.fhir_user}",
            **self.id_token_changes,
        }
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode({"alg": "RS256", "kid": "ehr-1"}, claims, self.sign_with)

    # The endpoints -------------------------------------------------------------------

    def authorize(self, query: dict):
        self.authorize_requests.append(query)
        redirect_uri = query.get("redirect_uri", "")
        ok = (
            query.get("response_type") == "code"
            and query.get("client_id") == CLIENT_ID
            and query.get("aud") == self.iss
            and query.get("code_challenge_method") == "S256"
            and query.get("code_challenge")
            and query.get("launch")
        )
        if not ok:
            return 302, {"Location": f"{redirect_uri}?error=invalid_request"}, b""
        code = secrets.token_urlsafe(16)
        self.codes[code] = query
        params = urlencode({"code": code, "state": query.get("state", "")})
        return 302, {"Location": f"{redirect_uri}?{params}"}, b""

    def token(self, form: dict, headers):
        self.token_requests.append({"form": form, "authorization": headers.get("Authorization")})
        asked = self.codes.pop(form.get("code", ""), None)
        if self.client_secret is not None:
            expected = base64.b64encode(f"{CLIENT_ID}:{self.client_secret}".encode()).decode()
            client_ok = headers.get("Authorization") == f"Basic {expected}"
        elif self.client_key is not None:
            client_ok = self._assertion_ok(form)
        else:
            client_ok = form.get("client_id") == CLIENT_ID
        if (
            asked is None
            or not client_ok
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != asked["redirect_uri"]
            or s256(form.get("code_verifier", "")) != asked["code_challenge"]
        ):
            return self._json({"error": "invalid_grant"}, 400)
        access_token = secrets.token_urlsafe(24)
        self.access_tokens.add(access_token)
        body = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": asked["scope"],
            "id_token": self.id_token(asked.get("nonce", "")),
            "patient": self.patient["id"],
        }
        if self.app_context is not None:
            body["appContext"] = self.app_context
        return self._json(body)

    def _assertion_ok(self, form: dict) -> bool:
        if form.get("client_assertion_type") != (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            return False
        try:
            token = jwt.decode(
                form.get("client_assertion", ""), self.client_key, algorithms=["RS384"]
            )
        except Exception:
            return False
        claims = token.claims
        return (
            claims.get("iss") == claims.get("sub") == CLIENT_ID
            and claims.get("aud") == f"{self.origin}/auth/token"
            and claims.get("exp", 0) > time.time()
            and bool(claims.get("jti"))
        )

    def fhir(self, path: str, query: dict, headers):
        self.fhir_requests.append({"path": path, "authorization": headers.get("Authorization")})
        if path == "/fhir/.well-known/smart-configuration":
            return self._json(self.configuration())
        bearer = (headers.get("Authorization") or "").removeprefix("Bearer ")
        if bearer not in self.access_tokens:
            return self._json({"resourceType": "OperationOutcome"}, 401)
        if path == f"/fhir/Patient/{self.patient['id']}":
            return self._json(self.patient)
        if path == "/fhir/Observation":
            codes = query.get("code", "")
            found = [
                resource
                for resource in self.observations
                if query.get("patient") == self.patient["id"]
                and any(f"|{c['code']}" in codes for c in resource["code"]["coding"])
            ]
            entries = [{"resource": resource} for resource in found]
            return self._json({"resourceType": "Bundle", "type": "searchset", "entry": entries})
        return self._json({"resourceType": "OperationOutcome"}, 404)

    def chart_page(self):
        page = (
            "<!doctype html><title>Fake EHR chart</title><h1>Chart</h1>"
            f'<iframe id="app" title="app" src="{self.app_launch_url}" '
            'style="width:1200px;height:800px"></iframe>'
        )
        return 200, {"Content-Type": "text/html"}, page.encode()

    @staticmethod
    def _json(body: dict, status: int = 200):
        return status, {"Content-Type": "application/json"}, json.dumps(body).encode()

    def _handler(self):
        ehr = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, answer):
                status, headers, body = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/auth/authorize":
                    return self._send(ehr.authorize(query))
                if parts.path == "/auth/jwks":
                    keys = KeySet([ehr.key]).as_dict(private=False)
                    return self._send(ehr._json(keys))
                if parts.path == "/chart":
                    return self._send(ehr.chart_page())
                return self._send(ehr.fhir(parts.path, query, self.headers))

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlsplit(self.path).path == "/auth/token":
                    return self._send(ehr.token(form, self.headers))
                return self._send(ehr._json({"error": "not_found"}, 404))

        return Handler
