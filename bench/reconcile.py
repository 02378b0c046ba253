"""Benchmark of the supply reconciliation: the pure calculation and the whole plan run on PostgreSQL.

Synthetic company (``bench/reconcile_pure.synthetic_inputs``): 5,000 products × 60 work
centers × 18 monthly periods, each product routed over 1–3 work centers, seasonal demand,
capacity sized so that some work centers overload in the peak and others idle, family quotas
per territory, 1–4 receipt-dated lots per product.

1. Pure: ``reconcile`` + ``inventory_metrics`` + ``derive_alerts`` on DataFrames (best of N);
   target ≤ 2 s.
2. Whole plan run (needs PostgreSQL): creates a scratch database (``sop_bench``), migrates it,
   loads the same data set as rows (products, routings, capacity calendars, stock snapshots,
   lots, policies, a finished forecast run with product-level forecasts), then times
   ``sop.services.plan_run_execute`` — reading every input from PostgreSQL, reconciling,
   writing plan lines, loads and family plan (COPY) and upserting the alerts — first run
   (all alerts new) and a rerun (alerts updated in place); target ≤ 30 s. The quotas come from
   the synthetic frame (the territories app's quota tables are not loaded). Drops the scratch
   database at the end, whatever happens.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/reconcile.py

Without ``DATABASE_URL`` only the pure figure is printed. ``--keep`` keeps the scratch database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.reconcile_pure import synthetic_inputs, time_pure  # noqa: E402

PURE_TARGET, RUN_TARGET = 2.0, 30.0
SECRET = "bench-0123456789-0123456789-0123456789-0123456789"


def log(message: str) -> None:
    print(message, flush=True)


def admin_connection(server_url: str):
    import psycopg2

    url = urlparse(server_url)
    conn = psycopg2.connect(
        host=url.hostname or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname="postgres",
    )
    conn.autocommit = True
    return conn


def scratch_url(server_url: str, name: str) -> str:
    url = urlparse(server_url)
    auth = url.username or "postgres"
    if url.password:
        auth += f":{url.password}"
    return f"postgres://{auth}@{url.hostname or '127.0.0.1'}:{url.port or 5432}/{name}"


def load_rows(inputs: dict) -> int:
    """Write the synthetic data set as database rows (not timed). Returns the forecast run id."""
    from decimal import Decimal

    import numpy as np
    from django.db import transaction
    from django.utils import timezone

    from forecasting.models import Forecast, ForecastRun
    from inventory.models import (
        InventoryLot,
        InventoryPolicy,
        InventorySnapshot,
        Location,
        Product,
        ProductFamily,
    )
    from sop.models import CapacityCalendar, Plant, Routing, WorkCenter
    from territories.models import Territory

    def dec(x: float, places: str = "0.001") -> Decimal:
        return Decimal(str(round(float(x), 4))).quantize(Decimal(places))

    with transaction.atomic():
        products = inputs["products"]
        families = {
            c: ProductFamily.objects.create(code=c, name=f"Family {c}")
            for c in sorted(products["family_code"].unique())
        }
        Product.objects.bulk_create(
            [
                Product(
                    sku=r.product_sku,
                    name=f"Product {r.product_sku}",
                    family=families[r.family_code],
                    unit_price=dec(r.unit_price, "0.01"),
                    unit_cost=dec(r.unit_cost, "0.01"),
                )
                for r in products.itertuples()
            ],
            batch_size=5000,
        )
        pid = dict(Product.objects.values_list("sku", "id"))
        location = Location.objects.create(code="WH1", name="Warehouse 1")
        plant = Plant.objects.create(code="PL1", name="Plant 1")
        wc_codes = sorted(inputs["capacity"]["work_center_code"].unique())
        WorkCenter.objects.bulk_create([WorkCenter(code=c, name=f"Work center {c}", plant=plant) for c in wc_codes])
        wid = dict(WorkCenter.objects.values_list("code", "id"))
        CapacityCalendar.objects.bulk_create(
            [
                CapacityCalendar(
                    work_center_id=wid[r.work_center_code],
                    period_start=r.period_start,
                    available_hours=dec(r.available_hours, "0.01"),
                )
                for r in inputs["capacity"].itertuples()
            ],
            batch_size=5000,
        )
        Routing.objects.bulk_create(
            [
                Routing(
                    product_id=pid[r.product_sku],
                    work_center_id=wid[r.work_center_code],
                    hours_per_unit=dec(r.hours_per_unit, "0.0001"),
                )
                for r in inputs["routings"].itertuples()
            ],
            batch_size=5000,
        )
        InventorySnapshot.objects.bulk_create(
            [
                InventorySnapshot(
                    product_id=pid[r.product_sku],
                    location=location,
                    as_of=inputs["as_of"],
                    on_hand=dec(r.on_hand),
                    allocated=dec(r.allocated),
                    on_order=dec(r.on_order),
                )
                for r in inputs["opening_inventory"].itertuples()
            ],
            batch_size=5000,
        )
        InventoryLot.objects.bulk_create(
            [
                InventoryLot(
                    external_id=f"LOT{i:06d}",
                    product_id=pid[r.product_sku],
                    location=location,
                    received_on=r.received_on,
                    quantity=dec(r.quantity),
                )
                for i, r in enumerate(inputs["lots"].itertuples())
            ],
            batch_size=5000,
        )
        InventoryPolicy.objects.bulk_create(
            [
                InventoryPolicy(
                    product_id=pid[r.product_sku],
                    location=location,
                    safety_stock=dec(r.safety_stock),
                    max_build_ahead_periods=int(r.max_build_ahead_periods),
                )
                for r in products.itertuples()
            ],
            batch_size=5000,
        )
        for code in sorted(inputs["family_quotas"]["territory_code"].unique()):
            Territory.objects.create(code=code, name=code, path=f"/{code}/")
        run = ForecastRun.objects.create(
            as_of=inputs["as_of"], status=ForecastRun.Status.COMPLETED, finished_at=timezone.now()
        )
        demand = inputs["demand"]
        zeros = np.zeros(len(demand))
        Forecast.objects.bulk_create(
            [
                Forecast(
                    run=run,
                    level="product",
                    series_key=f"p:{pid[s]}",
                    product_id=pid[s],
                    period_start=p,
                    point=float(q),
                    lo80=z,
                    hi80=z,
                    lo95=z,
                    hi95=z,
                )
                for s, p, q, z in zip(
                    demand["product_sku"], demand["period_start"], demand["demand_qty"], zeros, strict=True
                )
            ],
            batch_size=10000,
        )
    return run.pk


def time_plan_runs(inputs: dict, server_url: str, *, db_name: str, keep: bool) -> list[dict]:
    conn = admin_connection(server_url)
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{db_name}"')
        cursor.execute(f'CREATE DATABASE "{db_name}"')
    try:
        os.environ["DATABASE_URL"] = scratch_url(server_url, db_name)
        os.environ.setdefault("DJANGO_SECRET_KEY", SECRET)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        load_rows(inputs)
        log(f"  scratch database {db_name} loaded in {time.perf_counter() - started:.1f} s (not timed)")

        import sop.selectors
        from sop.models import CapacityAlert, PlanRun
        from sop.services import plan_run_create, plan_run_execute

        quotas = inputs["family_quotas"]
        sop.selectors.family_quotas_frame = lambda *, period_starts: quotas
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        figures = []
        for label in ("first run", "rerun"):
            run = plan_run_create(as_of=inputs["as_of"], trigger=PlanRun.Trigger.COMMAND)
            started = time.perf_counter()
            run = plan_run_execute(run_id=run.pk)
            seconds = time.perf_counter() - started
            if run.status not in (PlanRun.Status.COMPLETED, PlanRun.Status.COMPLETED_WITH_ERRORS):
                raise RuntimeError(f"plan run {run.pk} {run.status}: {run.error}")
            figures.append(
                {
                    "label": label,
                    "seconds": seconds,
                    "lines": run.plan_lines_count,
                    "raised": run.alerts_raised,
                    "updated": run.alerts_updated,
                    "resolved": run.alerts_resolved,
                    "active": CapacityAlert.objects.active().count(),
                }
            )
        connection.close()
        return figures
    finally:
        if not keep:
            with conn.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=5_000)
    parser.add_argument("--work-centers", type=int, default=60)
    parser.add_argument("--periods", type=int, default=18)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", default="sop_bench", help="scratch database name")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    inputs = synthetic_inputs(
        n_products=args.products, n_work_centers=args.work_centers, n_periods=args.periods, start=dt.date(2027, 1, 1)
    )
    log(
        f"{args.products:,} products × {args.work_centers} work centers × {args.periods} periods "
        f"({len(inputs['routings']):,} routing rows, {len(inputs['lots']):,} lots, "
        f"{len(inputs['family_quotas']):,} quota rows)"
    )
    pure = time_pure(inputs, repeat=args.repeat)
    log(
        f"pure reconciliation + inventory metrics + alerts: {pure['seconds']:.3f} s "
        f"(best of {args.repeat}; target ≤ {PURE_TARGET:.0f} s) → {pure['alerts']:,} alert candidates"
    )

    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgres"):
        log("whole plan run: skipped (set DATABASE_URL=postgres://user@host:port/db to measure it)")
        return
    for f in time_plan_runs(inputs, server, db_name=args.db, keep=args.keep):
        log(
            f"whole plan run on PostgreSQL, {f['label']}: {f['seconds']:.2f} s (target ≤ {RUN_TARGET:.0f} s) — "
            f"{f['lines']:,} plan lines, alerts {f['raised']:,} raised / {f['updated']:,} updated / "
            f"{f['resolved']:,} resolved, {f['active']:,} active"
        )


if __name__ == "__main__":
    main()
