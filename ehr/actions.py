from django.db import models
from django.utils.translation import gettext_lazy as _

from assessments import actions


# From the EHR: CDS Hooks calls, FHIR reads, SMART App Launch (launches, refusals,
# uses of the EHR's token).
@actions.register
class Action(models.TextChoices):
    CDS_CALL = "cds_call", _("CDS Hooks: answered an EHR's call")
    CDS_FEEDBACK = "cds_feedback", _("CDS Hooks: a card accepted or overridden")
    CDS_REFUSED = "cds_refused", _("CDS Hooks: refused a call")
    CDS_CLIENT = "cds_client", _("CDS Hooks: EHR client registered or removed")
    FHIR_READ = "fhir_read", _("FHIR: read a RiskAssessment")
    SMART_LAUNCH = "smart_launch", _("SMART: launched from the EHR")
    SMART_REFUSED = "smart_refused", _("SMART: refused a launch")
    SMART_TOKEN = "smart_token", _("SMART: used the EHR's access token")
    SMART_CLIENT = "smart_client", _("SMART: launch client or user mapping changed")
