from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from assessments import audit
from assessments.models import AuditEvent

from .middleware import LOGGED_OUT_BECAUSE


@login_not_required
@never_cache
@require_safe
def healthz(request):
    """For load balancers and monitoring: does this process reach its database?"""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


class LoginView(auth_views.LoginView):
    """Says why the last session ended (tace_site.middleware), until the next login."""

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "logged_out_because": self.request.session.get(LOGGED_OUT_BECAUSE),
        }

    def form_valid(self, form):
        self.request.session.pop(LOGGED_OUT_BECAUSE, None)
        return super().form_valid(form)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's view, with the app's template; the audit log records the change."""

    template_name = "registration/change_password.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        audit.log_event(action=AuditEvent.Action.PASSWORD_CHANGED, request=self.request)
        return response
