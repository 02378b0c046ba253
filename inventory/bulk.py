"""Bulk-upsert resources of the inventory app (ERP contract: names are binding)."""

from core.bulk.spec import Field, Ref, ResourceSpec

PRODUCT_FAMILIES = ResourceSpec(
    name="product-families", table="inventory_productfamily", key=("code",), scope="master:write",
    fields=(Field("code", max_length=64), Field("name", max_length=200)),
)

PRODUCTS = ResourceSpec(
    name="products", table="inventory_product", key=("sku",), scope="master:write",
    fields=(
        Field("sku", max_length=64),
        Field("name", max_length=200),
        Field("family_code", ref=Ref("product family", "family_id", "inventory.ProductFamily", "code")),
        Field("unit", max_length=16, required=False, default="EA"),
        Field("unit_price", kind="decimal", max_digits=14, decimal_places=4, min_value=0),
        Field("unit_cost", kind="decimal", max_digits=14, decimal_places=4, min_value=0),
        Field("status", kind="choice", choices=("new", "active", "phase_out", "discontinued"), required=False,
              default="active"),
    ),
)

LOCATIONS = ResourceSpec(
    name="locations", table="inventory_location", key=("code",), scope="master:write",
    fields=(
        Field("code", max_length=64),
        Field("name", max_length=200),
        Field("kind", kind="choice", choices=("warehouse", "plant", "store"), required=False, default="warehouse"),
    ),
)
