from django.db import models
from django.utils.translation import gettext_lazy as _


class CdsClient(models.Model):
    """An EHR allowed to call the CDS Hooks services: its issuer, its public keys (a
    JWKS stored here at registration, never fetched from a URL a token names), the
    identifier system under which its Patient resources carry the hospital's MRN, and
    the base URL of its FHIR server, the only one the services read with the access
    token a call may pass (none registered: nothing is ever fetched).

    Registered and removed with `manage.py cds_client`; the admin only lists them."""

    issuer = models.CharField(_("issuer"), max_length=255, unique=True)
    jwks = models.JSONField(_("public keys (JWKS)"))
    mrn_system = models.CharField(_("MRN identifier system"), max_length=255)
    fhir_server = models.CharField(_("FHIR server base URL"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("EHR client")
        verbose_name_plural = _("EHR clients")
        ordering = ["issuer"]

    def __str__(self):
        return self.issuer

    @property
    def key_ids(self) -> list[str]:
        return [key.get("kid", "") for key in self.jwks.get("keys", [])]


class SeenToken(models.Model):
    """A JWT id (`jti`) already accepted from a client, kept until its token expires:
    a token presented twice is refused. Rows past their expiry are pruned."""

    client = models.ForeignKey(CdsClient, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "jti"], name="ehr_seen_token_once"),
        ]
        indexes = [models.Index(fields=["expires_at"], name="ehr_seen_token_expiry_idx")]

    def __str__(self):
        return self.jti


class IssuedCard(models.Model):
    """A card the CDS services answered, to the client that called: feedback is taken
    only for these, from that client, at the service that issued it. Rows older than
    ehr.cds.FEEDBACK_DAYS are pruned."""

    uuid = models.UUIDField(unique=True)
    client = models.ForeignKey(CdsClient, on_delete=models.CASCADE, related_name="+")
    service = models.CharField(max_length=64)
    issued_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["issued_at"], name="ehr_issued_card_age_idx")]

    def __str__(self):
        return str(self.uuid)
