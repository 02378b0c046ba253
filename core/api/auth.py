"""Bearer-token authentication for API clients (ERP systems)."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone
from rest_framework import authentication, exceptions

from core.models import ApiToken

TOKEN_PREFIX = "sop_"


def hash_token(token: str) -> str:
    # Tokens are 256-bit random strings, so a fast hash is as safe as a slow one here.
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header:
            return None
        parts = header.split()
        if parts[0].lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer <token>'.")
        now = timezone.now()
        token = (
            ApiToken.objects.usable(now)
            .select_related("client", "client__user")
            .filter(token_hash=hash_token(parts[1]))
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed()
        # Record use at most once a minute: no write per request on the hot ingest path.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        user = token.client.user
        user.api_client = token.client
        return user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
