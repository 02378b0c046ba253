"""Bulk-upsert resources of the inventory app (ERP contract: names are binding)."""

import pandas as pd

from core.bulk.rules import errors_where
from core.bulk.spec import Field, Ref, ResourceSpec

PRODUCT_FAMILIES = ResourceSpec(
    name="product-families",
    table="inventory_productfamily",
    key=("code",),
    scope="master:write",
    fields=(
        Field("code", max_length=64),
        Field("name", max_length=200),
        Field("planner_username", required=False, ref=Ref("user", "planner_id", "auth.User", "username")),
    ),
)

PRODUCTS = ResourceSpec(
    name="products",
    table="inventory_product",
    key=("sku",),
    scope="master:write",
    fields=(
        Field("sku", max_length=64),
        Field("name", max_length=200),
        Field("family_code", ref=Ref("product family", "family_id", "inventory.ProductFamily", "code")),
        Field("unit", max_length=16, required=False, default="EA"),
        Field("unit_price", kind="decimal", max_digits=14, decimal_places=4, min_value=0),
        Field("unit_cost", kind="decimal", max_digits=14, decimal_places=4, min_value=0),
        Field(
            "status",
            kind="choice",
            choices=("new", "active", "phase_out", "discontinued"),
            required=False,
            default="active",
        ),
    ),
)

LOCATIONS = ResourceSpec(
    name="locations",
    table="inventory_location",
    key=("code",),
    scope="master:write",
    fields=(
        Field("code", max_length=64),
        Field("name", max_length=200),
        Field("kind", kind="choice", choices=("warehouse", "plant", "store"), required=False, default="warehouse"),
    ),
)


def policy_rule(frame):
    """A policy names a service level or a fixed safety stock; a service level is in (0, 1)."""
    level = pd.to_numeric(frame["service_level"], errors="coerce")
    fixed = frame["safety_stock"].fillna("")
    errors = [
        errors_where(
            frame, level.isna() & (fixed == ""), "service_level", "required", "give a service_level or a safety_stock"
        ),
        errors_where(
            frame,
            level.notna() & ((level <= 0) | (level >= 1)),
            "service_level",
            "out_of_range",
            "must be between 0 and 1 (exclusive), e.g. 0.95",
        ),
    ]
    return pd.concat(errors, ignore_index=True)


PRODUCT_REF = Ref("product", "product_id", "inventory.Product", "sku")
LOCATION_REF = Ref("location", "location_id", "inventory.Location", "code")

INVENTORY_SNAPSHOTS = ResourceSpec(
    name="inventory-snapshots",
    table="inventory_inventorysnapshot",
    key=("product_sku", "location_code", "as_of"),
    scope="inventory:write",
    fields=(
        Field("product_sku", ref=PRODUCT_REF),
        Field("location_code", ref=LOCATION_REF),
        Field("as_of", kind="date"),
        Field("on_hand", kind="decimal", max_digits=16, decimal_places=3),
        Field("on_order", kind="decimal", max_digits=16, decimal_places=3, min_value=0, required=False, default="0"),
        Field("allocated", kind="decimal", max_digits=16, decimal_places=3, min_value=0, required=False, default="0"),
    ),
)

INVENTORY_LOTS = ResourceSpec(
    name="inventory-lots",
    table="inventory_inventorylot",
    key=("external_id",),
    scope="inventory:write",
    fields=(
        Field("external_id", max_length=64),
        Field("product_sku", ref=PRODUCT_REF),
        Field("location_code", ref=LOCATION_REF),
        Field("received_on", kind="date"),
        Field("quantity", kind="decimal", max_digits=16, decimal_places=3, min_value=0),
    ),
)

INVENTORY_POLICIES = ResourceSpec(
    name="inventory-policies",
    table="inventory_inventorypolicy",
    key=("product_sku", "location_code"),
    scope="inventory:write",
    fields=(
        Field("product_sku", ref=PRODUCT_REF),
        Field("location_code", ref=LOCATION_REF),
        Field("lead_time_days", kind="int", min_value=0, required=False, default="0"),
        Field("service_level", kind="decimal", max_digits=5, decimal_places=4, required=False),
        Field("safety_stock", kind="decimal", max_digits=16, decimal_places=3, min_value=0, required=False),
        Field("max_build_ahead_periods", kind="int", min_value=0, required=False, default="0"),
    ),
    rules=(policy_rule,),
)
