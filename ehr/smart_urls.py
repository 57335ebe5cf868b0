from django.urls import path

from . import smart_views

app_name = "smart"
urlpatterns = [
    path("launch", smart_views.launch, name="launch"),
    path("callback", smart_views.callback, name="callback"),
]
