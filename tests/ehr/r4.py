"""Validation against the official FHIR R4 JSON schema (tests/data/fhir.schema.json).

jsonschema-rs decides (the schema's `oneOf` over every resource type, nested in each
contained resource, takes the pure-Python jsonschema a minute a resource); jsonschema
then says where a resource that fails is wrong."""

import json
from functools import cache
from pathlib import Path

import jsonschema
import jsonschema_rs

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "data" / "fhir.schema.json"


@cache
def _schema() -> dict:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    # The file is R4's first release (4.0.0), whose list of FHIR versions stops there; the
    # app speaks 4.0.1, R4's technical correction (tests/data/README.md). Nothing else is
    # changed.
    fhir_version = schema["definitions"]["CapabilityStatement"]["properties"]["fhirVersion"]
    fhir_version["enum"] = [*fhir_version["enum"], "4.0.1"]
    return schema


@cache
def _validator():
    return jsonschema_rs.Draft6Validator(_schema())


def assert_valid_r4(resource: dict) -> dict:
    """The resource is valid under the official schema's root (any resource)."""
    if _validator().is_valid(resource):
        return resource
    kind = resource.get("resourceType")
    schema = _schema()
    own = jsonschema.Draft6Validator(
        {"$ref": f"#/definitions/{kind}", "definitions": schema["definitions"]}
    )
    error = jsonschema.exceptions.best_match(own.iter_errors(resource))
    where = "/".join(map(str, error.absolute_path)) if error else ""
    raise AssertionError(f"not valid FHIR R4 {kind}: {where}: {error.message if error else '?'}")
