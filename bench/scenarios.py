"""Benchmark of what-if scenarios on the reconciliation benchmark's company (5,000 products ×
60 work centers × 18 months, ``bench/reconcile_pure.synthetic_inputs``), on PostgreSQL.

Creates a scratch database (``sop_scenarios_bench``), migrates it and loads the data set as
rows (not timed, as in ``bench/reconcile.py``), then times ``scenarios.services`` end to end
with the database:

1. the first scenario run (reads the plan inputs, computes and stores the base, applies the
   deltas, reconciles, stores the KPIs); target ≤ 3 s once the base is stored;
2. five more scenario runs (base reused), each timed; target ≤ 3 s;
3. the comparison of five scenarios (``services.comparison``); target ≤ 1 s;
4. storage: the rows a scenario writes against the rows of a full plan run (plan lines,
   work-center loads, family plan of the same horizon); target ≤ 5 %.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/scenarios.py

Drops the scratch database at the end, whatever happens (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.reconcile import SECRET, admin_connection, load_rows, log, scratch_url  # noqa: E402
from bench.reconcile_pure import synthetic_inputs  # noqa: E402

RUN_TARGET, COMPARE_TARGET, STORAGE_TARGET = 3.0, 1.0, 0.05


def scenarios_changes(inputs: dict) -> list[tuple[str, list[dict]]]:
    start = min(inputs["capacity"]["period_start"])
    month = lambda i: dt.date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1)  # noqa: E731
    wc = sorted(inputs["capacity"]["work_center_code"].unique())
    # The busiest work center (load ÷ hours over the horizon) makes the "−20 %" scenario bite.
    demand = inputs["demand"].groupby("product_sku")["demand_qty"].sum()
    routed = inputs["routings"].assign(load=lambda f: f["hours_per_unit"] * f["product_sku"].map(demand).fillna(0))
    load = (
        routed.groupby("work_center_code")["load"].sum()
        / inputs["capacity"].groupby("work_center_code")["available_hours"].sum()
    )
    wc = [str(load.idxmax())] + [w for w in wc if w != load.idxmax()]
    family = sorted(inputs["products"]["family_code"].unique())[0]
    sku = sorted(inputs["products"]["product_sku"])[0]
    span = {"period_from": month(5).isoformat(), "period_to": month(7).isoformat()}
    return [
        (f"{wc[0]} −20 % in months 6–8", [{"type": "capacity", "work_center_code": wc[0], **span, "change_pct": -20}]),
        (f"{family} +15 %", [{"type": "demand", "family_code": family, **span, "factor": 1.15}]),
        ("Saturday shift", [{"type": "capacity", "work_center_code": w, **span, "change_hours": 64} for w in wc[:10]]),
        ("Build ahead 3", [{"type": "inventory_policy", "product_sku": sku, "max_build_ahead_periods": 3}]),
        (
            "New product",
            [
                {
                    "type": "new_product",
                    "product_sku": "NEW-1",
                    "family_code": family,
                    "quantities": {month(i).isoformat(): 500 for i in range(3, 18)},
                }
            ],
        ),
        (
            "Everything",
            [
                {"type": "capacity", "work_center_code": wc[1], **span, "change_pct": -30},
                {"type": "demand", "family_code": family, **span, "factor": 0.9},
            ],
        ),
    ]


def measure(inputs: dict, server_url: str, *, db_name: str, keep: bool) -> None:
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
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        forecast_run_id = load_rows(inputs)
        log(f"  scratch database {db_name} loaded in {time.perf_counter() - started:.1f} s (not timed)")

        import sop.selectors
        from scenarios import services
        from scenarios.models import Scenario, ScenarioBase
        from sop.models import PlanRun

        quotas = inputs["family_quotas"]
        sop.selectors.family_quotas_frame = lambda *, period_starts: quotas
        # "The latest plan" the scenarios run on: a finished plan run's date and horizon.
        PlanRun.objects.create(
            as_of=inputs["as_of"],
            horizon_start=inputs["as_of"].replace(day=1),
            horizon_periods=len(inputs["periods"]),
            status=PlanRun.Status.COMPLETED,
            forecast_run_id=forecast_run_id,
            finished_at=django.utils.timezone.now(),
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        user = get_user_model().objects.create(username="bench", is_superuser=True)

        times, ids = [], []
        for name, changes in scenarios_changes(inputs):
            scenario = services.scenario_create(name=name, cycle=None, changes=changes, user=user)
            Scenario.objects.filter(pk=scenario.pk).update(status=Scenario.Status.QUEUED)
            started = time.perf_counter()
            scenario = services.scenario_run_execute(scenario_id=scenario.pk)
            seconds = time.perf_counter() - started
            if scenario.status != "completed":
                raise RuntimeError(f"scenario {scenario.pk} {scenario.status}: {scenario.error}")
            times.append(seconds)
            ids.append(scenario.pk)
            k = scenario.kpis
            log(
                f"  {name:<28} {seconds:5.2f} s  service {k['service_level_units']:.4f}  shortfall "
                f"{k['shortfall_units']:>12,.0f} u  overload {k['overload_hours']:>10,.0f} h  revenue {k['revenue']}"
            )
        k = ScenarioBase.objects.get().kpis
        log(
            f"  {'(base)':<28}          service {k['service_level_units']:.4f}  shortfall "
            f"{k['shortfall_units']:>12,.0f} u  overload {k['overload_hours']:>10,.0f} h  revenue {k['revenue']}"
        )
        log(f"first scenario run (computes and stores the base): {times[0]:.2f} s")
        later = times[1:]
        log(
            f"scenario runs with the stored base: median {statistics.median(later):.2f} s, max {max(later):.2f} s "
            f"(target ≤ {RUN_TARGET:.0f} s)"
        )

        compare = []
        for _ in range(5):
            started = time.perf_counter()
            result = services.comparison(user=user, ids=ids[1:6])
            compare.append(time.perf_counter() - started)
        log(
            f"comparing {len(result['scenarios'])} scenarios: best {min(compare) * 1000:.0f} ms, "
            f"worst {max(compare) * 1000:.0f} ms (target ≤ {COMPARE_TARGET:.0f} s)"
        )

        n_periods = len(inputs["periods"])
        plan_rows = (
            len(inputs["products"])
            + inputs["capacity"]["work_center_code"].nunique()
            + inputs["products"]["family_code"].nunique()
        ) * n_periods
        with connection.cursor() as cursor:
            cursor.execute("SELECT avg(pg_column_size(s.*)), max(pg_column_size(s.*)) FROM scenarios_scenario s")
            avg_bytes, max_bytes = cursor.fetchone()
            cursor.execute("SELECT avg(pg_column_size(b.*)) FROM scenarios_scenariobase b")
            (base_bytes,) = cursor.fetchone()
        share = 1 / plan_rows
        log(
            f"storage per scenario: 1 row (avg {avg_bytes:,.0f} B, max {max_bytes:,} B; the base once per set of "
            f"inputs: {ScenarioBase.objects.count()} row, {base_bytes:,.0f} B) against a full plan's {plan_rows:,} "
            f"rows → {share:.4%} (target ≤ {STORAGE_TARGET:.0%})"
        )
        connection.close()
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
    parser.add_argument("--db", default="sop_scenarios_bench", help="scratch database name")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgres"):
        log("needs PostgreSQL: set DATABASE_URL=postgres://user@host:port/db")
        return
    inputs = synthetic_inputs(
        n_products=args.products, n_work_centers=args.work_centers, n_periods=args.periods, start=dt.date(2027, 1, 1)
    )
    log(f"{args.products:,} products × {args.work_centers} work centers × {args.periods} periods")
    measure(inputs, server, db_name=args.db, keep=args.keep)


if __name__ == "__main__":
    main()
