from django.urls import path, re_path

from . import views

app_name = "api"
urlpatterns = [
    path("evaluate", views.EvaluateView.as_view(), name="evaluate"),
    path("assessments", views.AssessmentsView.as_view(), name="assessments"),
    path("assessments/<int:pk>", views.AssessmentView.as_view(), name="assessment"),
    path("assessments/<int:pk>/amend", views.AmendView.as_view(), name="amend"),
    path("assessments/<int:pk>/void", views.VoidView.as_view(), name="void"),
    path("assessments/<int:pk>/history", views.HistoryView.as_view(), name="history"),
    path("patients/lookup", views.PatientLookupView.as_view(), name="patient_lookup"),
    path("patients/<int:pk>", views.PatientView.as_view(), name="patient"),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.DocsView.as_view(url_name="api:schema"), name="docs"),
    # Anything else under the API, such as assessments/abc: a JSON 404, not the site's page.
    re_path(r"", views.not_found),
]
