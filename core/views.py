"""Sign-in, sign-out, the role-aware home page and the health check."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import health, selectors


class SopLoginView(auth_views.LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True


class SopLogoutView(auth_views.LogoutView):
    pass


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", selectors.home_context(user=request.user))


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    db_ok, db_detail = health.database_status()
    broker_ok, broker_detail = health.broker_status()
    body = {
        "status": "ok" if db_ok and broker_ok else "degraded",
        "database": {"ok": db_ok, "detail": db_detail},
        "broker": {"ok": broker_ok, "detail": broker_detail},
    }
    if not (db_ok and broker_ok):
        down = [name for name, ok in (("database", db_ok), ("broker", broker_ok)) if not ok]
        body["down"] = down
    return JsonResponse(body, status=200 if db_ok and broker_ok else 503)
