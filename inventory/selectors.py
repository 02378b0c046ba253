"""Reads of stock data: ORM rows → DataFrames for the calculations, and page rows."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.db.models import Q

from inventory.models import InventoryLot, InventoryPolicy, InventorySnapshot, Product

SNAPSHOT_COLUMNS = ["product_sku", "location_code", "as_of", "on_hand", "allocated", "on_order"]
LOT_COLUMNS = ["product_sku", "location_code", "received_on", "quantity"]
POLICY_COLUMNS = [
    "product_sku",
    "location_code",
    "lead_time_days",
    "service_level",
    "safety_stock",
    "max_build_ahead_periods",
]


def _frame(rows, columns: list[str], numeric: tuple[str, ...] = ()) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    for column in numeric:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def snapshots_frame(*, as_of: dt.date, product_ids: list[int] | None = None) -> pd.DataFrame:
    """The latest snapshot on or before ``as_of`` of each product × location."""
    qs = InventorySnapshot.objects.filter(as_of__lte=as_of)
    if product_ids is not None:
        qs = qs.filter(product_id__in=product_ids)
    rows = qs.order_by("product_id", "location_id", "-as_of").values_list(
        "product__sku", "location__code", "as_of", "on_hand", "allocated", "on_order"
    )
    frame = _frame(rows, SNAPSHOT_COLUMNS, ("on_hand", "allocated", "on_order"))
    return frame.drop_duplicates(["product_sku", "location_code"], keep="first").reset_index(drop=True)


def lots_frame(*, as_of: dt.date, product_ids: list[int] | None = None) -> pd.DataFrame:
    qs = InventoryLot.objects.filter(received_on__lte=as_of)
    if product_ids is not None:
        qs = qs.filter(product_id__in=product_ids)
    rows = qs.values_list("product__sku", "location__code", "received_on", "quantity")
    return _frame(rows, LOT_COLUMNS, ("quantity",))


def policies_frame() -> pd.DataFrame:
    rows = InventoryPolicy.objects.values_list(
        "product__sku", "location__code", "lead_time_days", "service_level", "safety_stock", "max_build_ahead_periods"
    )
    return _frame(rows, POLICY_COLUMNS, ("lead_time_days", "service_level", "safety_stock", "max_build_ahead_periods"))


def products_frame() -> pd.DataFrame:
    """Every product that is planned (discontinued ones are not)."""
    rows = Product.objects.exclude(status=Product.Status.DISCONTINUED).values_list(
        "id", "sku", "name", "family__code", "unit_price", "unit_cost"
    )
    return _frame(
        rows,
        ["product_id", "product_sku", "product_name", "family_code", "unit_price", "unit_cost"],
        ("unit_price", "unit_cost"),
    )


def positions_page(*, user, filters: dict, limit: int | None = 500) -> list[dict]:
    """Latest stock per product × location for the positions page and API (one query)."""
    qs = InventorySnapshot.objects.for_user(user).latest().select_related("product", "location")
    if filters.get("q"):
        qs = qs.filter(Q(product__sku__icontains=filters["q"]) | Q(product__name__icontains=filters["q"]))
    if filters.get("location"):
        qs = qs.filter(location__code=filters["location"])
    if filters.get("family"):
        qs = qs.filter(product__family__code=filters["family"])
    rows = []
    ordered = qs.order_by("product__sku", "location__code")
    for s in (ordered if limit is None else ordered[:limit]).iterator(chunk_size=2000):
        rows.append(
            {
                "sku": s.product.sku,
                "name": s.product.name,
                "location": s.location.code,
                "as_of": s.as_of,
                "on_hand": s.on_hand,
                "allocated": s.allocated,
                "on_order": s.on_order,
                "available": s.on_hand - s.allocated,
            }
        )
    return rows
