import os

from django.core import checks
from django.core.management.base import SystemCheckError
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tace_site.settings")
application = get_wsgi_application()

# Gunicorn runs no system checks: these refuse to serve without a compiled catalogue.
errors = [
    error for error in checks.run_checks(tags=[checks.Tags.translation]) if error.is_serious()
]
if errors:
    raise SystemCheckError("\n".join(f"{error.msg}\nHINT: {error.hint}" for error in errors))

# What a worker would otherwise load on the first request that needs it, loaded as it
# starts: the URLs and every view module they import, and the outcomes page's
# libraries, lifelines (scipy, pandas) and matplotlib (1 to 2 s in all). Commands and
# tests import the page's libraries only when they draw.
import lifelines  # noqa: E402, F401
import matplotlib.figure  # noqa: E402, F401
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018
