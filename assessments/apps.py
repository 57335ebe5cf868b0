from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_append_only_triggers(using, **kwargs):
    # Also after later migrations: SQLite rebuilds a table (and drops its
    # triggers) for many schema changes.
    from django.db import connections

    from .audit import install_append_only_triggers

    install_append_only_triggers(connections[using])


class AssessmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "assessments"
    verbose_name = "Adjuvant TACE assessments"

    def ready(self):
        from . import audit, checks, permissions  # noqa: F401 (checks registers its checks)
        from .audit import seals

        # The seals first: a change's own event (user_changed, api_token...) follows its seal.
        seals.connect_signals()
        audit.connect_signals()
        permissions.connect_signals()
        post_migrate.connect(ensure_append_only_triggers, sender=self)
