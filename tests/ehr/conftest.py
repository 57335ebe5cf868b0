"""A fake EHR for the tests: it makes its own keys, registers itself as a real one
would (`manage.py cds_client add`) and signs each call with a JWT."""

import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.management import call_command
from django.test import Client
from jsonschema import Draft202012Validator, FormatChecker

ISSUER = "https://ehr.hospital.example"
MRN_SYSTEM = "urn:oid:1.2.3.4.5.6.7"
PATIENT_ID = "pat-123"
SCHEMAS = Path(__file__).parent / "schemas"


def schema_errors(name: str, document) -> list[str]:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    return [error.message for error in validator.iter_errors(document)]


def private_key(alg: str):
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "ES384":
        return ec.generate_private_key(ec.SECP384R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key, alg: str, kid: str) -> dict:
    algorithm = jwt.algorithms.RSAAlgorithm if alg.startswith("RS") else jwt.algorithms.ECAlgorithm
    return {**algorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "alg": alg}


class FakeEhr:
    def __init__(self, issuer=ISSUER, alg="ES384"):
        self.issuer = issuer
        self.alg = alg
        self.kid = f"{alg.lower()}-1"
        self.key = private_key(alg)
        self.client = Client()

    def jwks(self) -> dict:
        return {"keys": [public_jwk(self.key, self.alg, self.kid)]}

    def register(self, tmp_path, mrn_system=MRN_SYSTEM, fhir_server=""):
        path = tmp_path / f"{uuid.uuid4()}.json"
        path.write_text(json.dumps(self.jwks()))
        call_command(
            "cds_client", "add", "--issuer", self.issuer, "--jwks-file", str(path),
            "--mrn-system", mrn_system, "--fhir-server", fhir_server,
            stdout=open("/dev/null", "w"),
        )  # fmt: skip

    def claims(self, aud: str, **changes) -> dict:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": "ehr-client-id",
            "aud": aud,
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
            **changes,
        }
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, aud: str, *, key=None, alg=None, headers=None, **changes) -> str:
        return jwt.encode(
            self.claims(aud, **changes),
            key if key is not None else self.key,
            algorithm=alg or self.alg,
            headers={"kid": self.kid, "typ": "JWT", **(headers or {})},
        )

    def post(self, path: str, body: dict, *, token: str | None = None, **headers):
        aud = f"http://testserver{path}"
        token = token if token is not None else self.token(aud)
        return self.client.post(
            path,
            json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}", **headers},
        )


@pytest.fixture
def ehr(db, tmp_path):
    fake = FakeEhr()
    fake.register(tmp_path)
    return fake


def patient_resource(mrn="MRN-1", system=MRN_SYSTEM, patient_id=PATIENT_ID) -> dict:
    return {
        "resourceType": "Patient",
        "id": patient_id,
        "identifier": [
            {"system": "urn:other-system", "value": "OTHER-9"},
            {"system": system, "value": mrn},
        ],
    }


LOINC = {"bilirubin": "14631-6", "bilirubin_mg": "1975-2", "albumin": "1751-7",
         "albumin_g_dl": "1751-7", "inr": "6301-6"}  # fmt: skip
UNITS = {"bilirubin": "umol/L", "bilirubin_mg": "mg/dL", "albumin": "g/L", "albumin_g_dl": "g/dL",
         "inr": "{INR}"}  # fmt: skip


def observation(kind: str, value, when: datetime | str, status="final") -> dict:
    effective = when if isinstance(when, str) else when.astimezone(UTC).isoformat()
    return {
        "resourceType": "Observation",
        "id": f"obs-{kind}",
        "status": status,
        "code": {"coding": [{"system": "http://loinc.org", "code": LOINC[kind]}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": effective,
        "valueQuantity": {
            "value": value,
            "unit": UNITS[kind],
            "system": "http://unitsofmeasure.org",
            "code": UNITS[kind],
        },
    }


def bundle(*resources) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": resource} for resource in resources],
    }


def prefetch(mrn="MRN-1", labs=None, **changes) -> dict:
    """A prefetch with the Patient and, by default, no labs on record."""
    labs = labs or {}
    result = {
        "patient": patient_resource(mrn),
        "bilirubin": bundle(*[labs["bilirubin"]] if "bilirubin" in labs else []),
        "albumin": bundle(*[labs["albumin"]] if "albumin" in labs else []),
        "inr": bundle(*[labs["inr"]] if "inr" in labs else []),
    }
    return {**result, **changes}


def tace_order(status="draft", code="441525007") -> dict:
    return {
        "resourceType": "ServiceRequest",
        "id": "order-1",
        "status": status,
        "intent": "order",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": code}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
    }


def hook_request(hook="patient-view", *, orders=None, **prefetch_changes) -> dict:
    context = {"userId": "Practitioner/dr-1", "patientId": PATIENT_ID}
    if hook == "order-select":
        context["selections"] = ["ServiceRequest/order-1"]
        context["draftOrders"] = bundle(*(orders if orders is not None else [tace_order()]))
    return {
        "hookInstance": str(uuid.uuid4()),
        "hook": hook,
        "context": context,
        "prefetch": prefetch(**prefetch_changes),
    }
