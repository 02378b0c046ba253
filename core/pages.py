"""What a page answers when its query or form holds a value it cannot use: a 400 page that
says which value and why (never a 500)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "core/bad_request.html", {"message": message}, status=400)


def id_param(raw: str | None) -> int | None:
    """A positive id typed into a form field, or None when it is not one."""
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) <= 18 else None
