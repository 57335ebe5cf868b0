from django.urls import include, path

from . import views

app_name = "ehr"
urlpatterns = [
    path("cds-services", views.discovery, name="discovery"),
    path("cds-services/<slug:service_id>", views.service, name="service"),
    path("cds-services/<slug:service_id>/feedback", views.feedback, name="feedback"),
    path("fhir/", include("ehr.fhir_urls")),
]
