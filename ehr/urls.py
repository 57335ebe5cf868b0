from django.urls import path

from . import views

app_name = "ehr"
urlpatterns = [
    path("cds-services", views.discovery, name="discovery"),
    path("cds-services/<slug:service_id>", views.service, name="service"),
    path("cds-services/<slug:service_id>/feedback", views.feedback, name="feedback"),
    path(
        "fhir/RiskAssessment/<int:pk>",
        views.RiskAssessmentView.as_view(),
        name="fhir_risk_assessment",
    ),
]
