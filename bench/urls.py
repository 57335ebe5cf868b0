"""The site's URLs and two bare views, the practical limit of a page through the
site's full middleware: one anonymous, one behind the login (session and user)."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import include, path


def bare(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/bare", login_not_required(bare)),
    path("bench/bare-logged-in", bare),
    path("", include("tace_site.urls")),
]
