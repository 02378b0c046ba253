"""Sign-in, sign-out, the role-aware home page, the health check and the CSV upload page."""

from __future__ import annotations

import sys

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core import health, outages
from core.middleware import SESSION_LANGUAGE
from core.models import Profile


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
@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """The language switch of the header: ``language`` is one of LANGUAGES, or empty to follow
    the browser again. Saved on the signed-in user's profile (so it follows them to any
    device), in the session and in a cookie (the sign-in page has no user yet)."""
    code = request.POST.get("language", "")
    if code and code not in dict(settings.LANGUAGES):
        return HttpResponse(status=400)
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = redirect(target)
    if request.user.is_authenticated:
        Profile.objects.update_or_create(user=request.user, defaults={"language": code})
        if code:
            request.session[SESSION_LANGUAGE] = code
        else:
            request.session.pop(SESSION_LANGUAGE, None)
    if code:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, code, max_age=365 * 24 * 3600, samesite="Lax", secure=request.is_secure()
        )
        translation.activate(code)
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    return response


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
