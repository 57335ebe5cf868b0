"""What the admin and the api_token command both do to a token."""

from assessments import audit

from .actions import ApiAction
from .models import ApiToken


def revoke(token: ApiToken, *, by, request=None) -> None:
    """Delete the token's digest: nothing can match it any more. The audit log keeps
    that it was revoked, by whom, and whose it was."""
    audit.log_event(
        action=ApiAction.API_TOKEN,
        request=request,
        user=by,
        detail={"change": "revoked", "token": token.name, "owner": token.user.username},
    )
    token.delete()
