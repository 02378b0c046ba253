"""Page benchmark: each role's home, the alerts inbox, the capacity heat map and the demand
review under concurrent signed-in clients, against a floor page.

The app runs behind gunicorn as ``bin/serve`` starts it (2 workers, plain HTTP on loopback)
on the large demo in PostgreSQL. For each page, ``--clients`` threads (8), each with its own
signed-in session, request it back to back for ``--seconds`` (30); the script prints p50, p95
and p99 latency, requests per second and errors (any answer but 200) per page, and the same for
``/home/signed-in/``, a fixed template through the same middleware, session and menu (the
floor). Target: p95 < 300 ms on every page, no error.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sop_bench_pages .venv/bin/python bench/pages.py [--reuse]

Without ``--reuse`` the database is dropped and the large demo seeded with its nightly
pipeline (minutes), then VACUUM ANALYZEd (the shared PostgreSQL here runs without autovacuum).
The clients run in this process, on the same 2 cores as the server: the load average is
printed before and after, since other work on the machine moves the figures.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/sop_bench_pages"

#: (label, demo login, path); the demand review's month is found on the cycle page
PAGES = [
    ("floor: fixed page", "planner", "/home/signed-in/"),
    ("home: sales manager", "manager", "/"),
    ("home: operations lead", "ops", "/"),
    ("home: planner", "planner", "/"),
    ("home: sales rep", "rep1", "/"),
    ("home: executive", "exec", "/"),
    ("alerts inbox", "ops", "/supply/alerts/"),
    ("capacity heat map", "ops", "/supply/capacity/"),
    ("demand review", "planner", "{demand_review}"),
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered))) - 1))] if ordered else float("nan")


def signed_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=60)
    response = session.post(
        f"{base}/accounts/login/",
        timeout=60,
        allow_redirects=False,
        data={"username": username, "password": "demo", "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{base}/accounts/login/"},
    )
    if response.status_code != 302:
        raise SystemExit(f"could not sign in as {username}: HTTP {response.status_code}")
    return session


def drive(sessions: list[requests.Session], url: str, seconds: float) -> tuple[list[float], int, float]:
    """Every session requests ``url`` back to back for ``seconds``: latencies (ms), errors, wall."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(session: requests.Session) -> None:
        mine, bad = [], 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                response = session.get(url, timeout=60, allow_redirects=False)
                ok = response.status_code == 200
            except requests.RequestException:
                ok = False
            mine.append((time.perf_counter() - started) * 1000)
            bad += not ok
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0], time.monotonic() - started


def prepare(reuse: bool) -> None:
    db_url = os.environ["DATABASE_URL"]
    db_name = db_url.rsplit("/", 1)[1]
    manage = [sys.executable, str(ROOT / "manage.py")]

    def psql(sql: str, db: str = "postgres") -> None:
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-qc", sql], check=True, capture_output=True
        )

    if not reuse:
        psql(f"DROP DATABASE IF EXISTS {db_name}")
        psql(f"CREATE DATABASE {db_name}")
    subprocess.run(manage + ["migrate", "-v0"], check=True, cwd=ROOT)
    if not reuse:
        started = time.monotonic()
        subprocess.run(
            manage + ["seed_demo", "--scale", "large", "--force"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL
        )
        subprocess.run(manage + ["run_pipeline"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        print(f"seeded the large demo and ran the pipeline in {time.monotonic() - started:.0f} s", flush=True)
        psql("VACUUM ANALYZE", db_name)
    subprocess.run(manage + ["collectstatic", "--noinput", "-v0"], check=True, cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--seconds", type=float, default=30.0, help="per page (30)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (bin/serve: 2)")
    parser.add_argument("--only", default="", help="comma-separated words; pages whose label has one")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789-0123456789-0123456789")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
    prepare(args.reuse)

    from dashboards.serving import served

    print("load average at the start: " + " / ".join(f"{x:.2f}" for x in os.getloadavg()), flush=True)
    with served(workers=args.workers) as base:
        cycle_page = signed_in(base, "planner").get(f"{base}/supply/cycle/", timeout=60).text
        match = re.search(r"/supply/cycle/(\d{4}-\d{2}-\d{2})/demand/", cycle_page)
        demand_review = f"/supply/cycle/{match.group(1)}/demand/" if match else None
        sessions: dict[str, list[requests.Session]] = {}
        print(f"{args.clients} clients × {args.seconds:.0f} s per page, gunicorn {args.workers} workers, {base}")
        print(f"{'page':<24} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6}")
        words = [w for w in args.only.split(",") if w]
        for label, username, path in PAGES:
            if words and not any(w in label for w in words) and not label.startswith("floor"):
                continue
            if path == "{demand_review}":
                if demand_review is None:
                    print(f"{label:<24} (no S&OP cycle in the data)")
                    continue
                path = demand_review
            if username not in sessions:
                sessions[username] = [signed_in(base, username) for _ in range(args.clients)]
            for session in sessions[username]:  # warm: templates, per-process caches
                session.get(f"{base}{path}", timeout=120)
            latencies, errors, wall = drive(sessions[username], f"{base}{path}", args.seconds)
            print(
                f"{label:<24} {len(latencies):>8} {len(latencies) / wall:>7.1f} {percentile(latencies, 0.5):>7.0f} "
                f"{percentile(latencies, 0.95):>7.0f} {percentile(latencies, 0.99):>7.0f} {errors:>6}",
                flush=True,
            )
    print("load average at the end: " + " / ".join(f"{x:.2f}" for x in os.getloadavg()), flush=True)


if __name__ == "__main__":
    main()
