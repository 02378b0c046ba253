"""Sign-in, sign-out, the role-aware home page, the health check and the CSV upload page."""

from __future__ import annotations

import sys

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import health, outages


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: an outage raised outside a view (the session read by the sign-in check,
    the session saved on the way out) still answers 503 (``core.outages``); a bug answers 500."""
    exc = sys.exc_info()[1]
    dependency = outages.dependency_of(exc)
    if dependency:
        return outages.outage_response(request, dependency, exc)
    return defaults.server_error(request)


class SopLoginView(auth_views.LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True


class SopLogoutView(auth_views.LogoutView):
    pass


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Within 2 s whatever is down; fixed words only (no host, port or driver message)."""
    checks = health.report()
    body = {"status": "ok" if all(ok for ok, _detail in checks.values()) else "degraded"}
    body |= {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()}
    down = [name for name, (ok, _detail) in checks.items() if not ok]
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)
