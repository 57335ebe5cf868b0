"""Throttling per token (or session user) and per client address; 429 with Retry-After.

The rates are read from settings.API_THROTTLE_RATES on every request, not once at
import as DRF's throttles do. Counts live in Django's cache: with the default local
memory cache each server process counts on its own.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from common import proxy

from .models import ApiToken


class _Throttle(SimpleRateThrottle):
    def get_rate(self):
        return settings.API_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class AddressRateThrottle(_Throttle):
    """Every request, before authentication: wrong tokens count too."""

    scope = "address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": proxy.client_ip(request)}


class TokenRateThrottle(_Throttle):
    scope = "token"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}
