"""The home page (figures from every area in the viewer's scope) and the CSV upload page (every
bulk resource of the API); their URL names stay ``home`` and ``core:upload``."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from core import roles as r
from core.bulk.body import read_body
from core.bulk.service import bulk_ingest
from core.errors import ApplicationError
from core.roles import role_required
from home import selectors
from home.bulk import BULK_RESOURCES

# The header is line 1 of the file, so the batch's data row 0 is line 2 of the spreadsheet.
FIRST_DATA_LINE = 2
ROW_REFERENCE = re.compile(r"\brow (\d+)\b")


def _as_lines(message: str) -> str:
    """Row errors name other rows by 0-based batch index ("first at row 0"); the page says lines."""
    return ROW_REFERENCE.sub(lambda m: f"line {int(m.group(1)) + FIRST_DATA_LINE}", message)



@never_cache  # a rep's home shows their commission
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", selectors.home_context(user=request.user))


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
