"""Bulk-upsert resources for production capacity (ERP contract: names are binding)."""

from __future__ import annotations

import pandas as pd

from core.bulk.columnar import as_numbers
from core.bulk.rules import MONTH_START, errors_where
from core.bulk.spec import Field, Ref, ResourceSpec


def positive_hours_rule(frame: pd.DataFrame) -> pd.DataFrame:
    hours = pd.to_numeric(frame["hours_per_unit"], errors="coerce")
    return errors_where(frame, hours.notna() & (hours <= 0), "hours_per_unit", "not_positive", "must be greater than 0")


def positive_hours_proof(values: dict) -> bool:
    """``positive_hours_rule`` over Arrow columns."""
    hours = as_numbers(values["hours_per_unit"])
    return not (hours <= 0).any()  # NaN (empty) compares False, as in the rule


WORK_CENTER_REF = Ref("work center", "work_center_id", "sop.WorkCenter", "code")

PLANTS = ResourceSpec(
    name="plants",
    table="sop_plant",
    key=("code",),
    scope="capacity:write",
    fields=(Field("code", max_length=64), Field("name", max_length=200)),
)

WORK_CENTERS = ResourceSpec(
    name="work-centers",
    table="sop_workcenter",
    key=("code",),
    scope="capacity:write",
    fields=(
        Field("code", max_length=64),
        Field("name", max_length=200),
        Field("plant_code", ref=Ref("plant", "plant_id", "sop.Plant", "code")),
    ),
)

CAPACITY = ResourceSpec(
    name="capacity",
    table="sop_capacitycalendar",
    key=("work_center_code", "period_start"),
    scope="capacity:write",
    fields=(
        Field("work_center_code", ref=WORK_CENTER_REF),
        Field("period_start", kind="date"),
        Field("available_hours", kind="decimal", max_digits=12, decimal_places=2, min_value=0),
    ),
    rules=(MONTH_START.rule,),
    fast_rules=(MONTH_START.proof,),
)

ROUTINGS = ResourceSpec(
    name="routings",
    table="sop_routing",
    key=("product_sku", "work_center_code"),
    scope="capacity:write",
    fields=(
        Field("product_sku", ref=Ref("product", "product_id", "inventory.Product", "sku")),
        Field("work_center_code", ref=WORK_CENTER_REF),
        Field("hours_per_unit", kind="decimal", max_digits=10, decimal_places=4),
    ),
    rules=(positive_hours_rule,),
    fast_rules=(positive_hours_proof,),
)
