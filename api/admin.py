from django.contrib import admin

from .models import ApiToken
from .tokens import revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made with `manage.py api_token create` (shown once, in the terminal);
    here they are listed and revoked (deleted)."""

    list_display = ["name", "user", "created", "expiry", "expired"]
    list_filter = ["user"]
    search_fields = ["name", "user__username"]
    fields = ["name", "user", "created", "expiry"]
    readonly_fields = fields
    actions = ["revoke_selected"]

    @admin.display(boolean=True)
    def expired(self, token):
        return token.is_expired

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # revoke_selected audits each token
        return actions

    @admin.action(description="Revoke the selected tokens", permissions=["delete"])
    def revoke_selected(self, request, queryset):
        tokens = list(queryset.select_related("user"))
        for token in tokens:
            revoke(token, by=request.user, request=request)
        self.message_user(request, f"Revoked {len(tokens)} token(s).")

    def delete_model(self, request, obj):
        revoke(obj, by=request.user, request=request)
