from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EhrConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ehr"
    verbose_name = _("EHR integration")

    def ready(self):
        from . import actions  # noqa: F401  (registers the EHR's audit actions)
