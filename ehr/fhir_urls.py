from django.urls import path, re_path

from . import fhir_views

urlpatterns = [
    path("metadata", fhir_views.MetadataView.as_view(), name="fhir_metadata"),
    path("RiskAssessment", fhir_views.RiskAssessmentSearchView.as_view(), name="fhir_search"),
    path(
        "RiskAssessment/_search",
        fhir_views.RiskAssessmentSearchView.as_view(),
        name="fhir_search_post",
    ),
    path(
        "RiskAssessment/<int:pk>",
        fhir_views.RiskAssessmentView.as_view(),
        name="fhir_risk_assessment",
    ),
    path(
        "RiskAssessment/<int:pk>/_history/<int:version>",
        fhir_views.RiskAssessmentVersionView.as_view(),
        name="fhir_vread",
    ),
    # Anything else under /fhir/: an OperationOutcome, not the site's HTML page.
    re_path(r"", fhir_views.not_found),
]
