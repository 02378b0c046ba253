"""Every bulk-upsert resource of the API, by URL name."""

from core.bulk.spec import ResourceSpec
from inventory.bulk import LOCATIONS, PRODUCT_FAMILIES, PRODUCTS
from sop.bulk import SALES_LINES
from territories.bulk import ACCOUNTS

BULK_RESOURCES: dict[str, ResourceSpec] = {
    spec.name: spec for spec in (PRODUCT_FAMILIES, PRODUCTS, LOCATIONS, ACCOUNTS, SALES_LINES)
}
