from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from knox.models import AbstractAuthToken


class ApiToken(AbstractAuthToken):
    """A hashed API token (django-rest-knox keeps only a digest), with a name.

    Knox's own token model is swapped for this one (KNOX_TOKEN_MODEL) so that each
    token carries the name an administrator revokes it by and the audit log shows.
    """

    name = models.CharField(
        max_length=64,
        unique=True,
        help_text="Which system uses the token, such as ehr-integration. Shown in the audit log.",
    )

    class Meta:
        verbose_name = "API token"
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def is_expired(self) -> bool:
        return self.expiry is not None and self.expiry <= timezone.now()


class IdempotencyKey(models.Model):
    """The first answer to a create sent with an `Idempotency-Key` header, kept 24 hours
    per user: the same key and body answer it again; another body with it is refused."""

    TTL = timedelta(hours=24)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the decoded body in a canonical form (key order and spacing aside).
    body_digest = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    response = models.TextField()
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_key_per_user")
        ]

    def __str__(self):
        return self.key
