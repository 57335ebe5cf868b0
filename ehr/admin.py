from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from assessments.admin import ReadOnlyAdmin

from .models import CdsClient, SmartClient


@admin.register(CdsClient)
class CdsClientAdmin(ReadOnlyAdmin):
    """Registered and removed with `manage.py cds_client` (audited); listed here only."""

    list_display = ["issuer", "mrn_system", "keys", "created_at"]
    search_fields = ["issuer"]
    fields = ["issuer", "mrn_system", "fhir_server", "keys", "jwks", "created_at"]
    readonly_fields = fields

    @admin.display(description=_("key ids"))
    def keys(self, client):
        return ", ".join(kid or "-" for kid in client.key_ids)


@admin.register(SmartClient)
class SmartClientAdmin(ReadOnlyAdmin):
    """Registered, mapped and removed with `manage.py smart_client` (audited); listed
    here only, without the client's secret or private key."""

    list_display = ["iss", "client_id", "auth_method", "mrn_system", "created_at"]
    search_fields = ["iss", "client_id"]
    fields = ["iss", "client_id", "auth_method", "mrn_system", "frame_origins", "created_at"]
    readonly_fields = fields
