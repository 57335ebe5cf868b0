from django.urls import path

from .audit import views as audit_views
from .views import assessments, rules_page, sign, worklist
from .views import list as list_page

app_name = "assessments"
urlpatterns = [
    path("", worklist.worklist, name="worklist"),
    path("assessments/", list_page.assessment_list, name="list"),
    path("assessments/export/", list_page.assessment_export, name="export"),
    path("assessments/new/", assessments.assessment_create, name="create"),
    path("assessments/<int:pk>/", assessments.assessment_detail, name="detail"),
    path("assessments/<int:pk>/edit/", assessments.assessment_edit, name="edit"),
    path("assessments/<int:pk>/sign/", sign.assessment_sign, name="sign"),
    path("assessments/<int:pk>/void/", assessments.assessment_void, name="void"),
    path("assessments/<int:pk>/history/", assessments.assessment_history, name="history"),
    path("assessments/<int:pk>/print/", assessments.assessment_print, name="print"),
    path("assessments/<int:pk>/reevaluate/", assessments.assessment_reevaluate, name="reevaluate"),
    path("assessments/preview/", assessments.assessment_preview, name="preview"),
    path("assessments/<int:pk>/edit/preview/", assessments.amendment_preview, name="edit_preview"),
    path(
        "assessments/<int:pk>/reevaluate/preview/",
        assessments.amendment_preview,
        {"reevaluate": True},
        name="reevaluate_preview",
    ),
    path("rules/", rules_page.rules_page, name="rules"),
    path("patients/<int:pk>/", assessments.patient_detail, name="patient"),
    path("audit/", audit_views.audit_log, name="audit_log"),
    path("audit/export/", audit_views.audit_export, name="audit_export"),
]
