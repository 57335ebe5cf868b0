from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.parsers import BaseParser

from common.jsonio import parse_json


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self):
        limit = settings.API_MAX_BODY_BYTES
        super().__init__(f"The body is larger than {limit:,} bytes.")


class InvalidBody(APIException):
    """The body is not JSON, or gives a key twice: errors by field, as parse_json says."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"


class ContractJSONParser(BaseParser):
    """JSON as the contract reads it: numbers as Decimal (never float), no key twice."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH", "") if request is not None else ""
        if length.isdigit() and int(length) > limit:
            raise PayloadTooLarge
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge
        obj, errors = parse_json(body)
        if errors:
            raise InvalidBody(errors)
        return obj
