"""What the rows of a page show, worked out in the view: in the template, a lookup, a
filter or an include for each cell of each row cost more than the page's queries."""

from django.template.loader import render_to_string
from django.utils import formats, timezone


def rendered_once(template_name: str):
    """The partial template, rendered once for each context it is given on a page: a badge
    or a window's state shows one of a few texts, whatever the number of rows."""
    rendered = {}

    def render(**context) -> str:
        key = tuple(context.items())
        if key not in rendered:
            rendered[key] = render_to_string(template_name, context)
        return rendered[key]

    return render


def badge():
    """The recommendation's badge (recommendation, voided), rendered once a page for each."""
    return rendered_once("assessments/_recommendation_badge.html")


def date(value) -> str:
    """What {{ value|date }} shows."""
    return formats.date_format(value)


def date_time(value) -> str:
    """What {{ value|date:"DATETIME_FORMAT" }} shows: in the current time zone."""
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
