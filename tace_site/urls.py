from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from assessments import urls as assessment_urls
from followup import urls as followup_urls
from outcomes import urls as outcome_urls

from . import views

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/change_password_done.html"
        ),
        name="password_change_done",
    ),
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    # The language menu is on every page, the login page included.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("api/v1/", include("api.urls")),
    path("smart/", include("ehr.smart_urls")),
    path("", include("ehr.urls")),
    # The follow-up events and the outcomes keep their names in the assessments namespace.
    path(
        "",
        include(
            (
                assessment_urls.urlpatterns + followup_urls.urlpatterns + outcome_urls.urlpatterns,
                assessment_urls.app_name,
            )
        ),
    ),
]
