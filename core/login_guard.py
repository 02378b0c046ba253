"""Sign-in throttling (django-axes): who an attempt counts against, and what a locked-out
visitor sees.

Failed attempts are counted per username and per client address (``AXES_LOCKOUT_PARAMETERS``);
past ``LOGIN_FAILURE_LIMIT`` failures either one is locked for ``LOGIN_LOCKOUT_MINUTES``, even
with the right password. Usernames are counted case- and width-insensitively, so ``REP1`` and
``rep1`` share one counter. The client address is the connection's, or the one a trusted proxy
saw (``DJANGO_TRUST_PROXY=1``) — otherwise ``X-Forwarded-For`` is the attacker's to choose.
"""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext


def login_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """The username an attempt counts against: NFKC-normalised, case-folded, trimmed."""
    raw = (credentials or {}).get("username")
    if raw is None and request is not None:
        raw = request.POST.get("username", "")
    return unicodedata.normalize("NFKC", str(raw or "")).casefold().strip()


def client_ip(request: HttpRequest) -> str:
    """The connection's address, or the address the trusted proxy in front of us saw (the last
    ``X-Forwarded-For`` entry, which that proxy appended)."""
    if getattr(settings, "TRUST_PROXY", False):
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded and forwarded[-1]:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR", "")


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """The sign-in page again, saying why the attempt was refused (429)."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    message = ngettext(
        "Too many failed sign-in attempts for this account or from this network. Sign-in is locked for "
        "%(minutes)d minute; try again later, or ask an administrator to unlock it.",
        "Too many failed sign-in attempts for this account or from this network. Sign-in is locked for "
        "%(minutes)d minutes; try again later, or ask an administrator to unlock it.",
        minutes,
    ) % {"minutes": minutes}
    form = AuthenticationForm(request, initial={"username": (credentials or {}).get("username", "")})
    return render(
        request,
        "core/login.html",
        {"form": form, "locked_out": message, "next": request.POST.get("next", "")},
        status=429,
    )
