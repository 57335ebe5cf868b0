from django.urls import path

from . import followup, views, worklist

app_name = "assessments"
urlpatterns = [
    path("", worklist.worklist, name="worklist"),
    path("assessments/", views.assessment_list, name="list"),
    path("assessments/export/", worklist.assessment_export, name="export"),
    path("assessments/new/", views.assessment_create, name="create"),
    path("assessments/<int:pk>/", views.assessment_detail, name="detail"),
    path("assessments/<int:pk>/edit/", views.assessment_edit, name="edit"),
    path("assessments/<int:pk>/sign/", views.assessment_sign, name="sign"),
    path("assessments/<int:pk>/void/", views.assessment_void, name="void"),
    path("assessments/<int:pk>/history/", views.assessment_history, name="history"),
    path("assessments/<int:pk>/print/", worklist.assessment_print, name="print"),
    path("assessments/<int:pk>/reevaluate/", views.assessment_reevaluate, name="reevaluate"),
    path("assessments/preview/", views.assessment_preview, name="preview"),
    path("assessments/<int:pk>/edit/preview/", views.amendment_preview, name="edit_preview"),
    path(
        "assessments/<int:pk>/reevaluate/preview/",
        views.amendment_preview,
        {"reevaluate": True},
        name="reevaluate_preview",
    ),
    path("rules/", views.rules_page, name="rules"),
    path("patients/<int:pk>/", views.patient_detail, name="patient"),
    path("patients/<int:pk>/events/new/<str:kind>/", followup.event_create, name="event_create"),
    path("events/<int:pk>/", followup.event_detail, name="event"),
    path("events/<int:pk>/edit/", followup.event_edit, name="event_edit"),
    path("events/<int:pk>/void/", followup.event_void, name="event_void"),
    path("audit/", views.audit_log, name="audit_log"),
    path("audit/export/", views.audit_export, name="audit_export"),
]
