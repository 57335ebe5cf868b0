from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def plain(value):
    """A Decimal without trailing zeros or exponent: 3.40 -> 3.4, 100.00 -> 100."""
    if not isinstance(value, Decimal):
        return value
    return format(value.normalize(), "f")
