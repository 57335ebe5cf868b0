"""`Idempotency-Key` on creates: a retried POST (a lost answer, a client's timeout)
answers the first result again instead of recording a second assessment.

A key is kept 24 hours for its user. Only a success is kept: a refused create
recorded nothing, and the client may correct the body and send it with the same key.
"""

import hashlib
import json
import re

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer

from .models import IdempotencyKey

HEADER = "Idempotency-Key"
KEY = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces
REPLAYED_HEADERS = ("Location", "ETag")


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY

    def __init__(self):
        super().__init__(
            {
                HEADER: [
                    "This key was used in the last 24 hours with another body: send that "
                    "body again, or a new key for a new assessment."
                ]
            }
        )


def key_of(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not KEY.fullmatch(key):
        raise exceptions.ValidationError(
            {HEADER: ["1 to 255 printable ASCII characters without spaces, such as a UUID."]}
        )
    return key


def digest(data) -> str:
    canonical = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def earlier(*, user, key: str, body_digest: str) -> HttpResponse | None:
    """The first answer under this key, or None; KeyReused if the body differs."""
    IdempotencyKey.objects.filter(created_at__lt=timezone.now() - IdempotencyKey.TTL).delete()
    kept = IdempotencyKey.objects.filter(user=user, key=key).first()
    if kept is None:
        return None
    if kept.body_digest != body_digest:
        raise KeyReused
    response = HttpResponse(kept.response, status=kept.status, content_type="application/json")
    for name, value in kept.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def create_once(*, user, key: str, body_digest: str, create):
    """Run `create` (which returns the rendered response) and keep its answer under the
    key, in one transaction: of two concurrent calls with the same key, the second's
    create is rolled back and it answers the first's result."""
    try:
        with transaction.atomic():
            response = create()
            IdempotencyKey.objects.create(
                user=user,
                key=key,
                body_digest=body_digest,
                status=response.status_code,
                # As the response will be rendered: a replay answers the same bytes.
                response=JSONRenderer().render(response.data).decode(),
                headers={name: response[name] for name in REPLAYED_HEADERS if name in response},
            )
            return response
    except IntegrityError:
        replay = earlier(user=user, key=key, body_digest=body_digest)
        if replay is None:
            raise
        return replay
