"""Rate limits per API client (``ApiClient.rate_limit`` or the default), per user otherwise.

Counters live in the shared cache (Redis in the full stack) so every web process counts
together. When that cache is refused or hung (short socket timeouts, config/settings.py)
the limit is counted in this process instead, with a logged warning, and the shared cache is
tried again after ``SHARED_RETRY_SECONDS``: an outage of Redis never fails an API call.
"""

from __future__ import annotations

import logging
import time

import redis.exceptions
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import SimpleRateThrottle

log = logging.getLogger(__name__)

SHARED_RETRY_SECONDS = 15
CACHE_ERRORS = (redis.exceptions.RedisError, OSError)
LOCAL_COUNTERS = LocMemCache("rate-limits-in-this-process", {"MAX_ENTRIES": 10_000})


class ClientRateThrottle(SimpleRateThrottle):
    scope = "client"
    shared_down_until = 0.0  # monotonic time until which this process counts locally

    def allow_request(self, request, view):
        client = getattr(request.user, "api_client", None)
        if client is not None and client.rate_limit:
            self.rate = client.rate_limit
            self.num_requests, self.duration = self.parse_rate(self.rate)
        if time.monotonic() >= ClientRateThrottle.shared_down_until:
            try:
                return super().allow_request(request, view)
            except CACHE_ERRORS as exc:
                ClientRateThrottle.shared_down_until = time.monotonic() + SHARED_RETRY_SECONDS
                log.warning(
                    "rate limits: the shared cache is unreachable (%s: %s); counting in this process for the next %s s",
                    type(exc).__name__,
                    exc,
                    SHARED_RETRY_SECONDS,
                )
        self.cache = LOCAL_COUNTERS
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        client = getattr(user, "api_client", None)
        ident = f"client-{client.pk}" if client is not None else f"user-{user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
