"""Inventory pages: stock positions."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core import roles as r
from core.roles import role_required
from inventory import selectors
from inventory.models import Location, ProductFamily


@role_required(r.ADMIN, r.OPS_LEAD, r.PLANNER, r.EXECUTIVE)
def positions(request: HttpRequest) -> HttpResponse:
    filters = {k: request.GET.get(k, "") for k in ("q", "location", "family")}
    return render(request, "inventory/positions.html", {
        "rows": selectors.positions_page(user=request.user, filters=filters), "filters": filters,
        "locations": list(Location.objects.values_list("code", flat=True)),
        "families": list(ProductFamily.objects.values_list("code", flat=True)),
    })
