"""The OpenAPI description of each input field, made from the form field itself:
label and help text, range, decimal places, length, pattern and codes."""

from decimal import Decimal

from django import forms as django_forms
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)

from assessments import forms


def _codes(field) -> list[str]:
    return [str(code) for code, _ in field.choices if code != ""]


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
        digits = rf"\.[0-9]{{1,{places}}}" if places else ""
        text = {"type": "string", "pattern": rf"^[0-9]+({digits})?$" if digits else "^[0-9]+$"}
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
        schema = {"anyOf": [number, {"type": "string", "pattern": "^[0-9]+$"}]}
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
