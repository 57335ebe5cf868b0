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
