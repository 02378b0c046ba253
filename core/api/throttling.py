"""Rate limits per API client (``ApiClient.rate_limit`` or the default), per user otherwise."""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle


class ClientRateThrottle(SimpleRateThrottle):
    scope = "client"

    def allow_request(self, request, view):
        client = getattr(request.user, "api_client", None)
        if client is not None and client.rate_limit:
            self.rate = client.rate_limit
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        client = getattr(user, "api_client", None)
        ident = f"client-{client.pk}" if client is not None else f"user-{user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
