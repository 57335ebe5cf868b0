from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpResponse
from simple_history.admin import SimpleHistoryAdmin

from . import audit, rules
from .models import Assessment, AuditEvent, Patient


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records change only through the application, with a reason; never deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Patient)
class PatientAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ["mrn", "created_at"]
    search_fields = ["mrn"]


EXPORT_FIELDS = [
    "id",
    "patient__mrn",
    "resection_date",
    *Assessment.RULE_INPUTS,
    *Assessment.PANEL_INPUTS,
    *Assessment.RESULT,
    *Assessment.LIVER_FUNCTION,
    "status",
    "created_by__username",
    "created_at",
    "notes",
]


class RulesetFilter(admin.SimpleListFilter):
    """The rulesets the engine knows: Django's default filter reads every row for them."""

    title = "ruleset"
    parameter_name = "ruleset"

    def lookups(self, request, model_admin):
        return [(ruleset, f"Ruleset {ruleset}") for ruleset in rules.RULESETS]

    def queryset(self, request, queryset):
        return queryset.filter(ruleset=self.value()) if self.value() else queryset


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
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

    @admin.action(description="Export the selected assessments as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        audit.log_event(
            action=AuditEvent.Action.EXPORT,
            request=request,
            detail={"what": "assessments", "ids": sorted(queryset.values_list("pk", flat=True))},
        )
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="assessments.csv"'
        audit.write_csv(response, EXPORT_FIELDS, queryset.values_list(*EXPORT_FIELDS))
        return response


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

    @admin.display(description="roles")
    def roles(self, user):
        names = sorted(group.name for group in user.groups.all())
        if user.is_superuser:
            names.insert(0, "Administrator")
        return ", ".join(names) or "none"


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), RolesUserAdmin)
