from django.urls import path

from . import views

# Included in the assessments namespace (tace_site/urls.py): assessments:outcomes.
urlpatterns = [
    path("outcomes/", views.outcomes_page, name="outcomes"),
    path("outcomes/<slug:chart>.csv", views.outcomes_csv, name="outcomes_csv"),
]
