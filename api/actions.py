from django.db import models
from django.utils.translation import gettext_lazy as _

from assessments import actions


# Through the REST API: each names the token in its detail.
@actions.register
class ApiAction(models.TextChoices):
    API_EVALUATE = "api_evaluate", _("API: scored inputs (nothing stored)")
    API_LIST = "api_list", _("API: listed assessments")
    API_LOOKUP = "api_lookup", _("API: looked up a patient by MRN")
    API_CREATE = "api_create", _("API: created an assessment")
    API_AMEND = "api_amend", _("API: amended an assessment")
    API_VOID = "api_void", _("API: voided an assessment")
    API_TOKEN = "api_token", _("API token created or revoked")
