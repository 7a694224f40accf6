"""What a host name or IP address is: public, or one of the kinds a credential must not reach unasked.

Also the resolver: the guard resolves host names itself, so the address it checks is the address
it connects to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]
"""``(host, port) -> addresses``; raises ``OSError`` when the name does not resolve."""

# Names that only mean something inside a cluster, a host or a private network.
_INTERNAL_SUFFIXES = ("localhost", "local", "localdomain", "internal", "svc", "cluster.local", "home.arpa", "lan")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def ip_literal(host: str) -> IPAddress | None:
    """``host`` as an IP address, or None for a name (``host`` is normalised: no brackets)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def internal_name_kind(host: str) -> str | None:
    """Why ``host`` (normalised, not an IP address) is a cluster-internal name, or None for a public-style name."""
    for suffix in _INTERNAL_SUFFIXES:
        if host == suffix or host.endswith(f".{suffix}"):
            return f"a cluster-internal name ({suffix})"
    if "." not in host:
        return "a single-label name (resolved through the cluster's or host's search domains)"
    return None


def non_public_kind(address: IPAddress) -> str | None:
    """Why ``address`` is not a public internet address, or None when it is one."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return non_public_kind(embedded)
    checks = (
        ("an unspecified address", address.is_unspecified),
        ("a loopback address", address.is_loopback),
        ("a link-local address (where cloud metadata endpoints live)", address.is_link_local),
        ("a multicast address", address.is_multicast),
        ("a private address", address.is_private),
        ("a reserved address", address.is_reserved),
        ("an address that is not publicly routable", not address.is_global),
    )
    return next((kind for kind, applies in checks if applies), None)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), which is where packets end up."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """The addresses the system resolver gives for ``host``, in its order, without repeats."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses
