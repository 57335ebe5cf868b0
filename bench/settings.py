"""make bench only: the site's settings, with bench/urls.py, which adds bare views.

bench/run.py starts the server with DJANGO_SETTINGS_MODULE=bench.settings and
TACE_BENCH=1; without both, the site never serves these views. Nothing else
differs from tace_site.settings: the same middleware, checks and database.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from tace_site.settings import *  # noqa: F403

if os.environ.get("TACE_BENCH") != "1":
    raise ImproperlyConfigured("bench.settings is for bench/run.py only (it sets TACE_BENCH=1).")

ROOT_URLCONF = "bench.urls"
