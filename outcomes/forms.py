"""The outcomes page's filters: a form, so a value outside the choices is refused with
the field named, never read as "all"."""

from django import forms
from django.utils.translation import gettext_lazy as _

from assessments import rules
from assessments.forms import FocusFirstErrorMixin

from . import report

LANDMARK_MIN, LANDMARK_MAX = 28, 365


class OutcomesFilterForm(FocusFirstErrorMixin, forms.Form):
    year = forms.TypedChoiceField(
        label=_("Year of resection"),
        coerce=int,
        empty_value=None,
        required=False,
        error_messages={
            "invalid_choice": _(
                "Choose a year from the list (resections are recorded from %(first)s to %(last)s)."
            )
        },
    )
    ruleset = forms.ChoiceField(
        label=_("Ruleset that first gave the recommendation"),
        required=False,
        error_messages={"invalid_choice": _("Choose a ruleset from the list.")},
    )
    landmark = forms.IntegerField(
        label=_("Landmark, days after resection"),
        required=False,
        min_value=LANDMARK_MIN,
        max_value=LANDMARK_MAX,
        help_text=_("For the comparison by TACE given: 28 to 365 days; 42 if left empty."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": _("Enter a whole number of days, such as 42."),
            "min_value": _("The landmark is at least 28 days (the window's start)."),
            "max_value": _("The landmark is at most 365 days."),
        },
    )

    def __init__(self, data=None, *, years: list[int]):
        super().__init__(data)
        self.years = years
        self.fields["year"].choices = [("", _("All years"))] + [(y, y) for y in years]
        if years:
            messages = self.fields["year"].error_messages
            messages["invalid_choice"] = messages["invalid_choice"] % {
                "first": years[-1],
                "last": years[0],
            }
        else:
            self.fields["year"].error_messages["invalid_choice"] = _(
                "No resection is recorded yet: leave the year empty."
            )
        self.fields["ruleset"].choices = [("", _("All rulesets"))] + [
            (code, _("Ruleset %(ruleset)s") % {"ruleset": code}) for code in rules.RULESETS
        ]

    def filters(self) -> report.Filters:
        data = self.cleaned_data
        return report.Filters(
            year=data["year"],
            ruleset=data["ruleset"] or None,
            landmark=data["landmark"] or report.LANDMARK_DAYS,
        )
