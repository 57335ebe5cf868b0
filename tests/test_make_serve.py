"""make serve warns when it starts several workers without a shared cache."""

import os
import subprocess

from django.conf import settings

WARNING = "WARNING: 3 workers and no DJANGO_CACHE_URL"


def serve(**env):
    """make serve, up to its check of the secret key: unset, it stops there."""
    environment = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SECRET_KEY", *env)}
    environment |= {k: v for k, v in env.items() if v is not None}
    # -o: take the virtualenv and the catalogue as made; nothing is installed or built.
    command = ["make", "-o", ".venv/.installed", "-o", "locale/zh_Hans/LC_MESSAGES/django.mo"]
    return subprocess.run(
        [*command, "serve", "WORKERS=3"],
        env=environment,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_several_workers_without_a_shared_cache_are_warned_of():
    result = serve(DJANGO_CACHE_URL=None)
    assert WARNING in result.stderr
    assert "Set DJANGO_CACHE_URL=redis://" in result.stderr
    assert "DJANGO_SECRET_KEY is not set" in result.stderr  # it went no further


def test_several_workers_with_a_shared_cache_are_not():
    result = serve(DJANGO_CACHE_URL="redis://127.0.0.1:6379/0")
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    assert "WARNING" not in result.stderr
