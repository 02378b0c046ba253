"""Every bulk-upsert resource of the API, by URL name."""

from compensation.bulk import COMP_ASSIGNMENTS
from core.bulk.spec import ResourceSpec
from crm.bulk import FEEDBACK_NOTES, OPPORTUNITIES, TRAINING_COMPLETIONS, TRAINING_MODULES
from inventory.bulk import (
    INVENTORY_LOTS,
    INVENTORY_POLICIES,
    INVENTORY_SNAPSHOTS,
    LOCATIONS,
    PRODUCT_FAMILIES,
    PRODUCTS,
)
from sales.bulk import SALES_LINES
from sop.bulk import CAPACITY, PLANTS, ROUTINGS, WORK_CENTERS
from territories.bulk import ACCOUNTS, ASSIGNMENT_RULES

BULK_RESOURCES: dict[str, ResourceSpec] = {
    spec.name: spec
    for spec in (
        PRODUCT_FAMILIES,
        PRODUCTS,
        LOCATIONS,
        ACCOUNTS,
        SALES_LINES,
        PLANTS,
        WORK_CENTERS,
        CAPACITY,
        ROUTINGS,
        INVENTORY_SNAPSHOTS,
        INVENTORY_LOTS,
        INVENTORY_POLICIES,
        COMP_ASSIGNMENTS,
        ASSIGNMENT_RULES,
        OPPORTUNITIES,
        FEEDBACK_NOTES,
        TRAINING_MODULES,
        TRAINING_COMPLETIONS,
    )
}
