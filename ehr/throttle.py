"""What an unauthenticated caller can make the CDS endpoints do: a bounded number of
requests per client address, and a bounded number of refusals written to the audit
chain. Counts live in Django's cache (settings.CACHES), as the API's throttles do."""

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from assessments.audit import client_ip

# Per address and window, the first REFUSALS_CHAINED refusals are each an audit event;
# the next one is an event saying that the rest of the window is only counted; those
# counted are reported by the address's next event. Across all addresses, at most
# REFUSALS_CHAINED_ALL events per window: a flood from many addresses is bounded too.
REFUSALS_WINDOW_SECONDS = 600
REFUSALS_CHAINED = 20
REFUSALS_CHAINED_ALL = 200


class AddressThrottle(SimpleRateThrottle):
    """Every call of a CDS endpoint, before its token is read, per client address:
    settings.CDS_THROTTLE_RATE, read on every request."""

    scope = "cds-address"

    def get_rate(self):
        return settings.CDS_THROTTLE_RATE

    def allow_request(self, request, view=None):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}


def _count(key: str) -> int:
    cache.add(key, 0, timeout=2 * REFUSALS_WINDOW_SECONDS)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=2 * REFUSALS_WINDOW_SECONDS)
        return 1


def refusal_to_chain(request) -> dict | None:
    """Whether this refusal is written to the audit chain: None when it is only
    counted, else what its event adds to its detail (the refusals counted, not
    chained, before it; the bound, when this event is the one that reaches it)."""
    address = client_ip(request) or "unknown"
    window = int(time.time() // REFUSALS_WINDOW_SECONDS)
    unchained_key = f"cds-refusals-unchained:{address}"
    mine = _count(f"cds-refusals:{address}:{window}")
    # An address past its own bound does not use up the others' (the count of all).
    everyone = _count(f"cds-refusals:*:{window}") if mine <= REFUSALS_CHAINED + 1 else 0
    if mine > REFUSALS_CHAINED + 1 or everyone > REFUSALS_CHAINED_ALL + 1:
        _count(unchained_key)
        return None
    extra = {}
    unchained = cache.get(unchained_key)
    if unchained:
        cache.delete(unchained_key)
        extra["refusals_counted_not_chained"] = unchained
    if mine == REFUSALS_CHAINED + 1 or everyone == REFUSALS_CHAINED_ALL + 1:
        extra["further_refusals"] = (
            f"counted, not chained, until the end of this {REFUSALS_WINDOW_SECONDS}-second window"
        )
    return extra
