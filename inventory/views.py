"""Inventory pages: stock positions."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core import roles as r
from core.exports import export_response, wants_export
from core.roles import role_required
from inventory import selectors
from inventory.models import Location, ProductFamily


@role_required(r.ADMIN, r.OPS_LEAD, r.PLANNER, r.EXECUTIVE)
def positions(request: HttpRequest) -> HttpResponse:
    filters = {k: request.GET.get(k, "") for k in ("q", "location", "family")}
    fmt = wants_export(request)
    if fmt:  # every row of the filter, not only the 500 shown
        return export_response(
            fmt,
            name="inventory-positions",
            header=[
                _("SKU"),
                _("Product"),
                _("Location"),
                _("As of"),
                _("On hand"),
                _("Allocated"),
                _("Available"),
                _("On order"),
            ],
            rows=(
                [
                    p["sku"],
                    p["name"],
                    p["location"],
                    p["as_of"],
                    p["on_hand"],
                    p["allocated"],
                    p["available"],
                    p["on_order"],
                ]
                for p in selectors.positions_page(user=request.user, filters=filters, limit=None)
            ),
        )
    return render(
        request,
        "inventory/positions.html",
        {
            "rows": selectors.positions_page(user=request.user, filters=filters),
            "filters": filters,
            "locations": list(Location.objects.values_list("code", flat=True)),
            "families": list(ProductFamily.objects.values_list("code", flat=True)),
        },
    )
