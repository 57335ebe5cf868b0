import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client

from api.models import ApiToken

API = "/api/v1/"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """Throttle counts live in the cache: each test starts from none."""
    cache.clear()
    yield
    cache.clear()


class ApiClient:
    """The test client with a bearer token (or none), sending JSON bodies."""

    def __init__(self, token: str | None = None, client: Client | None = None):
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, params=None, **headers):
        return self.client.get(API + path, params or {}, headers={**self.headers, **headers})

    def post(self, path, body=None, *, raw: str | bytes | None = None, **headers):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(
            API + path,
            data,
            content_type="application/json",
            headers={**self.headers, **headers},
        )


def token_for(user, name=None, days=90) -> str:
    _, secret = ApiToken.objects.create(
        user=user, name=name or f"{user.username}-system", expiry=timedelta(days=days)
    )
    return secret


@pytest.fixture
def clinician_api(clinician):
    return ApiClient(token_for(clinician))


@pytest.fixture
def reviewer_api(reviewer):
    return ApiClient(token_for(reviewer))


@pytest.fixture
def no_role_api(no_role_user):
    return ApiClient(token_for(no_role_user))


@pytest.fixture
def anonymous_api():
    return ApiClient()
