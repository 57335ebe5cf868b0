from django.urls import include, path, re_path

from . import views

app_name = "ehr"
urlpatterns = [
    path("cds-services", views.discovery, name="discovery"),
    path("cds-services/<slug:service_id>", views.service, name="service"),
    path("cds-services/<slug:service_id>/feedback", views.feedback, name="feedback"),
    # Anything else under cds-services: a JSON 404, never the HTML page.
    re_path(r"^cds-services/(?P<rest>.*)$", views.not_found),
    path("fhir/", include("ehr.fhir_urls")),
]
