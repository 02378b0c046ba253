"""Authentication everywhere: anonymous visitors are sent to the login page; and dependency
outages answered with 503 instead of a 500.

The API (``/api/v1/``, ``/api/schema/``) authenticates itself (Bearer tokens or the session) and answers 401 in
JSON instead of a redirect, so it is left to DRF's ``IsAuthenticated`` default. The health check reads no
session at all: it must answer while the database is down.
"""

from django.contrib.auth import middleware as auth_middleware

from core.outages import dependency_of, outage_response


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(("/api/v1/", "/api/schema/", "/static/", "/healthz")):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class DependencyOutageMiddleware:
    """A view that met a database, cache or queue outage answers 503 (``core.outages``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        dependency = dependency_of(exception)
        return outage_response(request, dependency, exception) if dependency else None
