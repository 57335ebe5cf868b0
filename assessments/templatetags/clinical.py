from decimal import ROUND_HALF_UP, Decimal

from django import template

from assessments import models, rules

register = template.Library()


@register.filter
def plain(value):
    """A Decimal without trailing zeros or exponent: 3.40 -> 3.4, 100.00 -> 100."""
    if not isinstance(value, Decimal):
        return value
    return format(value.normalize(), "f")


UNITS = {**rules.BILIRUBIN_UNITS, **rules.ALBUMIN_UNITS}
# Each lab unit: the other unit, the conversion to it (the engine's factors), the places shown.
CONVERSIONS = {
    "umol_l": ("mg_dl", lambda v: v / rules.BILIRUBIN_UMOL_PER_MG_DL, Decimal("0.01")),
    "mg_dl": ("umol_l", lambda v: v * rules.BILIRUBIN_UMOL_PER_MG_DL, Decimal("0.1")),
    "g_l": ("g_dl", lambda v: v / rules.ALBUMIN_G_L_PER_G_DL, Decimal("0.01")),
    "g_dl": ("g_l", lambda v: v * rules.ALBUMIN_G_L_PER_G_DL, Decimal("0.1")),
}


@register.filter
def in_other_unit(value: Decimal, unit: str) -> str:
    """A lab value in the other unit, in decimal arithmetic: 2.5, "umol_l" -> "0.15 mg/dL"."""
    other, convert, places = CONVERSIONS[unit]
    return f"{plain(convert(value).quantize(places, rounding=ROUND_HALF_UP))} {UNITS[other]}"


register.filter("code_labels", models.code_labels)


@register.filter
def unit_label(unit: str) -> str:
    return UNITS[unit]


@register.filter
def person(user) -> str:
    """A user as people read them: the full name, or the user name where none is set."""
    return models.person_name(user)


@register.filter
def confirm_box(form, name: str):
    """The "value is correct" box beside an unusual value, if the form asks for one."""
    return form.confirm_box(name) if hasattr(form, "confirm_box") else None
