from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Assessment, Patient


@admin.register(Patient)
class PatientAdmin(SimpleHistoryAdmin):
    list_display = ["mrn", "created_at"]
    search_fields = ["mrn"]


@admin.register(Assessment)
class AssessmentAdmin(SimpleHistoryAdmin):
    list_display = [
        "id",
        "patient",
        "recommendation",
        "risk_level",
        "ruleset",
        "created_by",
        "created_at",
    ]
    list_filter = ["recommendation", "risk_level", "ruleset", "created_at"]
    search_fields = ["patient__mrn"]
    list_select_related = ["patient", "created_by"]
