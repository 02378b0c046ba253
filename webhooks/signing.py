"""Webhook signatures, destination checks and the retry schedule.

Pure (standard library only; no Django), so the ERP side's verification can be read here and
tested without a database.

Signature header: ``X-SOP-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`` where the MAC is
taken with the subscription's secret over ``"<t>.<raw body>"`` (bytes). A receiver recomputes
it, compares in constant time and rejects a ``t`` too far from its clock (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

SIGNATURE_HEADER = "X-SOP-Signature"
SECRET_PREFIX = "whsec_"
#: Delays before attempts 2, 3, … (seconds): exponential backoff, 8 attempts over ~11 hours.
RETRY_DELAYS = (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: parse the header, check the time window and the MAC."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        received = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, received)


def retry_delay(attempts_made: int) -> int | None:
    """Seconds to wait after ``attempts_made`` failed attempts; None when it is time to stop."""
    if attempts_made < 1 or attempts_made >= MAX_ATTEMPTS:
        return None
    return RETRY_DELAYS[attempts_made - 1]


class UnsafeDestination(ValueError):
    """The URL may not receive webhooks (scheme, or an address inside the network).

    ``code`` (``scheme``, ``no_host``, ``credentials``, ``bad_port``, ``unresolvable``,
    ``private_address``) and ``params`` let the service layer word it in the user's language;
    ``str()`` is the English wording."""

    def __init__(self, code: str, message: str, **params):
        super().__init__(message)
        self.code = code
        self.params = params


def _forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified


def check_destination(url: str, *, resolve: Callable[[str, int], Iterable[str]], allow_private: bool) -> None:
    """Refuse URLs that are not https or that resolve to private, loopback or link-local
    addresses (server-side request forgery), unless ``allow_private`` (tests, on-premise
    ERPs), which also allows plain http. ``resolve(host, port)`` returns the host's addresses.
    Raises :class:`UnsafeDestination` with the reason."""
    parts = urlsplit(url)
    allowed_schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed_schemes:
        raise UnsafeDestination("scheme", "The URL must use https.")
    if not parts.hostname:
        raise UnsafeDestination("no_host", "The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeDestination("credentials", "The URL may not carry a user name or password.")
    if allow_private:
        return
    try:
        port = parts.port or 443
    except ValueError as exc:
        raise UnsafeDestination("bad_port", "The URL's port is not a number between 0 and 65535.") from exc
    try:
        addresses = list(resolve(parts.hostname, port))
    except OSError as exc:
        raise UnsafeDestination(
            "unresolvable", f"The host '{parts.hostname}' cannot be resolved.", host=parts.hostname
        ) from exc
    if not addresses:
        raise UnsafeDestination("unresolvable", f"The host '{parts.hostname}' cannot be resolved.", host=parts.hostname)
    for address in addresses:
        if _forbidden(address):
            raise UnsafeDestination(
                "private_address",
                f"The host '{parts.hostname}' resolves to {address}, an address inside a private "
                "network; webhooks go to public https endpoints only.",
                host=parts.hostname,
                address=address,
            )
