"""Writes of demand plan lines, set-based: the COPY of a new cycle's rows, the update of one
measure on many rows (an edit's spread) and the feasible quantities a plan run found.

Kept apart from ``sop.cycle_services`` so that the plan run (``sop.services``) can store its
feasible quantities into the cycle without importing the cycle's workflow. SQL here is the
measured hot spot of the cycle (bench/cycle.py): one statement per write on PostgreSQL.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.db import connection

from core.bulk.insert import insert_frame
from inventory.models import Product
from sop.demand_plan import share_out_feasible
from sop.models import DemandPlanLine, PlanCycle, PlanRun

TABLE = DemandPlanLine._meta.db_table
LINE_COLUMNS = ["cycle_id", "product_id", "territory_id", "family_id", "region_id", "period_start", "statistical",
                "naive", "target", "sales_override", "consensus", "feasible", "revision"]
#: measures an edit may write (whole units) and the feasible quantity a run writes
WRITABLE = {"consensus": "bigint", "sales_override": "bigint", "feasible": "float8"}


def lines_insert(frame: pd.DataFrame) -> int:
    """Append a cycle's rows (columns ``LINE_COLUMNS``) in one COPY."""
    return insert_frame(TABLE, frame[LINE_COLUMNS], decimals=4)


def lines_delete(*, cycle_id: int) -> None:
    DemandPlanLine.objects.filter(cycle_id=cycle_id)._raw_delete(DemandPlanLine.objects.db)


def measure_write(*, measure: str, ids: np.ndarray, values: np.ndarray, revision: int | None) -> int:
    """Set ``measure`` of the rows ``ids`` to ``values`` (NaN → NULL), and their revision."""
    if measure not in WRITABLE:
        raise ValueError(f"{measure!r} is not a writable measure")
    if len(ids) == 0:
        return 0
    qn = connection.ops.quote_name
    kind = WRITABLE[measure]
    cast = int if kind == "bigint" else float
    vals = [None if v is None or (isinstance(v, float) and np.isnan(v)) else cast(v) for v in values.tolist()]
    ids_list = [int(i) for i in ids]
    set_revision = f", {qn('revision')} = %s" if revision is not None else ""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            params = [revision] if revision is not None else []
            cursor.execute(
                f"UPDATE {qn(TABLE)} AS l SET {qn(measure)} = v.val{set_revision} "
                f"FROM unnest(%s::bigint[], %s::{kind}[]) AS v(id, val) WHERE l.id = v.id",
                [*params, ids_list, vals])
        else:
            params = [(v, revision, i) if revision is not None else (v, i) for v, i in zip(vals, ids_list, strict=True)]
            cursor.executemany(f"UPDATE {qn(TABLE)} SET {qn(measure)} = %s{set_revision} WHERE id = %s", params)
    return len(ids_list)


def demand_plan_feasible_store(*, run: PlanRun, product_plan: pd.DataFrame) -> int:
    """After a cycle's plan run: share each product × month's feasible quantity over the
    cycle's rows of that product (by consensus) and point the cycle at the run. A run that
    plans no cycle does nothing. Call inside the run's write transaction."""
    cycle_id = (run.parameters or {}).get("cycle_id")
    if not cycle_id:
        return 0
    rows = pd.DataFrame.from_records(
        list(DemandPlanLine.objects.filter(cycle_id=cycle_id).order_by().values_list(
            "id", "product_id", "period_start", "consensus", "statistical")),
        columns=["id", "product_id", "period_start", "consensus", "statistical"])
    if rows.empty:
        PlanCycle.objects.filter(pk=cycle_id).update(plan_run=run)
        return 0
    ids = dict(Product.objects.values_list("sku", "id"))
    feasible = pd.DataFrame({"product_id": product_plan["product_sku"].map(ids),
                             "period_start": product_plan["period_start"],
                             "feasible_qty": product_plan["feasible_qty"].astype(float)}).dropna(subset=["product_id"])
    feasible["product_id"] = feasible["product_id"].astype(np.int64)
    values = share_out_feasible(rows, feasible)
    measure_write(measure="feasible", ids=rows["id"].to_numpy(), values=np.round(values, 4), revision=None)
    PlanCycle.objects.filter(pk=cycle_id).update(plan_run=run)
    return len(rows)
