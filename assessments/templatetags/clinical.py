from decimal import Decimal

from django import template

from assessments import models

register = template.Library()


@register.filter
def plain(value):
    """A Decimal without trailing zeros or exponent: 3.40 -> 3.4, 100.00 -> 100."""
    if not isinstance(value, Decimal):
        return value
    return format(value.normalize(), "f")


@register.filter
def detail_text(detail: dict) -> str:
    """An audit event's detail as 'key: value; ...', lists as their items.

    Keys sorted: PostgreSQL's jsonb keeps no order of its own."""
    return "; ".join(
        f"{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
        for key, value in sorted(detail.items())
    )


register.filter("code_labels", models.code_labels)
