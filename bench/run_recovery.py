"""Time from a worker SIGKILLed mid-run to the run's completion, on the small demo.

Seeds the ``small`` demo into a scratch PostgreSQL database, starts one Celery worker and
Celery beat (the database scheduler, as in production: it sends the reaper every
``RUN_REAPER_SECONDS``), starts a forecast run, and once a chunk has been running for a
second kills the worker and its pool with SIGKILL. A new worker is started at once (as a
process supervisor or ``restart: unless-stopped`` would). It prints when the reaper took the
lost chunk back and when the run completed, counted from the kill, next to the same run
without a fault. Each series is checked to be written exactly once.

    .venv/bin/python bench/run_recovery.py [--profile production|tests|both] [--reuse] [--keep]

Profiles: ``production`` = the defaults (heartbeat 10 s, stale after 60 s, reaper every
30 s); ``tests`` = the fault tests' settings (0.5 s, 3 s, 1 s). Defaults to
DATABASE_URL=postgres://postgres@127.0.0.1:5432/sop_bench_recovery and
REDIS_URL=redis://127.0.0.1:6379/2 (a queue of its own on it).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/sop_bench_recovery"
DEFAULT_REDIS = "redis://127.0.0.1:6379/2"
PROFILES = {
    "production": {"RUN_HEARTBEAT_SECONDS": "10", "RUN_STALE_SECONDS": "60", "RUN_REAPER_SECONDS": "30"},
    "tests": {"RUN_HEARTBEAT_SECONDS": "0.5", "RUN_STALE_SECONDS": "3", "RUN_REAPER_SECONDS": "1"},
}


def psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-qc", sql], check=True, capture_output=True)


def spawn(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def worker(env: dict, queue: str) -> subprocess.Popen:
    return spawn(
        [
            "worker",
            "-Q",
            queue,
            "--concurrency",
            "1",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{queue}-{uuid.uuid4().hex[:4]}@%h",
        ],
        env,
    )


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=30)
    except ProcessLookupError:
        pass


def wait(predicate, timeout: float, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    raise SystemExit(f"gave up after {timeout:.0f} s")


def one_run(profile: str, env: dict, *, kill: bool) -> dict:
    from forecasting.models import ForecastChunk, ForecastRun, ForecastSeries
    from forecasting.services import forecast_run_start

    queue = f"bench-recovery-{uuid.uuid4().hex[:6]}"
    penv = dict(env, CELERY_QUEUE=queue, **PROFILES[profile])
    from config.celery import app

    app.conf.task_default_queue = queue
    beat = spawn(["beat", "--loglevel", "WARNING", "--pidfile="], penv)
    first = worker(penv, queue)
    processes = [beat, first]
    try:
        time.sleep(8)  # worker and beat boot (numpy, pandas, Django) is not part of the run
        started = time.monotonic()
        run = forecast_run_start(trigger="command")
        figures = {}
        if kill:
            chunk = wait(lambda: ForecastChunk.objects.filter(run=run, status="running").first(), 600)
            time.sleep(1.0)  # well inside the chunk
            stop(first, signal.SIGKILL)
            killed = time.monotonic()
            figures["killed_after"] = killed - started
            processes.append(worker(penv, queue))
            wait(lambda: ForecastChunk.objects.filter(pk=chunk.pk, attempts__gte=2).exists(), 900, 0.1)
            figures["taken_back"] = time.monotonic() - killed
        wait(
            lambda: ForecastRun.objects.filter(pk=run.pk).exclude(status__in=["queued", "running"]).exists(), 1800, 0.1
        )
        ended = time.monotonic()
        run.refresh_from_db()
        figures["total"] = ended - started
        if kill:
            figures["recovered"] = ended - killed
        assert run.status == "completed", (run.status, run.error)
        written = ForecastSeries.objects.filter(run=run).count()
        assert written == run.series_total, (written, run.series_total)
        figures.update(run=run.pk, series=run.series_total, chunks=run.chunks_total)
        return figures
    finally:
        for process in processes:
            stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=["production", "tests", "both"], default="both")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--keep", action="store_true", help="do not drop the database afterwards")
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
    from config.celery import app
    from sales.models import SalesOrderLine

    if not SalesOrderLine.objects.exists():
        subprocess.run(
            manage + ["seed_demo", "--scale", "small", "--force"],
            check=True,
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
    app.conf.task_always_eager = False
    print(f"small demo: {SalesOrderLine.objects.count():,} order lines")
    try:
        for profile in ["production", "tests"] if args.profile == "both" else [args.profile]:
            p = PROFILES[profile]
            print(
                f"profile {profile}: heartbeat {p['RUN_HEARTBEAT_SECONDS']} s, stale after "
                f"{p['RUN_STALE_SECONDS']} s, reaper every {p['RUN_REAPER_SECONDS']} s"
            )
            clean = one_run(profile, env, kill=False)
            print(
                f"  no fault: run {clean['run']} ({clean['series']:,} series, {clean['chunks']} chunks) "
                f"completed in {clean['total']:.1f} s"
            )
            hit = one_run(profile, env, kill=True)
            print(
                f"  worker SIGKILLed {hit['killed_after']:.1f} s into run {hit['run']}: lost chunk taken back "
                f"{hit['taken_back']:.1f} s after the kill; run completed {hit['recovered']:.1f} s after the "
                f"kill ({hit['total']:.1f} s in all, each series once)"
            )
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            psql(f"DROP DATABASE IF EXISTS {db_name}")


if __name__ == "__main__":
    main()
