"""The filters of the lists: the assessment list (and its export), the audit log, and
the API's list of assessments.

On a page, a filter that does not parse is left out, not an error: an old bookmark
still opens the list. The API refuses it, naming the parameter.
"""

import hashlib

from django import forms
from django.core.cache import caches
from django.forms.renderers import Jinja2
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .. import actions, rules
from ..models import Assessment
from .fields import translated

ANY = [("", _("Any"))]
# A row's id: a bigint in every database.
MAX_ID = 2**63 - 1
SORT_LABELS = {
    "-assessed": _("Assessed, newest first"),
    "assessed": _("Assessed, oldest first"),
    "-resection": _("Resection, newest first"),
    "resection": _("Resection, oldest first"),
    "mrn": _("MRN, A to Z"),
    "-mrn": _("MRN, Z to A"),
}
WINDOWS = {"due": _("Due (upcoming, open or closing)"), "passed": _("Passed")}


def text_box(**attrs) -> forms.TextInput:
    return forms.TextInput(attrs={"class": "form-control", **attrs})


def date_box() -> forms.DateInput:
    return forms.DateInput(attrs={"class": "form-control", "type": "date"})


def date_field(label) -> forms.DateField:
    # A date box sends ISO 8601 whatever the language.
    return forms.DateField(
        label=label, required=False, input_formats=["%Y-%m-%d"], widget=date_box()
    )


class ListBox(forms.Select):
    """A list of options drawn once for each language, options, choice and attributes,
    then kept in the base page's "fragments" cache (settings.py): the same HTML for every
    user, holding nobody's data (the choice is one of the options or none)."""

    def render(self, name, value, attrs=None, renderer=None):
        options = tuple((str(key), str(label)) for key, label in self.choices)
        chosen = sorted(set(self.format_value(value)) & {key for key, _ in options})
        drawn = (get_language(), name, options, chosen, sorted((attrs or {}).items()))
        key = "listbox:" + hashlib.sha256(repr(drawn).encode()).hexdigest()
        return caches["fragments"].get_or_set(
            key, lambda: super(ListBox, self).render(name, value, attrs, renderer)
        )


def select(field: forms.Field) -> forms.Field:
    """The field, shown as a ListBox (every filter is optional)."""
    field.widget = ListBox(attrs={"class": "form-select"}, choices=getattr(field, "choices", ()))
    return field


class OneBox(forms.CheckboxInput):
    """A box that, ticked, sends 1 (voided=1, as the list's links have always had it)."""

    def __init__(self, attrs=None):
        super().__init__(attrs, check_test=lambda value: value in (True, "1"))

    def format_value(self, value):
        return "1"

    def value_from_datadict(self, data, files, name):
        return data.get(name) == "1"


class FilterForm(forms.Form):
    # Each request draws every filter's box, list and options: Jinja2 draws Django's own
    # widget templates (django/forms/jinja2, the same HTML, autoescaped) at a fraction of
    # the template language's cost. One renderer, its templates compiled once.
    default_renderer = Jinja2()

    def given(self) -> dict:
        """The filters that parse, by name; the others are left out."""
        self.is_valid()
        return self.cleaned_data


class AssessmentFilterForm(FilterForm):
    """The assessment list's search, filters and sort (its query string)."""

    q = forms.CharField(
        label=_("MRN (exact or beginning)"),
        required=False,
        widget=text_box(type="search", maxlength="32"),
    )
    status = select(
        forms.ChoiceField(
            label=_("Status"),
            required=False,
            choices=[("", _("Draft or signed")), *Assessment.Status.choices],
        )
    )
    recommendation = select(
        forms.ChoiceField(
            label=_("Recommendation"),
            required=False,
            choices=ANY + translated(rules.RECOMMENDATIONS),
        )
    )
    voided = forms.BooleanField(
        label=_("Include voided"),
        required=False,
        widget=OneBox(attrs={"class": "form-check-input"}),
    )
    clinician = select(
        forms.IntegerField(
            label=_("Clinician"),
            required=False,
            min_value=0,
            max_value=MAX_ID,
        )
    )
    window = select(
        forms.ChoiceField(
            label=_("First session window"), required=False, choices=ANY + list(WINDOWS.items())
        )
    )
    assessed_from = date_field(_("Assessed from"))
    assessed_to = date_field(_("Assessed to"))
    resection_from = date_field(_("Resection from"))
    resection_to = date_field(_("Resection to"))
    sort = select(
        forms.ChoiceField(
            label=_("Sort by"),
            required=False,
            choices=list(SORT_LABELS.items()),
            initial="-assessed",
        )
    )

    def __init__(self, *args, clinicians=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].widget.choices = [("", _("Anyone")), *clinicians]


def action_choices() -> list[tuple[str, str]]:
    return ANY + actions.choices()


class AuditFilterForm(FilterForm):
    """The audit log's filters. The MRN is posted, never put in the URL: the page
    redirects to the patient's id instead."""

    user = forms.CharField(label=_("User"), required=False, widget=text_box())
    action = select(forms.ChoiceField(label=_("Action"), required=False, choices=action_choices))
    mrn = forms.CharField(label=_("MRN"), required=False, widget=text_box(maxlength="32"))
    patient = forms.IntegerField(required=False, min_value=0, max_value=MAX_ID)
    date_from = date_field(_("From (date)"))
    date_to = date_field(_("To (date)"))


class ApiAssessmentFilterForm(forms.Form):
    """The API list's filters; one that does not parse is refused. In English, as the
    API's description is."""

    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=Assessment.Status.choices,
        help_text="Only this status; without it, voided assessments are left out.",
    )
    recommendation = forms.ChoiceField(
        label="Recommendation", required=False, choices=list(rules.RECOMMENDATIONS.items())
    )
    created_from = forms.DateField(
        label="Created from",
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text="Created on or after this day (the site's time zone).",
    )
    created_to = forms.DateField(
        label="Created to",
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text="Created on or before this day.",
    )
