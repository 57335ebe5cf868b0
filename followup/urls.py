from django.urls import path

from . import views

# Included in the assessments namespace (tace_site/urls.py): assessments:event, ...
urlpatterns = [
    path("patients/<int:pk>/events/new/<str:kind>/", views.event_create, name="event_create"),
    path("events/<int:pk>/", views.event_detail, name="event"),
    path("events/<int:pk>/edit/", views.event_edit, name="event_edit"),
    path("events/<int:pk>/void/", views.event_void, name="event_void"),
]
