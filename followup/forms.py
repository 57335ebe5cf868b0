"""The follow-up events' forms: one form per kind, each checking its dates against the
patient's record; with `event`, an amendment, which also takes a reason and the version."""

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from assessments.forms import VoidForm
from assessments.forms.fields import (
    CodeField,
    DateField,
    FocusFirstErrorMixin,
    RadioSelect,
    ReasonField,
    TextField,
    VersionField,
)
from assessments.models import Assessment, FollowUpEvent

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AssessmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return gettext("Resection %(resected)s: %(recommendation)s (assessed %(assessed)s)") % {
            "resected": date_format(obj.resection_date),
            "recommendation": obj.get_recommendation_display(),
            "assessed": date_format(timezone.localtime(obj.created_at)),
        }


def event_date(label) -> DateField:
    """An event's date, labelled for its kind; EventForm.clean_date checks it."""
    return DateField(
        label=label,
        widget=DATE_WIDGET,
        help_text=_(
            "Not in the future, and not before the resection: pick it in the calendar, or "
            "type it in the order the box shows."
        ),
        error_messages={"invalid": _("Enter a date, such as 2026-03-31.")},
    )


class EventForm(FocusFirstErrorMixin, forms.Form):
    kind = ""  # each form's FollowUpEvent.Kind
    date = event_date(_("Date"))

    def __init__(self, *args, patient, event: FollowUpEvent | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        self.event = event
        self.fields["notes"] = TextField(
            label=_("Notes"),
            required=False,
            max_length=5000,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text=_("Optional, at most 5,000 characters. No patient names."),
        )
        if event is not None:
            self.fields["change_reason"] = ReasonField(
                label=_("Reason for change"),
                help_text=_(
                    "Why the event is amended (at least 5 characters). Kept in the history."
                ),
            )
            self.fields["version"] = VersionField()
        self.fields["surgery_day_confirmed"] = forms.BooleanField(
            label=_("The event happened on the day of the resection"),
            required=False,
            help_text=_(
                "Needed only when the date is a resection's date. The outcomes count the event "
                "for the resection before it, or at day 0 for the patient's first resection."
            ),
        )

    def other_events(self):
        events = self.patient.events.exclude(status=FollowUpEvent.Status.VOIDED)
        return events.exclude(pk=self.event.pk) if self.event else events

    def clean_date(self):
        value = self.cleaned_data["date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        resections = self.patient.assessments.exclude(status=Assessment.Status.VOIDED)
        first = resections.order_by("resection_date").values_list("resection_date", flat=True)
        if first and value < first[0]:
            raise forms.ValidationError(
                _("This is before the resection, on %(date)s.") % {"date": date_format(first[0])}
            )
        death = self.other_events().filter(kind=FollowUpEvent.Kind.DEATH).first()
        if death and value > death.date:
            raise forms.ValidationError(
                _("The patient's death is recorded on %(date)s: no event can come after it.")
                % {"date": date_format(death.date)}
            )
        return value

    def clean(self):
        data = super().clean()
        day = data.get("date")
        resections = self.patient.assessments.exclude(status=Assessment.Status.VOIDED)
        if (
            day
            and not data.get("surgery_day_confirmed")
            and resections.filter(resection_date=day).exists()
        ):
            self.add_error(
                "surgery_day_confirmed",
                _(
                    "%(date)s is the day of a resection: tick the box to confirm the event "
                    "happened on the day of surgery, or correct the date."
                )
                % {"date": date_format(day)},
            )
        return data


class SessionForm(EventForm):
    kind = FollowUpEvent.Kind.TACE_SESSION
    assessment = AssessmentChoiceField(
        label=_("The assessment it follows"),
        queryset=Assessment.objects.none(),
        widget=RadioSelect,
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of this patient's assessments.")},
    )
    complications = CodeField(
        label=_("Complications"), choices=FollowUpEvent.Complications.choices, widget=RadioSelect
    )
    complication_details = TextField(
        label=_("Complication details"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional, at most 1,000 characters: what happened, and how it was treated."),
    )

    def __init__(self, *args, patient, event=None, **kwargs):
        super().__init__(*args, patient=patient, event=event, **kwargs)
        choices = patient.assessments.exclude(status=Assessment.Status.VOIDED)
        if event is not None and event.assessment_id:
            choices = choices | patient.assessments.filter(pk=event.assessment_id)
        self.fields["assessment"].queryset = choices.order_by("-resection_date", "-created_at")
        if event is None and not self.is_bound:
            self.initial.setdefault("assessment", self.fields["assessment"].queryset.first())

    def clean(self):
        data = super().clean()
        assessment, day = data.get("assessment"), data.get("date")
        if assessment and day and day < assessment.resection_date:
            self.add_error(
                "date",
                _("A session follows its assessment's resection, on %(date)s.")
                % {"date": date_format(assessment.resection_date)},
            )
        return data


class RecurrenceForm(EventForm):
    kind = FollowUpEvent.Kind.RECURRENCE
    date = event_date(_("Date of detection"))
    recurrence_site = CodeField(
        label=_("Site"), choices=FollowUpEvent.Site.choices, widget=RadioSelect
    )
    found_by = CodeField(
        label=_("How it was found"), choices=FollowUpEvent.FoundBy.choices, widget=RadioSelect
    )


class FollowUpVisitForm(EventForm):
    kind = FollowUpEvent.Kind.NO_RECURRENCE
    date = event_date(_("Date seen recurrence-free"))


class DeathForm(EventForm):
    kind = FollowUpEvent.Kind.DEATH
    date = event_date(_("Date of death"))
    death_cause = CodeField(
        label=_("Cause"), choices=FollowUpEvent.Cause.choices, widget=RadioSelect
    )

    def clean_date(self):
        others = self.other_events()
        if death := others.filter(kind=FollowUpEvent.Kind.DEATH).first():
            raise forms.ValidationError(
                _("A death is already recorded for this patient, on %(date)s.")
                % {"date": date_format(death.date)}
            )
        value = super().clean_date()
        if later := others.filter(date__gt=value).order_by("-date").first():
            raise forms.ValidationError(
                _("An event is recorded on %(date)s, after this date: correct it first.")
                % {"date": date_format(later.date)}
            )
        return value


EVENT_FORMS = {
    form.kind: form for form in (SessionForm, RecurrenceForm, FollowUpVisitForm, DeathForm)
}


class EventVoidForm(VoidForm):
    reason = ReasonField(
        label=_("Reason for voiding"),
        help_text=_("Why this event is void (at least 5 characters). Shown with it."),
    )
