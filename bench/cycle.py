"""Benchmark of the S&OP cycle on the large demo (PostgreSQL).

Seeds the ``large`` demo (with its forecast run and two cycles) into a scratch database, then
times, in this process:

1. creating a cycle — copying every product × territory series of the latest forecast run
   over the horizon into the demand plan (COPY), with targets, seasonal naive and the
   starting consensus; target ≤ 10 s (three runs, the cycle deleted between them);
2. the family-level demand plan through the API (``GET …/demand-plan/?level=family``) and the
   demand review page, signed in as the planner; target p95 < 300 ms (30 requests each);
3. a family × month consensus edit that spreads to its product × territory rows (etag check,
   spread, one UPDATE, audit); target ≤ 1 s (10 edits).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sop_bench_cycle .venv/bin/python bench/cycle.py [--reuse] [--keep]

``--reuse`` keeps an already seeded database (seeding the large demo takes minutes). The
database is VACUUM ANALYZEd after seeding and after each deleted cycle (untimed), as
autovacuum does in production: the shared PostgreSQL of this machine runs with autovacuum
off, and without it the planner has no statistics, the sales lines' BRIN ranges stay
unsummarised (every date range reads the whole table) and deleted cycles stay as dead rows. The load average is printed before and after: the machine
is shared, and its figures depend on what else runs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/sop_bench_cycle"


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql], check=True, capture_output=True
    )


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--keep", action="store_true", help="do not drop the database afterwards")
    parser.add_argument("--scale", default="large")
    args = parser.parse_args()

    db_url = os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789-0123456789-0123456789")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost")
    db_name = db_url.rsplit("/", 1)[1]
    env = dict(os.environ)
    manage = [sys.executable, str(ROOT / "manage.py")]
    if not args.reuse:
        psql(f"DROP DATABASE IF EXISTS {db_name}")
        psql(f"CREATE DATABASE {db_name}")
    subprocess.run(manage + ["migrate", "-v0"], check=True, env=env, cwd=ROOT)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connections
    from django.test import Client

    from core.calendar import add_months
    from sop import cycle_selectors, cycle_services
    from sop.models import DemandPlanLine, PlanCycle

    if not PlanCycle.objects.exists():
        started = time.monotonic()
        subprocess.run(
            manage + ["seed_demo", "--scale", args.scale, "--force"],
            check=True,
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        print(f"seeded the {args.scale} demo in {time.monotonic() - started:.0f} s", flush=True)
    with connections["default"].cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print("load average at the start: " + " / ".join(f"{x:.2f}" for x in os.getloadavg()), flush=True)
    planner = get_user_model().objects.get(username="planner")
    # The month after the demo's cycles (the bench's own cycle, still in the data stage, is
    # replaced): the same month on every run, --reuse or not.
    latest = PlanCycle.objects.exclude(stage="data").order_by("-month").first()
    month = add_months(latest.month, 1)

    # 1. creating a cycle
    times = []
    for _ in range(3):
        existing = PlanCycle.objects.filter(month=month).first()
        if existing:
            cycle_services.cycle_delete(cycle=existing)
            with connections["default"].cursor() as cursor:  # what autovacuum does after a delete
                cursor.execute("VACUUM ANALYZE sop_demandplanline, sop_demandplanactual")
        started = time.monotonic()
        cycle = cycle_services.cycle_create(month=month, user=planner)
        times.append(time.monotonic() - started)
    rows = DemandPlanLine.objects.filter(cycle=cycle).count()
    series = rows // cycle.horizon_periods
    print(
        f"create a cycle: {rows:,} rows ({series:,} series × {cycle.horizon_periods} months) in "
        + " / ".join(f"{t:.2f} s" for t in times)
        + " (target ≤ 10 s)",
        flush=True,
    )

    # 2. family level, API and page
    client = Client()
    client.force_login(planner)
    api = f"/api/v1/plan-cycles/{month.isoformat()}/demand-plan/?level=family"
    page = f"/supply/cycle/{month.isoformat()}/demand/"
    for url, label in ((api, "API family level"), (page, "demand review page")):
        client.get(url)  # warm
        spent = []
        for _ in range(30):
            started = time.monotonic()
            response = client.get(url)
            spent.append((time.monotonic() - started) * 1000)
            assert response.status_code == 200, response.status_code
        print(
            f"{label}: p95 {p95(spent):.0f} ms, median {sorted(spent)[15]:.0f} ms, max {max(spent):.0f} ms "
            "(target p95 < 300 ms)",
            flush=True,
        )

    # 3. family edits that spread
    families = cycle_selectors.demand_plan_rows(
        cycle=cycle, user=planner, level="family", filters={"period_start": month}
    )
    big = max(families, key=lambda r: r["consensus"])
    under = DemandPlanLine.objects.filter(cycle=cycle, family__code=big["family_code"], period_start=month).count()
    spent = []
    for i in range(10):
        row = cycle_selectors.demand_plan_row(
            cycle=cycle, user=planner, level="family", keys={"family_code": big["family_code"]}, period_start=month
        )
        started = time.monotonic()
        cycle_services.demand_plan_edit(
            cycle=cycle,
            user=planner,
            level="family",
            keys={"family_code": big["family_code"]},
            period_start=month,
            measure="consensus",
            value=int(big["consensus"] * (1 + 0.03 * (i + 1))),
            reason="bench",
            etag=row["etag"],
        )
        spent.append(time.monotonic() - started)
    print(
        f"family edit spreading to {under:,} rows: p95 {p95(spent) * 1000:.0f} ms, max {max(spent) * 1000:.0f} ms "
        "(target ≤ 1 s)",
        flush=True,
    )

    print("load average at the end: " + " / ".join(f"{x:.2f}" for x in os.getloadavg()), flush=True)
    if not args.keep:
        connections.close_all()
        psql(f"DROP DATABASE IF EXISTS {db_name}")


if __name__ == "__main__":
    main()
