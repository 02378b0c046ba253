"""The home page (figures from every area in the viewer's scope) and the CSV upload page (every
bulk resource of the API); their URL names stay ``home`` and ``core:upload``."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import never_cache

from core import roles as r
from core.api.permissions import ANYONE, SCOPES
from core.bulk.body import read_body
from core.bulk.excel_csv import excel_csv_to_api_csv
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


def upload_resources(user) -> dict:
    """The bulk resources a person may upload: those whose write scope their roles hold (the
    same rule as the API's, so an operations lead uploads capacity and inventory, a planner
    master data and sales lines, and only an administrator commission assignments)."""
    held = r.user_roles(user)
    return {
        name: spec for name, spec in BULK_RESOURCES.items() if SCOPES[spec.scope] is ANYONE or held & SCOPES[spec.scope]
    }


def _upload_roles() -> tuple[str, ...]:
    return tuple(sorted(set().union(*(SCOPES[spec.scope] or r.ROLES for spec in BULK_RESOURCES.values())) - {r.ERP}))


#: what the Data page calls each resource (the API name stays beside it)
RESOURCE_LABELS = {
    "product-families": gettext_lazy("Product families"),
    "products": gettext_lazy("Products"),
    "locations": gettext_lazy("Locations"),
    "accounts": gettext_lazy("Customer accounts"),
    "sales-lines": gettext_lazy("Sales order lines"),
    "plants": gettext_lazy("Plants"),
    "work-centers": gettext_lazy("Work centers"),
    "capacity": gettext_lazy("Capacity calendar"),
    "routings": gettext_lazy("Routings"),
    "inventory-snapshots": gettext_lazy("Inventory snapshots"),
    "inventory-lots": gettext_lazy("Inventory lots"),
    "inventory-policies": gettext_lazy("Inventory policies"),
    "comp-assignments": gettext_lazy("Commission plan assignments"),
    "assignment-rules": gettext_lazy("Territory assignment rules"),
}

#: roles that may upload at least one resource (the page and the menu entry)
UPLOAD_ROLES = _upload_roles()


@role_required(*UPLOAD_ROLES)
@never_cache
def upload(request: HttpRequest) -> HttpResponse:
    """Upload a CSV file for one bulk resource: the same ingestion path as the ERP API."""
    allowed = upload_resources(request.user)
    context = {
        "resources": [
            {
                "name": name,
                "label": RESOURCE_LABELS.get(name, name),
                "fields": [f.name for f in spec.fields],
                "key": "+".join(spec.key),
            }
            for name, spec in allowed.items()
        ],
        "chosen": request.POST.get("resource", ""),
        "first_data_line": FIRST_DATA_LINE,
        # German and Italian users are offered their Excel's CSV first.
        "dialect": request.POST.get("dialect")
        or ("excel" if (getattr(request, "LANGUAGE_CODE", "") or "")[:2] in ("de", "it") else "api"),
    }
    status = 200
    if request.method == "POST":
        spec = allowed.get(context["chosen"])
        upload_file = request.FILES.get("file")
        if context["chosen"] in BULK_RESOURCES and spec is None:
            context["problem"] = {
                "message": gettext("Your role does not upload %(resource)s.")
                % {"resource": RESOURCE_LABELS.get(context["chosen"], context["chosen"])}
            }
            status = 403
        elif spec is None or upload_file is None:
            context["problem"] = {"message": gettext("Choose a resource and a CSV file to upload.")}
            status = 400
        else:
            context["file_name"] = upload_file.name
            try:
                body = read_body(
                    upload_file,
                    content_length=upload_file.size,
                    kind="csv",
                    max_bytes=settings.API_MAX_BULK_BODY_BYTES,
                    max_rows=settings.API_MAX_BULK_ROWS,
                )
                if context["dialect"] == "excel":
                    # German/Italian Excel: ";", decimal comma, dd.mm.yyyy, into the API's CSV.
                    body = excel_csv_to_api_csv(body, {f.name: f.kind for f in spec.fields})
                outcome = bulk_ingest(
                    spec=spec, body=body, content_type="text/csv", user=request.user, path=request.path, source="upload"
                )
                context["result"] = outcome.body
            except ApplicationError as exc:
                details = exc.details if isinstance(exc.details, dict) else {}
                context["problem"] = {
                    "message": exc.message,
                    "code": exc.code,
                    "details": details,
                    "errors": [
                        e | {"line": e["row"] + FIRST_DATA_LINE, "message": _as_lines(e["message"])}
                        for e in details.get("errors", [])
                    ],
                }
                status = 413 if exc.status_code == 413 else 400
    context["batches"] = selectors.recent_ingest_batches(user=request.user)
    return render(request, "core/upload.html", context, status=status)
