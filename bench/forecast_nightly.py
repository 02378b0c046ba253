"""Nightly forecast run on the large demo, PostgreSQL + Redis + real Celery workers.

Seeds the ``large`` demo (≥ 10,000 product × territory series, 36 months) into a scratch
PostgreSQL database, then runs the full forecast run (plan → chunks on the workers → finish)
with one worker process, then with two, and prints wall time, series/s, speed-up and the
workers' peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sop_bench_nightly \\
    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/forecast_nightly.py [--keep] [--reuse]

Defaults to those URLs. ``--reuse`` keeps an already seeded database (seeding takes minutes).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/sop_bench_nightly"
DEFAULT_REDIS = "redis://127.0.0.1:6379/5"


def psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-qc", sql], check=True, capture_output=True)


def rss_mb(pids: list[int]) -> list[float]:
    sizes = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        sizes.append(int(line.split()[1]) / 1024)
        except FileNotFoundError:
            continue
    return sizes


def process_tree(root: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(root)], capture_output=True, text=True).stdout
    children = [int(p) for p in out.split()]
    return [root] + [p for c in children for p in process_tree(c)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--keep", action="store_true", help="do not drop the database afterwards")
    parser.add_argument("--workers", default="1,2", help="worker process counts to compare")
    parser.add_argument("--chunk-size", type=int, default=500)
    args = parser.parse_args()

    db_url = os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS)
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789-0123456789-0123456789")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    db_name = db_url.rsplit("/", 1)[1]
    env = dict(os.environ)

    if not args.reuse:
        psql(f"DROP DATABASE IF EXISTS {db_name}")
        psql(f"CREATE DATABASE {db_name}")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run(manage + ["migrate", "-v0"], check=True, env=env, cwd=ROOT)

    import django

    django.setup()
    from forecasting.models import ForecastRun
    from forecasting.services import forecast_run_create
    from forecasting.tasks import forecast_run_start_task
    from sales.models import SalesOrderLine

    if not SalesOrderLine.objects.exists():
        started = time.monotonic()
        subprocess.run(
            manage + ["seed_demo", "--scale", "large", "--force"],
            check=True,
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        print(f"seeded the large demo in {time.monotonic() - started:.0f} s")
    lines = SalesOrderLine.objects.count()
    print(f"order lines: {lines:,}")

    from config.celery import app

    results = []
    for workers in [int(w) for w in args.workers.split(",")]:
        queue = f"bench-{uuid.uuid4().hex[:6]}"
        wenv = dict(env, CELERY_QUEUE=queue)
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                queue,
                "--concurrency",
                str(workers),
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{queue}@%h",
            ],
            cwd=ROOT,
            env=wenv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(6)  # worker boot (imports numpy/pandas/statsmodels) is not part of the run
        peak = {"mb": 0.0, "one": 0.0}
        stop = threading.Event()

        def sample(root: int = worker.pid, stop: threading.Event = stop, peak: dict = peak) -> None:
            while not stop.is_set():
                sizes = rss_mb(process_tree(root))
                peak["mb"] = max(peak["mb"], sum(sizes))
                peak["one"] = max(peak["one"], max(sizes, default=0.0))
                time.sleep(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        app.conf.task_default_queue = queue
        app.conf.task_always_eager = False
        run = forecast_run_create(trigger="command", parameters={"chunk_size": args.chunk_size})
        started = time.monotonic()
        forecast_run_start_task.delay(run.pk)
        while True:
            run.refresh_from_db()
            if run.status not in (ForecastRun.Status.QUEUED, ForecastRun.Status.RUNNING):
                break
            time.sleep(0.5)
        wall = time.monotonic() - started
        stop.set()
        sampler.join()
        worker.terminate()
        worker.wait(timeout=30)
        results.append((workers, wall, run))
        print(
            f"{workers} worker process(es): run {run.pk} {run.status} — {run.series_total:,} series "
            f"({run.series_failed:,} failed) in {wall:.1f} s = {run.series_total / wall:,.0f} series/s; "
            f"worker peak RSS {peak['one']:,.0f} MB per process, {peak['mb']:,.0f} MB all together"
        )

    if len(results) >= 2:
        base = results[0][1]
        for workers, wall, _run in results[1:]:
            print(f"speed-up {results[0][0]} → {workers} workers: {base / wall:.2f}×")
    if not args.keep:
        from django.db import connections

        connections.close_all()
        psql(f"DROP DATABASE IF EXISTS {db_name}")


if __name__ == "__main__":
    main()
