"""What the pages of every versioned, voidable record share, whichever app shows the
record (assessments here, follow-up events in followup/): the record a URL names, the
redirect when a service refuses a change, and the void page."""

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from . import services
from .models import Assessment, VersionedRecord


def assessment_or_404(pk) -> Assessment:
    return get_object_or_404(
        Assessment.objects.select_related("patient", "created_by", "signed_by", "voided_by"),
        pk=pk,
    )


def refusal_redirect(request, record, check=services.check_changeable):
    """A redirect to the record, saying why, if the service refuses the action."""
    try:
        check(record)
    except services.Refused as refusal:
        messages.error(request, str(refusal))
        return redirect(record)
    return None


@dataclass(frozen=True)
class VoidPage:
    """A record type's void page: its form, and its texts (the title takes the names the
    view gives). Its view checks the permission."""

    form_class: type[forms.Form]
    title: str
    explanation: str
    button: str
    done: str

    def __call__(self, request, record: VersionedRecord, **names):
        """Ask the reason, void the record through services.void_record, back to it."""
        if refused := refusal_redirect(request, record):
            return refused
        data = request.POST if request.method == "POST" else None
        form = self.form_class(data, initial={"version": record.version})
        if form.is_valid():
            try:
                services.void_record(
                    record=record,
                    user=request.user,
                    reason=form.cleaned_data["reason"],
                    version=form.cleaned_data["version"],
                )
            except services.Refused as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, self.done)
                return redirect(record)
        texts = {"title": self.title % names, "explanation": self.explanation}
        return render(
            request,
            "assessments/record_void.html",
            {"form": form, "record": record, "button": self.button, **texts},
        )
