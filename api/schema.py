"""The OpenAPI description of each input field, made from the form field itself:
label and help text, range, decimal places, length, pattern and codes."""

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django import forms as django_forms
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)

from assessments import forms


def _codes(field) -> list[str]:
    return [str(code) for code, _ in field.choices if code != ""]


def _fixed_width(lo: int, hi: int, width: int) -> str:
    """A regex for the integers lo..hi written with exactly `width` digits."""
    if width == 0:
        return ""
    if lo == 0 and hi == 10**width - 1:
        return f"[0-9]{{{width}}}" if width > 1 else "[0-9]"
    unit = 10 ** (width - 1)
    (lo_head, lo_rest), (hi_head, hi_rest) = divmod(lo, unit), divmod(hi, unit)
    if lo_head == hi_head:
        return f"{lo_head}{_fixed_width(lo_rest, hi_rest, width - 1)}"
    parts = [f"{lo_head}{_fixed_width(lo_rest, unit - 1, width - 1)}"]
    if hi_head - lo_head > 1:
        middle = f"{lo_head + 1}" if hi_head - lo_head == 2 else f"[{lo_head + 1}-{hi_head - 1}]"
        parts.append(f"{middle}{_fixed_width(0, unit - 1, width - 1)}")
    parts.append(f"{hi_head}{_fixed_width(0, hi_rest, width - 1)}")
    return f"(?:{'|'.join(parts)})"


def integer_range(lo: int, hi: int) -> str:
    """A regex for the integers lo..hi in plain decimal digits, no leading zero."""
    parts = []
    for width in range(1, len(str(hi)) + 1):
        low, high = max(lo, 10 ** (width - 1) if width > 1 else 0), min(hi, 10**width - 1)
        if low <= high:
            parts.append(_fixed_width(low, high, width))
    return f"(?:{'|'.join(parts)})"


def decimal_range(lo: Decimal, hi: Decimal, places: int) -> str:
    """A regex for the decimals lo..hi with at most `places` decimal places: the string
    form of a number says its range as the number form does."""
    parts = []
    for shown in range(places + 1):  # how many decimal places are written
        scale = 10**shown
        low = int((lo * scale).to_integral_value(rounding=ROUND_CEILING))
        high = int((hi * scale).to_integral_value(rounding=ROUND_FLOOR))
        if low > high:
            continue
        if shown == 0:
            parts.append(integer_range(low, high))
            continue
        (low_int, low_frac), (high_int, high_frac) = divmod(low, scale), divmod(high, scale)
        point = r"\."
        if low_int == high_int:
            fraction = _fixed_width(low_frac, high_frac, shown)
            parts.append(f"{integer_range(low_int, low_int)}{point}{fraction}")
            continue
        parts.append(
            f"{integer_range(low_int, low_int)}{point}{_fixed_width(low_frac, scale - 1, shown)}"
        )
        if high_int - low_int > 1:
            parts.append(f"{integer_range(low_int + 1, high_int - 1)}{point}[0-9]{{{shown}}}")
        parts.append(
            f"{integer_range(high_int, high_int)}{point}{_fixed_width(0, high_frac, shown)}"
        )
    return f"^(?:{'|'.join(parts)})$"


def field_schema(field: django_forms.Field) -> dict:
    parts = [str(field.label or "")]
    if field.help_text:
        parts.append(str(field.help_text))
    nullable = not field.required
    if isinstance(field, forms.DecimalField):
        places = field.decimal_places or 0
        number = {"type": "number"}
        if field.min_value is not None:
            number["minimum"] = float(field.min_value)
        if field.max_value is not None:
            number["maximum"] = float(field.max_value)
        if field.min_value is not None and field.max_value is not None:
            pattern = decimal_range(Decimal(field.min_value), Decimal(field.max_value), places)
        else:
            pattern = rf"^[0-9]+(\.[0-9]{{1,{places}}})?$" if places else "^[0-9]+$"
        text = {"type": "string", "pattern": pattern}
        parts.append(
            f"A JSON number or a string of ASCII digits with a point, at most {places} "
            "decimal place(s); never a comma."
        )
        if nullable:
            number["nullable"] = True
        schema = {"anyOf": [number, text]}
        if field.min_value is not None:
            schema["example"] = float(Decimal(field.min_value) + 1)
    elif isinstance(field, forms.IntegerField):
        number = {"type": "integer"}
        if field.min_value is not None:
            number["minimum"] = field.min_value
        if field.max_value is not None:
            number["maximum"] = field.max_value
        if nullable:
            number["nullable"] = True
        parts.append("A JSON integer or a string of ASCII digits (2.0 is refused).")
        if field.min_value is not None and field.max_value is not None:
            text = f"^{integer_range(field.min_value, field.max_value)}$"
        else:
            text = "^[0-9]+$"
        schema = {"anyOf": [number, {"type": "string", "pattern": text}]}
    elif isinstance(field, forms.ConfirmField):
        parts.append("A JSON boolean; true confirms every warning the refusal names.")
        schema = {"type": "boolean", "nullable": True}
    elif isinstance(field, django_forms.ChoiceField):
        codes = _codes(field)
        labels = "; ".join(f"{code}: {label}" for code, label in field.choices if code != "")
        parts.append(f"Codes: {labels}.")
        schema = {"type": "string", "enum": codes}
        if nullable:
            schema["nullable"] = True
    elif isinstance(field, django_forms.DateField):
        schema = {"type": "string", "format": "date"}
    else:
        schema = {"type": "string"}
        if getattr(field, "max_length", None):
            schema["maxLength"] = field.max_length
        if getattr(field, "min_length", None):
            schema["minLength"] = field.min_length
        if field.label and "MRN" in str(field.label):
            schema["pattern"] = "^[A-Za-z0-9-]{1,32}$"
        if nullable:
            schema["nullable"] = True
    schema["description"] = " ".join(part.rstrip(".") + "." for part in parts if part)
    return schema


class FormFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "api.serializers.FormField"

    def map_serializer_field(self, auto_schema, direction):
        return field_schema(self.target.form_field)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from `manage.py api_token create`: "
            "`Authorization: Bearer <token>`.",
        }


def tighten(result, generator, request, public):
    """drf-spectacular's postprocessing: the schema as strict as the server.

    Request bodies refuse unknown fields (as the forms do); a create's answer links to
    its read, amend, void and history, and an amendment's to the void, each carrying
    the ETag as If-Match (OpenAPI links, which a stateful test follows)."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    paths = result.get("paths", {})
    by_id = {"parameters": {"id": "$response.body#/id"}}
    with_etag = {
        "parameters": {"id": "$response.body#/id", "header.If-Match": "$response.header.ETag"}
    }
    links = {
        "read": {"operationId": "assessments_retrieve", **by_id},
        "history": {"operationId": "assessments_history_list", **by_id},
        "amend": {"operationId": "assessments_amend_create", **with_etag},
        "void": {"operationId": "assessments_void_create", **with_etag},
    }
    known = {
        op.get("operationId")
        for item in paths.values()
        for op in item.values()
        if isinstance(op, dict)
    }
    links = {name: link for name, link in links.items() if link["operationId"] in known}
    for path, method, status, names in [
        ("/api/v1/assessments", "post", "201", ["read", "history", "amend", "void"]),
        ("/api/v1/assessments/{id}/amend", "post", "200", ["read", "history", "amend", "void"]),
    ]:
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is not None:
            response["links"] = {name: links[name] for name in names if name in links}
    return result
