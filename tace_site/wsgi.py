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

# The outcomes page computes and draws with lifelines (scipy, pandas) and matplotlib,
# 1 to 2 s to import: each worker imports them as it starts, so that the page's first
# request does not wait for them. Commands and tests import them only when they draw.
import lifelines  # noqa: E402, F401
import matplotlib.figure  # noqa: E402, F401
