"""The audit trail's actions and their labels, from every app.

The trail does not know its consumers: each app registers its own actions (a
TextChoices) when it loads, and AuditEvent.action takes its choices from here,
through a callable that migrations do not freeze, so a new action in another app
needs no assessments migration.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import models

_owners: dict[str, type[models.TextChoices]] = {}


def register(actions: type[models.TextChoices]) -> type[models.TextChoices]:
    """Add an app's actions; a value another class registered is refused."""
    for action in actions:
        owner = _owners.setdefault(action.value, actions)
        if owner is not actions:
            raise ImproperlyConfigured(
                f"The audit action {action.value!r} is registered by {owner.__qualname__} "
                f"and {actions.__qualname__}."
            )
    return actions


def choices() -> list[tuple[str, str]]:
    """Every registered action and its label, in the order they were registered."""
    return [(value, owner(value).label) for value, owner in _owners.items()]
