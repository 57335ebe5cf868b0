from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from .parsers import PayloadTooLarge


def errors_body(detail) -> dict:
    """{"errors": {"<field>": ["<message>", ...]}}, as `manage.py recommend` prints them;
    what belongs to no one field goes under "__all__"."""
    if isinstance(detail, dict):
        return {
            "errors": {
                str(field): [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
                for field, msgs in detail.items()
            }
        }
    if isinstance(detail, list):
        return {"errors": {"__all__": [str(message) for message in detail]}}
    return {"errors": {"__all__": [str(detail)]}}


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = errors_body(exc.detail)
    return response
