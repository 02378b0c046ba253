"""Sign-in, sign-out, the health check and the CSV upload page (the home pages: ``dashboards``)."""

from __future__ import annotations

import re
import sys

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import health, outages, selectors
from core import roles as r
from core.bulk.body import read_body
from core.bulk.resources import BULK_RESOURCES
from core.bulk.service import bulk_ingest
from core.errors import ApplicationError
from core.roles import role_required

# The header is line 1 of the file, so the batch's data row 0 is line 2 of the spreadsheet.
FIRST_DATA_LINE = 2
ROW_REFERENCE = re.compile(r"\brow (\d+)\b")


def _as_lines(message: str) -> str:
    """Row errors name other rows by 0-based batch index ("first at row 0"); the page says lines."""
    return ROW_REFERENCE.sub(lambda m: f"line {int(m.group(1)) + FIRST_DATA_LINE}", message)


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


@role_required(r.ADMIN, r.PLANNER)
@never_cache
def upload(request: HttpRequest) -> HttpResponse:
    """Upload a CSV file for one bulk resource: the same ingestion path as the ERP API."""
    context = {"resources": [{"name": name, "fields": [f.name for f in spec.fields],
                              "key": "+".join(spec.key)} for name, spec in BULK_RESOURCES.items()],
               "chosen": request.POST.get("resource", ""), "first_data_line": FIRST_DATA_LINE}
    status = 200
    if request.method == "POST":
        spec = BULK_RESOURCES.get(context["chosen"])
        upload_file = request.FILES.get("file")
        if spec is None or upload_file is None:
            context["problem"] = {"message": "Choose a resource and a CSV file to upload."}
            status = 400
        else:
            context["file_name"] = upload_file.name
            try:
                body = read_body(upload_file, content_length=upload_file.size, kind="csv",
                                 max_bytes=settings.API_MAX_BULK_BODY_BYTES, max_rows=settings.API_MAX_BULK_ROWS)
                outcome = bulk_ingest(spec=spec, body=body, content_type="text/csv",
                                      user=request.user, path=request.path, source="upload")
                context["result"] = outcome.body
            except ApplicationError as exc:
                details = exc.details if isinstance(exc.details, dict) else {}
                context["problem"] = {
                    "message": exc.message, "code": exc.code, "details": details,
                    "errors": [e | {"line": e["row"] + FIRST_DATA_LINE, "message": _as_lines(e["message"])}
                               for e in details.get("errors", [])],
                }
                status = 413 if exc.status_code == 413 else 400
    context["batches"] = selectors.recent_ingest_batches(user=request.user)
    return render(request, "core/upload.html", context, status=status)
