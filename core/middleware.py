"""Authentication everywhere: anonymous visitors are sent to the login page.

The API (``/api/v1/``, ``/api/schema/``) authenticates itself (Bearer tokens or the session) and answers 401 in
JSON instead of a redirect, so it is left to DRF's ``IsAuthenticated`` default.
"""

from django.contrib.auth import middleware as auth_middleware


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(("/api/v1/", "/api/schema/", "/static/")):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
