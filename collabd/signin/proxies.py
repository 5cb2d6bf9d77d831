"""An authenticating proxy's user header (oauth2-proxy's `X-Auth-Request-User`, ...), believed
only when the TCP peer is one of the configured proxies: anyone else could send the header."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping

from collabd.auth import User
from collabd.sync.presence import name_ok

log = logging.getLogger("collabd.signin")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_WARNED = 1000  # untrusted peers already logged (a bound on memory, not a promise)


def networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """The proxies' addresses and CIDRs; a bad entry stops the start with a clear message."""
    found = []
    for entry in entries:
        try:
            found.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"COLLABD_TRUSTED_PROXIES: {entry!r} is not an address or CIDR"
            ) from None
    return tuple(found)


def trusted(peer: str | None, allowed: tuple[Network, ...]) -> bool:
    """Whether the TCP peer's address is one of the proxies'."""
    if not peer:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:  # a unix socket, or a test client's made-up host
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in allowed)


class TrustedHeader:
    """Reads the user from the header on requests from the proxies; ignores it otherwise (and
    says so in the log, once per peer address)."""

    def __init__(self, header: str, proxies: tuple[str, ...], admins: tuple[str, ...]) -> None:
        self.header = header.lower()
        self.proxies = networks(proxies)
        self.admins = frozenset(admins)
        self._warned: set[str] = set()

    def user(self, headers: Mapping[str, str], peer: str | None) -> User | None:
        value = headers.get(self.header)
        if value is None:
            return None
        if not trusted(peer, self.proxies):
            self._warn(peer)
            return None
        name = value.strip()
        if not name or not name_ok(name):
            return None
        return User(name, admin=name in self.admins)

    def _warn(self, peer: str | None) -> None:
        key = peer or "?"
        if key in self._warned or len(self._warned) >= MAX_WARNED:
            return
        self._warned.add(key)
        log.warning(
            "ignored the %s header from %s, which is not one of COLLABD_TRUSTED_PROXIES",
            self.header,
            key,
        )
