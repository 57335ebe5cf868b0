"""The client's address behind the hospital's reverse proxies."""

import ipaddress
from functools import cache

from django.conf import settings


@cache
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _is_proxy(address) -> bool:
    return any(address in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def _address(text: str | None):
    try:
        address = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    if getattr(address, "scope_id", None):  # a link-local zone names our interface
        address = ipaddress.IPv6Address(address.packed)
    # An IPv4 client seen through a dual-stack socket or proxy is that IPv4 address.
    return getattr(address, "ipv4_mapped", None) or address


def canonical(text: str | None) -> str | None:
    """One text form per address (IPv4-mapped as IPv4, IPv6 compressed): what is
    hashed into the audit chain must be what the database gives back, and PostgreSQL's
    inet and Django's field each rewrite another form of the same address."""
    address = _address(text)
    return address.compressed if address is not None else None


def from_proxy(request) -> bool:
    """Whether the connecting peer is one of TRUSTED_PROXIES."""
    peer = _address(request.META.get("REMOTE_ADDR"))
    return peer is not None and _is_proxy(peer)


def client_ip(request) -> str | None:
    """The connecting address, unless it is one of TRUSTED_PROXIES: then the nearest
    address in X-Forwarded-For that is not a proxy. Each proxy appends the address it
    saw, so whatever a client wrote itself stands further left and is never reached;
    a client talking to the app directly is not a proxy and its header is ignored."""
    peer = _address(request.META.get("REMOTE_ADDR"))
    if peer is None or not _is_proxy(peer):
        return peer.compressed if peer is not None else None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    address = peer
    for hop in reversed([hop for hop in forwarded if hop.strip()]):
        address = _address(hop)
        if address is None:
            return None
        if not _is_proxy(address):
            break
    return address.compressed
