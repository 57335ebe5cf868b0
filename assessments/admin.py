from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpResponseNotAllowed
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from common.csvio import csv_response

from . import audit, rules
from .models import Assessment, AuditEvent, FollowUpEvent, Patient, code_labels


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records change only through the application, with a reason; never deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyHistoryAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    """History to read. simple-history's form view saves any POST whatever the
    permissions and SIMPLE_HISTORY_REVERT_DISABLED: it answers GET only, for everybody."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return super().history_form_view(request, object_id, version_id, extra_context)


@admin.register(Patient)
class PatientAdmin(ReadOnlyHistoryAdmin):
    list_display = ["mrn", "created_at"]
    search_fields = ["mrn"]


EXPORT_FIELDS = [
    "id",
    "patient__mrn",
    "resection_date",
    *Assessment.RULE_INPUTS,
    *Assessment.PANEL_INPUTS,
    *Assessment.PATHOLOGY,
    *Assessment.RESULT,
    *Assessment.LIVER_FUNCTION,
    "status",
    "created_by__username",
    "created_at",
    "notes",
]


def _label_of(name: str):
    """How a coded column reads to people, or None for a column of no code."""
    if name in ("risk_factors", "contraindications", "cautions"):
        return code_labels
    field = Assessment._meta.get_field(name) if "__" not in name else None
    if field is None or not field.choices:
        return None
    choices = dict(field.flatchoices)
    return lambda code: choices.get(code, code)


# Each coded column is followed by its label: the codes for machines, the labels for people.
EXPORT_COLUMNS = [(name, _label_of(name)) for name in EXPORT_FIELDS]
EXPORT_HEADER = [
    heading
    for name, label in EXPORT_COLUMNS
    for heading in ([name, f"{name} (label)"] if label else [name])
]


def export_row(row) -> list:
    return [
        cell
        for (name, label), value in zip(EXPORT_COLUMNS, row, strict=True)
        for cell in ([value, label(value)] if label else [value])
    ]


class RulesetFilter(admin.SimpleListFilter):
    """The rulesets the engine knows: Django's default filter reads every row for them."""

    title = _("ruleset")
    parameter_name = "ruleset"

    def lookups(self, request, model_admin):
        return [(r, gettext("Ruleset %(ruleset)s") % {"ruleset": r}) for r in rules.RULESETS]

    def queryset(self, request, queryset):
        return queryset.filter(ruleset=self.value()) if self.value() else queryset


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyHistoryAdmin):
    list_display = [
        "id",
        "patient",
        "recommendation",
        "risk_level",
        "status",
        "ruleset",
        "created_by",
        "created_at",
    ]
    list_filter = [
        "status",
        "recommendation",
        "risk_level",
        RulesetFilter,
        "created_at",
        "created_by",
    ]
    search_fields = ["patient__mrn"]
    list_select_related = ["patient", "created_by"]
    actions = ["export_csv"]

    @admin.action(description=_("Export the selected assessments as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        audit.log_event(
            action=AuditEvent.Action.EXPORT,
            request=request,
            detail={"what": "assessments", "ids": sorted(queryset.values_list("pk", flat=True))},
        )
        rows = map(export_row, queryset.values_list(*EXPORT_FIELDS))
        return csv_response("assessments.csv", EXPORT_HEADER, rows)


@admin.register(FollowUpEvent)
class FollowUpEventAdmin(ReadOnlyHistoryAdmin):
    list_display = ["id", "patient", "kind", "date", "status", "created_by", "created_at"]
    list_filter = ["kind", "status", "date"]
    search_fields = ["patient__mrn"]
    list_select_related = ["patient", "created_by"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["timestamp", "username", "action", "object_type", "object_id", "client_ip"]
    list_filter = ["action", "timestamp"]
    search_fields = ["username", "patient__mrn"]
    list_select_related = ["patient"]


class RolesUserAdmin(UserAdmin):
    """The user list with each user's roles (groups), fetched with the page."""

    list_display = [*UserAdmin.list_display, "roles"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("roles"))
    def roles(self, user):
        names = sorted(group.name for group in user.groups.all())
        if user.is_superuser:
            names.insert(0, gettext("Administrator"))
        return gettext(", ").join(names) or gettext("none")


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), RolesUserAdmin)
