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
