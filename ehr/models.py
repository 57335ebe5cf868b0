from django.conf import settings
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


class SmartClient(models.Model):
    """An EHR allowed to launch the app (SMART App Launch 2.x, EHR launch): its FHIR
    base URL (`iss`), the client id it gave the app, how the app authenticates at its
    token endpoint, the identifier system of its MRNs and the origins whose pages may
    frame the launched app.

    Registered and removed with `manage.py smart_client`; the admin only lists them."""

    class Auth(models.TextChoices):
        PUBLIC = "none", _("public client (PKCE only)")
        SECRET = "client_secret_basic", _("client secret")
        PRIVATE_KEY = "private_key_jwt", _("private key (signed assertion)")

    iss = models.URLField(_("FHIR base URL (iss)"), max_length=255, unique=True)
    client_id = models.CharField(_("client id"), max_length=255)
    auth_method = models.CharField(_("client authentication"), max_length=32, choices=Auth)
    # The secret, or the app's private JWKS, given by the EHR's registration: a
    # credential of the app at that EHR, never shown in the admin or a log.
    client_secret = models.CharField(max_length=255, blank=True, editable=False)
    private_jwks = models.JSONField(null=True, blank=True, editable=False)
    mrn_system = models.CharField(_("MRN identifier system"), max_length=255)
    frame_origins = models.JSONField(_("origins that may frame the app"), default=list)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("SMART launch client")
        verbose_name_plural = _("SMART launch clients")
        ordering = ["iss"]

    def __str__(self):
        return self.iss


class SmartUser(models.Model):
    """Who a `fhirUser` of a launching EHR is here: a launch logs in only a user mapped
    beforehand (`manage.py smart_client map-user`); it creates none and gives no role."""

    client = models.ForeignKey(SmartClient, on_delete=models.CASCADE, related_name="users")
    fhir_user = models.CharField(_("fhirUser"), max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("SMART user mapping")
        verbose_name_plural = _("SMART user mappings")
        constraints = [
            models.UniqueConstraint(fields=["client", "fhir_user"], name="ehr_smart_user_once"),
        ]

    def __str__(self):
        return self.fhir_user


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
