"""The client's address behind the hospital's reverse proxies."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address the outermost
    one saw: each proxy appends to X-Forwarded-For, so it is that many entries from
    the right; whatever a client wrote itself stands further left and is ignored."""
    address = request.META.get("REMOTE_ADDR")
    if count := settings.TRUSTED_PROXY_COUNT:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        hops = [hop.strip() for hop in forwarded if hop.strip()]
        if len(hops) >= count:
            address = hops[-count]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
