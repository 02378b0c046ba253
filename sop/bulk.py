"""Bulk-upsert resources for production capacity (ERP contract: names are binding)."""

from __future__ import annotations

import pandas as pd
import pyarrow.compute as pc

from core.bulk.columnar import as_numbers
from core.bulk.spec import Field, Ref, ResourceSpec
from core.bulk.validation import ERROR_COLUMNS


def month_start_rule(frame: pd.DataFrame) -> pd.DataFrame:
    bad = (frame["period_start"] != "") & ~frame["period_start"].str.endswith("-01")
    if not bad.any():
        return pd.DataFrame(columns=ERROR_COLUMNS)
    return pd.DataFrame({"row": frame.index[bad], "field": "period_start", "code": "not_month_start",
                         "message": "must be the first day of a month"})


def positive_hours_rule(frame: pd.DataFrame) -> pd.DataFrame:
    hours = pd.to_numeric(frame["hours_per_unit"], errors="coerce")
    bad = hours.notna() & (hours <= 0)
    if not bad.any():
        return pd.DataFrame(columns=ERROR_COLUMNS)
    return pd.DataFrame({"row": frame.index[bad], "field": "hours_per_unit", "code": "not_positive",
                         "message": "must be greater than 0"})


def month_start_proof(values: dict) -> bool:
    """``month_start_rule`` over Arrow columns."""
    start = values["period_start"]
    return bool(pc.all(pc.or_(pc.equal(start, ""), pc.ends_with(start, "-01"))).as_py()) if len(start) else True


def positive_hours_proof(values: dict) -> bool:
    """``positive_hours_rule`` over Arrow columns."""
    hours = as_numbers(values["hours_per_unit"])
    return not (hours <= 0).any()  # NaN (empty) compares False, as in the rule


WORK_CENTER_REF = Ref("work center", "work_center_id", "sop.WorkCenter", "code")

PLANTS = ResourceSpec(
    name="plants", table="sop_plant", key=("code",), scope="capacity:write",
    fields=(Field("code", max_length=64), Field("name", max_length=200)),
)

WORK_CENTERS = ResourceSpec(
    name="work-centers", table="sop_workcenter", key=("code",), scope="capacity:write",
    fields=(
        Field("code", max_length=64),
        Field("name", max_length=200),
        Field("plant_code", ref=Ref("plant", "plant_id", "sop.Plant", "code")),
    ),
)

CAPACITY = ResourceSpec(
    name="capacity", table="sop_capacitycalendar", key=("work_center_code", "period_start"), scope="capacity:write",
    fields=(
        Field("work_center_code", ref=WORK_CENTER_REF),
        Field("period_start", kind="date"),
        Field("available_hours", kind="decimal", max_digits=12, decimal_places=2, min_value=0),
    ),
    rules=(month_start_rule,),
    fast_rules=(month_start_proof,),
)

ROUTINGS = ResourceSpec(
    name="routings", table="sop_routing", key=("product_sku", "work_center_code"), scope="capacity:write",
    fields=(
        Field("product_sku", ref=Ref("product", "product_id", "inventory.Product", "sku")),
        Field("work_center_code", ref=WORK_CENTER_REF),
        Field("hours_per_unit", kind="decimal", max_digits=10, decimal_places=4),
    ),
    rules=(positive_hours_rule,),
    fast_rules=(positive_hours_proof,),
)
