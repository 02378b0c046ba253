"""Set-based reads and writes of the demand plan: the COPY of a new cycle's rows and of the
sales history it stores, the bulk reads a new cycle is computed from, the update of one
measure on many rows (an edit's spread) and the feasible quantities a plan run found.

Kept apart from ``sop.cycle_services`` so that the plan run (``sop.services``) can store its
feasible quantities into the cycle without importing the cycle's workflow. SQL here is the
measured hot spot of the cycle (bench/cycle.py): one statement per read or write on
PostgreSQL, and COPY both ways, because opening a cycle moves ~270k rows in and out on the
large demo and Django's row-by-row iteration and pandas' CSV writer were most of its time.
Writes go through ``core.bulk.insert.insert_frame`` (its Arrow CSV path for numeric frames);
floats keep 4 decimals.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from django.db import connection
from django.utils import timezone

from core.bulk.insert import insert_frame
from inventory.models import Product
from sop.demand_plan import share_out_feasible
from sop.models import DemandPlanActual, DemandPlanLine, PlanCycle, PlanRun

TABLE = DemandPlanLine._meta.db_table
LINE_COLUMNS = [
    "cycle_id",
    "product_id",
    "territory_id",
    "family_id",
    "region_id",
    "period_start",
    "statistical",
    "naive",
    "target",
    "sales_override",
    "consensus",
    "feasible",
    "revision",
]
ACTUAL_COLUMNS = ["cycle_id", "family_id", "territory_id", "region_id", "period_start", "units"]
#: measures an edit may write (whole units) and the feasible quantity a run writes
WRITABLE = {"consensus": "bigint", "sales_override": "bigint", "feasible": "float8"}


def _raw_cursor(cursor):
    raw = cursor.cursor
    while hasattr(raw, "cursor") and not hasattr(raw, "copy_expert"):
        raw = raw.cursor
    return raw


def query_frame(queryset, columns: dict[str, str]) -> pd.DataFrame:
    """The rows of a ``values_list`` queryset as a frame with ``columns`` (name → ``int``,
    ``Int64`` (nullable), ``float`` or ``date``: ``datetime64`` at midnight). On PostgreSQL
    through ``COPY (query) TO STDOUT``, several times faster than Django's row iteration for
    the 100k+ rows a new cycle reads."""
    names = list(columns)
    if connection.vendor == "postgresql":
        sql, params = queryset.query.sql_with_params()
        buffer = io.BytesIO()
        with connection.cursor() as cursor:
            raw = _raw_cursor(cursor)
            raw.copy_expert(f"COPY ({raw.mogrify(sql, params).decode()}) TO STDOUT WITH (FORMAT csv)", buffer)
        buffer.seek(0)
        if not buffer.getbuffer().nbytes:
            frame = pd.DataFrame({name: pd.Series([], dtype=object) for name in names})
        else:
            frame = pd.read_csv(
                buffer,
                names=names,
                header=None,
                dtype={
                    n: "float64" if kind == "float" else "Int64" if kind in ("int", "Int64") else "str"
                    for n, kind in columns.items()
                },
            )
    else:
        frame = pd.DataFrame.from_records(list(queryset), columns=names)
    for name, kind in columns.items():
        if kind == "date":  # a month truncated in SQL may come back as a timestamp: keep the day
            text = frame[name].astype("str").str.slice(0, 10) if len(frame) else frame[name]
            frame[name] = pd.to_datetime(text, format="%Y-%m-%d").astype("datetime64[ns]")
        elif kind == "float":
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        elif kind == "int":
            frame[name] = frame[name].astype("int64")
        else:
            frame[name] = frame[name].astype("Int64")
    return frame


def _analyze(table: str) -> None:
    """Refresh the planner's statistics of ``table`` after a bulk load. A new cycle's id is
    in no statistics yet, so PostgreSQL would estimate its ~270k rows as one and plan every
    read of the cycle for one row (measured: a sales manager's family level 370 ms instead
    of 45 ms); autovacuum analyses only after 10 % of the table changed, which one cycle of
    many is not. Inside the creating transaction ANALYZE samples its own new rows too."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def lines_insert(frame: pd.DataFrame) -> int:
    """Append a cycle's rows (columns ``LINE_COLUMNS``) in one COPY."""
    count = insert_frame(TABLE, frame[LINE_COLUMNS], decimals=4)
    _analyze(TABLE)
    return count


def actuals_insert(frame: pd.DataFrame) -> int:
    """Append a cycle's stored sales history (columns ``ACTUAL_COLUMNS``) in one COPY."""
    table = DemandPlanActual._meta.db_table
    count = insert_frame(table, frame[ACTUAL_COLUMNS], decimals=4)
    _analyze(table)
    return count


def lines_delete(*, cycle_id: int) -> None:
    """Remove a cycle's rows and its stored history."""
    DemandPlanLine.objects.filter(cycle_id=cycle_id)._raw_delete(DemandPlanLine.objects.db)
    DemandPlanActual.objects.filter(cycle_id=cycle_id)._raw_delete(DemandPlanActual.objects.db)


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
                [*params, ids_list, vals],
            )
        else:
            params = [(v, revision, i) if revision is not None else (v, i) for v, i in zip(vals, ids_list, strict=True)]
            cursor.executemany(f"UPDATE {qn(TABLE)} SET {qn(measure)} = %s{set_revision} WHERE id = %s", params)
    return len(ids_list)


def demand_plan_feasible_store(*, run: PlanRun, product_plan: pd.DataFrame) -> int:
    """After a cycle's plan run: share each product × month's feasible quantity over the
    cycle's rows of that product (by consensus) and point the cycle at the run (a new
    ``updated_at``: what is read from the cycle's rows is kept only while its cycle row is
    unchanged). A run that plans no cycle does nothing. Call inside the run's write transaction."""
    cycle_id = (run.parameters or {}).get("cycle_id")
    if not cycle_id:
        return 0
    rows = pd.DataFrame.from_records(
        list(
            DemandPlanLine.objects.filter(cycle_id=cycle_id)
            .order_by()
            .values_list("id", "product_id", "period_start", "consensus", "statistical")
        ),
        columns=["id", "product_id", "period_start", "consensus", "statistical"],
    )
    if rows.empty:
        PlanCycle.objects.filter(pk=cycle_id).update(plan_run=run, updated_at=timezone.now())
        return 0
    ids = dict(Product.objects.values_list("sku", "id"))
    feasible = pd.DataFrame(
        {
            "product_id": product_plan["product_sku"].map(ids),
            "period_start": product_plan["period_start"],
            "feasible_qty": product_plan["feasible_qty"].astype(float),
        }
    ).dropna(subset=["product_id"])
    feasible["product_id"] = feasible["product_id"].astype(np.int64)
    values = share_out_feasible(rows, feasible)
    measure_write(measure="feasible", ids=rows["id"].to_numpy(), values=np.round(values, 4), revision=None)
    PlanCycle.objects.filter(pk=cycle_id).update(plan_run=run, updated_at=timezone.now())
    return len(rows)
