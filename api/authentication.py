from knox.auth import TokenAuthentication
from rest_framework import exceptions


class BearerTokenAuthentication(TokenAuthentication):
    """`Authorization: Bearer <token>` (REST_KNOX's AUTH_HEADER_PREFIX), checked against
    the stored digests.

    Unlike knox, an expired token is refused but kept: it stays listed in the admin,
    marked expired, until an administrator revokes (deletes) it.
    """

    def authenticate_credentials(self, token):
        try:
            token.decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return super().authenticate_credentials(token)

    def _cleanup_token(self, auth_token) -> bool:
        return auth_token.is_expired
