"""Outbound HTTP to addresses a customer chose (webhook endpoints): the SSRF guard.

``public_addresses(host, port)`` resolves a host and refuses it unless every address it
resolves to is public — no loopback, private (RFC 1918, ULA), link-local (and so the cloud
metadata service at 169.254.169.254), IPv6 site-local fec0::/10, CGNAT 100.64/10 (Alibaba Cloud's metadata at
100.100.100.200), multicast, reserved, unspecified or documentation ranges, nor those hidden in
IPv4-mapped, NAT64 or 6to4 IPv6 addresses. ``allow_loopback`` (development and tests) lets
127.0.0.0/8 and ::1 through. The caller then connects to one of the addresses it got back, not
to the name again, so a DNS answer that changes between the check and the connection (DNS
rebinding) cannot send the request elsewhere.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from enum import StrEnum

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

NAT64 = ipaddress.ip_network("64:ff9b::/96")
SIXTOFOUR = ipaddress.ip_network("2002::/16")


class Refusal(StrEnum):
    UNRESOLVABLE = "unresolvable"
    NOT_PUBLIC = "not_public"


@dataclass
class OutboundRefused(Exception):
    reason: Refusal
    address: str = ""

    def __str__(self) -> str:
        return f"{self.reason}: {self.address}" if self.address else str(self.reason)


def _embedded_v4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip in SIXTOFOUR:
            return ip.sixtofour
    return None


def is_loopback(ip: IPAddress) -> bool:
    inner = _embedded_v4(ip)
    return (inner or ip).is_loopback


def is_public(ip: IPAddress) -> bool:
    inner = _embedded_v4(ip)
    if inner is not None:
        return is_public(inner)
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or ip.is_link_local
        or ip.is_loopback
        or ip.is_private
        # Deprecated IPv6 site-local (fec0::/10): Python counts it as global, networks may not.
        or getattr(ip, "is_site_local", False)
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (tests replace this to simulate DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


def public_addresses(host: str, port: int, *, allow_loopback: bool = False) -> list[IPAddress]:
    """The addresses to connect to for ``host``, all of them allowed; raises OutboundRefused
    when the name does not resolve or any address it resolves to is not allowed (one bad
    answer among good ones is refused: the client could pick any of them)."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        found = [literal]
    else:
        try:
            found = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolve(host, port)]
        except (OSError, UnicodeError, ValueError):
            raise OutboundRefused(Refusal.UNRESOLVABLE) from None
    if not found:
        raise OutboundRefused(Refusal.UNRESOLVABLE)
    for ip in found:
        if not (is_public(ip) or (allow_loopback and is_loopback(ip))):
            raise OutboundRefused(Refusal.NOT_PUBLIC, str(ip))
    return list(dict.fromkeys(found))
