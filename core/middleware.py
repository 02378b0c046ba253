"""Authentication everywhere (anonymous visitors are sent to the login page), the security
headers of every response, and dependency outages answered with 503 instead of a 500.

The API (``/api/v1/``, ``/api/schema/``) authenticates itself (Bearer tokens or the session) and answers 401 in
JSON instead of a redirect, so it is left to DRF's ``IsAuthenticated`` default. The health check reads no
session at all: it must answer while the database is down.
"""

from django.contrib.auth import middleware as auth_middleware
from django.utils import translation
from django.utils.cache import add_never_cache_headers

from core.outages import dependency_of, outage_response


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(("/api/v1/", "/api/schema/", "/static/", "/healthz")):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


#: No inline script anywhere (pages pass data with ``json_script``, which is never executed);
#: inline style attributes stay allowed — they run no code.
CSP_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "worker-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
#: pages that need more, by URL name (none: ReDoc, which loaded web fonts and a logo from
#: third-party CDNs, was dropped; Swagger UI is served from the app)
CSP_ADDITIONS: dict[str, dict[str, str]] = {}


def _policy(additions: dict[str, str] | None = None) -> str:
    directives = {name: f"{value} {(additions or {}).get(name, '')}".strip() for name, value in CSP_DIRECTIVES.items()}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


CONTENT_SECURITY_POLICY = _policy()
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "xr-spatial-tracking",
    )
)
#: apps whose every page and API response is someone's pay: never stored by a browser or proxy
PAY_MODULES = ("compensation.",)


def _view_module(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    func = match.func
    owner = getattr(func, "cls", None) or getattr(func, "view_class", None) or func
    return getattr(owner, "__module__", "") or ""


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response; ``Cache-Control:
    no-store`` on pay (every view of the compensation app, and views marked ``never_cache``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        additions = CSP_ADDITIONS.get(match.url_name) if match is not None else None
        response.setdefault("Content-Security-Policy", _policy(additions) if additions else CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if _view_module(request).startswith(PAY_MODULES):
            add_never_cache_headers(response)
        return response


class DependencyOutageMiddleware:
    """A view that met a database, cache or queue outage answers 503 (``core.outages``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        dependency = dependency_of(exception)
        return outage_response(request, dependency, exception) if dependency else None


#: the session key holding the signed-in user's chosen language (copied from their profile at
#: sign-in, so no request pays a query for it)
SESSION_LANGUAGE = "sop_language"


class UserLanguageMiddleware:
    """The language a signed-in user chose (profile, via the session) over the browser's.

    Runs after ``LocaleMiddleware`` (cookie, then ``Accept-Language``) and the authentication
    middleware; a user who never chose keeps the browser's language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = getattr(request, "session", None) and request.session.get(SESSION_LANGUAGE)
        if chosen and translation.check_for_language(chosen):
            translation.activate(chosen)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
