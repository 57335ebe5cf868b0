"""Several workers, one shared cache (DJANGO_CACHE_URL, a real Redis server).

This test process is one worker; a server started in another process on the same
database and the same Redis is the other. A role revoked through one is refused by
the other at once, and the API's throttle counts the requests of both.
TEST_REDIS_URL names the Redis database the tests may empty.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from tests.api.conftest import ApiClient, token_for
from tests.test_settings import manage, production_env

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
TOKEN_RATE = 4  # requests a minute per token, in both workers


@pytest.fixture
def shared_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    settings.API_THROTTLE_RATES = {"token": f"{TOKEN_RATE}/min", "address": "1000/min"}
    try:
        cache.clear()
    except redis.ConnectionError:
        pytest.fail(f"No Redis server at {REDIS_URL}: start redis-server or set TEST_REDIS_URL.")
    yield
    cache.clear()


def database_url() -> str:
    """The test database, for the other worker."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """The app served by another process, with the same database and the same cache."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}/api/v1/"

    def get(self, path: str, token: str) -> int:
        request = urllib.request.Request(
            self.base + path, headers={"Authorization": f"Bearer {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


@pytest.fixture
def other_worker(shared_cache):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_CACHE_URL": REDIS_URL,
        "DJANGO_DEBUG": "0",
        "DJANGO_HTTPS": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_API_RATE_TOKEN": f"{TOKEN_RATE}/min",
        "DJANGO_API_RATE_ADDRESS": "1000/min",
    }
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the other worker did not start: {server.communicate()[1]}")
                time.sleep(0.1)
        yield Worker(port)
    finally:
        server.terminate()
        server.communicate(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_a_role_revoked_through_one_worker_is_refused_by_the_other_at_once(other_worker, clinician):
    token = token_for(clinician)
    here = ApiClient(token)
    # Both workers have the clinician's permissions in hand.
    assert here.get("assessments").status_code == 200
    assert other_worker.get("assessments", token) == 200

    clinician.groups.clear()  # revoked here, as the admin's user page would

    assert other_worker.get("assessments", token) == 403
    assert here.get("assessments").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_role_granted_through_one_worker_is_honoured_by_the_other_at_once(
    other_worker, no_role_user, clinician
):
    token = token_for(no_role_user)
    assert other_worker.get("assessments", token) == 403
    no_role_user.groups.set(clinician.groups.all())
    assert other_worker.get("assessments", token) == 200


@pytest.mark.django_db(transaction=True)
def test_a_throttle_counts_the_requests_of_every_worker(other_worker, clinician):
    token = token_for(clinician)
    here = ApiClient(token)
    for _ in range(TOKEN_RATE // 2):
        assert other_worker.get("assessments", token) == 200
        assert here.get("assessments").status_code == 200
    # The rate is spent, half in each worker: both refuse the next request.
    assert other_worker.get("assessments", token) == 429
    assert here.get("assessments").status_code == 429


def test_the_cache_is_redis_with_a_url_and_local_memory_without():
    show = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    redis_cache = manage("shell", "-c", show, env=production_env(DJANGO_CACHE_URL=REDIS_URL))
    assert redis_cache.stdout.split()[-1] == "django.core.cache.backends.redis.RedisCache"
    without = production_env()
    without.pop("DJANGO_CACHE_URL", None)
    local = manage("shell", "-c", show, env=without)
    assert local.stdout.split()[-1] == "django.core.cache.backends.locmem.LocMemCache"


def test_a_cache_url_that_is_not_redis_is_refused():
    result = manage("check", env=production_env(DJANGO_CACHE_URL="memcached://127.0.0.1:11211"))
    assert result.returncode != 0
    assert "DJANGO_CACHE_URL must be a Redis URL" in result.stderr
