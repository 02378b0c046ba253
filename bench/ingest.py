"""Benchmark: 1,000,000 sales order lines through the real HTTP API on PostgreSQL.

What it does, in one run (see bench/README.md, "Ingestion (ERP API)"):
1. creates a scratch database, migrates it and loads master data (product families, 5,000
   products and 20,000 accounts through the bulk API; territories and effective-dated account
   ownership with a realignment by SQL);
2. starts gunicorn (3 sync workers on the 2 cores: one more than cores, so a core is never idle
   while a worker waits on its socket or its commit) on PostgreSQL and creates an API token;
3. generates 1,000,000 realistic order lines for those products/accounts and POSTs them as
   CSV bodies in batches of 50,000 (3 client threads, one per worker), each with an
   ``Idempotency-Key``; prints rows/s end to end (first request sent → last answer received);
4. loads the same rows with ``psql \\copy`` into a bare unindexed table, just before and just
   after the API run: prints both rates and the ratio API / their mean;
5. replays one 50k batch with its key and prints the replay time;
6. samples VmRSS (and PSS) of the gunicorn master + workers every 20 ms and prints the peaks;
7. stops gunicorn and drops the scratch database, whatever happens.

Run: ``make bench-ingest`` (or ``.venv/bin/python bench/ingest.py --help``). Needs PostgreSQL at
127.0.0.1:5432 (user postgres, trust auth) and ``psql``/``createdb``/``dropdb`` on PATH.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SECRET = "bench-0123456789-0123456789-0123456789-0123456789"
COLUMNS = [
    "external_id",
    "order_date",
    "ship_date",
    "account_external_id",
    "product_sku",
    "quantity",
    "net_amount",
    "status",
]


def log(message: str) -> None:
    print(message, flush=True)


class Scratch:
    """The scratch database, the gunicorn server and the token, torn down in ``close``."""

    def __init__(self, args):
        self.args = args
        self.db_url = f"postgres://{args.pg_user}@{args.pg_host}:{args.pg_port}/{args.db}"
        self.pg = ["-h", args.pg_host, "-p", str(args.pg_port), "-U", args.pg_user]
        self.env = os.environ | {
            "DATABASE_URL": self.db_url,
            "DJANGO_SECRET_KEY": SECRET,
            "DJANGO_DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "API_RATE_LIMIT": "100000/min",
            # Keep each worker's connection for the whole run, so its backend's CPU can be read.
            "DATABASE_CONN_MAX_AGE": "600",
        }
        self.env.pop("REDIS_URL", None)  # cache/throttle per process is enough here
        self.server: subprocess.Popen | None = None
        self.port = 0
        self.token = ""
        self.created_db = False

    # -- database ---------------------------------------------------------------------------
    def psql(self, sql: str, *, quiet: bool = True) -> str:
        out = subprocess.run(
            ["psql", *self.pg, "-d", self.args.db, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def create_database(self) -> None:
        subprocess.run(["dropdb", *self.pg, "--if-exists", "--force", self.args.db], check=True)
        subprocess.run(["createdb", *self.pg, self.args.db], check=True)
        self.created_db = True
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=self.env, check=True)

    def create_token(self) -> None:
        out = subprocess.run(
            [
                PY,
                "manage.py",
                "create_api_client",
                "bench-erp",
                "--scopes",
                "master:write,sales:write",
                "--rate-limit",
                "100000/min",
            ],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        self.token = out.stdout.strip().splitlines()[-1].strip()

    # -- server -----------------------------------------------------------------------------
    def start_server(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = subprocess.Popen(
            [
                str(Path(PY).parent / "gunicorn"),
                "config.wsgi:application",
                "-w",
                str(self.args.workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "300",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status < 500 and len(self.server_pids()) > self.args.workers:
                    return
            except OSError:
                pass
            if self.server.poll() is not None:
                raise RuntimeError("gunicorn exited during start-up")
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def server_pids(self) -> list[int]:
        if self.server is None:
            return []
        master = self.server.pid
        pids = [master]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                    pids.append(int(entry))
        return pids

    def backend_pids(self) -> list[int]:
        """PostgreSQL backends serving the scratch database (the app's persistent connections)."""
        out = self.psql(
            f"SELECT pid FROM pg_stat_activity WHERE datname = '{self.args.db}' AND pid <> pg_backend_pid()"
        )
        return [int(p) for p in out.split()]

    def close(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
        if self.created_db and not self.args.keep_db:
            subprocess.run(["dropdb", *self.pg, "--if-exists", "--force", self.args.db], check=False)


class RssSampler(threading.Thread):
    """Peak of the summed VmRSS of the gunicorn master and its workers (from /proc), and of
    their summed PSS (shared library pages split between the processes mapping them; read
    every 5th sample: smaps_rollup costs more to read)."""

    def __init__(self, scratch: Scratch, every: float = 0.02):
        super().__init__(daemon=True)
        self.scratch, self.every = scratch, every
        self.peak_total_kb = 0
        self.peak_process_kb = 0
        self.peak_pss_kb = 0
        self.stopped = threading.Event()
        self.pids = scratch.server_pids()

    def run(self) -> None:
        tick = 0
        while not self.stopped.is_set():
            total = pss = 0
            for pid in self.pids:
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            kb = int(line.split()[1])
                            total += kb
                            self.peak_process_kb = max(self.peak_process_kb, kb)
                    if tick % 5 == 0:
                        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                            if line.startswith("Pss:"):
                                pss += int(line.split()[1])
                except OSError:
                    continue
            self.peak_total_kb = max(self.peak_total_kb, total)
            self.peak_pss_kb = max(self.peak_pss_kb, pss)
            tick += 1
            self.stopped.wait(self.every)


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each process (from /proc/<pid>/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())


# -- HTTP -------------------------------------------------------------------------------------
def post(scratch: Scratch, resource: str, body: bytes, content_type: str, key: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", scratch.port, timeout=600)
    headers = {"Authorization": f"Bearer {scratch.token}", "Content-Type": content_type}
    if key:
        headers["Idempotency-Key"] = key
    conn.request("POST", f"/api/v1/{resource}/bulk", body=body, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"{resource}: HTTP {response.status}: {payload[:2000]!r}")
    return json.loads(payload), dict(response.getheaders())


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode()


# -- data -------------------------------------------------------------------------------------
def master_data(rng: np.random.Generator, products: int, accounts: int):
    families = pd.DataFrame({"code": [f"FAM{i:02d}" for i in range(20)], "name": [f"Family {i}" for i in range(20)]})
    price = np.round(rng.lognormal(4.0, 1.0, products), 2).clip(1, 50_000)
    items = pd.DataFrame(
        {
            "sku": [f"SKU-{i:06d}" for i in range(products)],
            "name": [f"Product {i}" for i in range(products)],
            "family_code": families["code"].to_numpy()[rng.integers(0, 20, products)],
            "unit": "EA",
            "unit_price": [f"{p:.2f}" for p in price],
            "unit_cost": [f"{p * 0.6:.2f}" for p in price],
            "status": "active",
        }
    )
    countries = np.array(["US", "CA", "GB", "DE", "FR", "NL", "ES", "IT"])
    customers = pd.DataFrame(
        {
            "external_id": [f"C{i:07d}" for i in range(accounts)],
            "name": [f"Customer {i} Ltd" for i in range(accounts)],
            "industry": np.array(["manufacturing", "retail", "utilities", "healthcare", "food"])[
                rng.integers(0, 5, accounts)
            ],
            "country": countries[rng.integers(0, len(countries), accounts)],
            "region": "",
            "state": "",
            "city": "",
            "postal_code": [f"{z:05d}" for z in rng.integers(1000, 99999, accounts)],
        }
    )
    return families, items, customers, price


def order_lines(
    rng: np.random.Generator, n: int, items: pd.DataFrame, price: np.ndarray, customers: pd.DataFrame
) -> pd.DataFrame:
    """Order lines with a realistic shape: 1-8 lines per order, skewed product and customer
    popularity, ship 0-14 days after order (booked lines not shipped yet), ~3 % returns (sent
    negative) and ~2 % cancellations, discounts of 0-25 %."""
    n_products, n_accounts = len(items), len(customers)
    sizes = rng.integers(1, 9, n // 2 + 8)  # lines per order
    order_no = np.repeat(np.arange(len(sizes)), sizes)[:n]
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    line_no = np.arange(n) - first[order_no] + 1
    # One customer and one order date per order; skewed product and customer popularity.
    account = ((rng.zipf(1.2, len(sizes)) - 1) % n_accounts)[order_no]
    days = rng.integers(0, 3 * 365, len(sizes))[order_no]
    product = (rng.zipf(1.3, n) - 1) % n_products
    order_date = np.datetime64("2023-01-01") + days.astype("timedelta64[D]")
    status = rng.choice(
        np.array(["invoiced", "shipped", "booked", "returned", "cancelled"]), n, p=[0.70, 0.15, 0.10, 0.03, 0.02]
    )
    ship_date = order_date + rng.integers(0, 15, n).astype("timedelta64[D]")
    quantity = rng.integers(1, 60, n).astype(float)
    fractional = rng.random(n) < 0.1
    quantity[fractional] = np.round(quantity[fractional] + rng.random(fractional.sum()), 3)
    amount = np.round(quantity * price[product] * (1 - rng.integers(0, 26, n) / 100), 2)
    returned = status == "returned"
    ship_text = pd.Series(ship_date.astype(str))
    ship_text[status == "booked"] = ""
    return pd.DataFrame(
        {
            "external_id": [f"SO{o:07d}-{ln}" for o, ln in zip(order_no, line_no, strict=True)],
            "order_date": order_date.astype(str),
            "ship_date": ship_text.to_numpy(),
            "account_external_id": customers["external_id"].to_numpy()[account],
            "product_sku": items["sku"].to_numpy()[product],
            "quantity": np.where(returned, -quantity, quantity),
            "net_amount": [f"{a:.2f}" for a in np.where(returned, -amount, amount)],
            "status": status,
        }
    )


def load_territories(scratch: Scratch) -> None:
    """40 territories and an ownership history: every account owned by one territory until
    2024-06-30 and by another from 2024-07-01 (a realignment), so crediting is exercised."""
    scratch.psql("""
        INSERT INTO territories_territory (code, name, level, path, created_at, updated_at)
        SELECT 'T' || i, 'Territory ' || i, 'territory', '/T' || i || '/', now(), now()
        FROM generate_series(1, 40) AS i;
        WITH t AS (SELECT array_agg(id ORDER BY id) AS ids FROM territories_territory)
        INSERT INTO territories_accountassignment
            (account_id, territory_id, valid_from, valid_to, source, created_at, updated_at)
        SELECT a.id, t.ids[1 + a.id % 40], DATE '2020-01-01', DATE '2024-06-30', 'import', now(), now()
        FROM territories_account a, t
        UNION ALL
        SELECT a.id, t.ids[1 + (a.id * 7) % 40], DATE '2024-07-01', NULL, 'import', now(), now()
        FROM territories_account a, t;""")


def copy_rows_per_s(scratch: Scratch, csv_path: Path, rows: int, label: str) -> float:
    """Rate of ``psql \\copy`` of the CSV into a new bare, unindexed table."""
    table = f"bench_copy_raw_{label}"
    scratch.psql(f"""CREATE TABLE {table} (external_id text, order_date date, ship_date date,
                     account_external_id text, product_sku text, quantity numeric, net_amount numeric,
                     status text)""")
    t0 = time.monotonic()
    subprocess.run(
        [
            "psql",
            *scratch.pg,
            "-d",
            scratch.args.db,
            "-v",
            "ON_ERROR_STOP=1",
            "-qc",
            f"\\copy {table} FROM '{csv_path}' WITH (FORMAT csv, HEADER)",
        ],
        check=True,
    )
    return rows / (time.monotonic() - t0)


# -- the run ----------------------------------------------------------------------------------
def run(args) -> int:
    scratch = Scratch(args)
    tmp = tempfile.TemporaryDirectory(prefix="bench_ingest_")
    try:
        t0 = time.monotonic()
        scratch.create_database()
        scratch.create_token()
        scratch.start_server()
        log(
            f"Scratch database {args.db} migrated, gunicorn ({args.workers} workers) on port {scratch.port} "
            f"in {time.monotonic() - t0:.1f} s."
        )

        rng = np.random.default_rng(args.seed)
        families, items, customers, price = master_data(rng, args.products, args.accounts)
        for resource, frame in (("product-families", families), ("products", items), ("accounts", customers)):
            post(scratch, resource, csv_bytes(frame), "text/csv")
        load_territories(scratch)
        log(f"Master data: {len(items):,} products, {len(customers):,} accounts, 40 territories.")

        t0 = time.monotonic()
        lines = order_lines(rng, args.rows, items, price, customers)
        batches = [lines.iloc[i : i + args.batch] for i in range(0, len(lines), args.batch)]
        if args.format == "csv":
            bodies = [csv_bytes(b) for b in batches]
            content_type = "text/csv"
        else:
            bodies = [b.astype(str).to_json(orient="records").encode() for b in batches]
            content_type = "application/json"
        keys = [f"bench-{args.seed}-{i:04d}" for i in range(len(bodies))]
        log(
            f"Generated {len(lines):,} order lines in {len(bodies)} {args.format.upper()} batches of "
            f"{args.batch:,} ({sum(map(len, bodies)) / 1e6:.0f} MB) in {time.monotonic() - t0:.1f} s "
            "(not timed)."
        )

        csv_path = Path(tmp.name) / "lines.csv"
        lines.to_csv(csv_path, index=False, lineterminator="\n")
        copy_before = copy_rows_per_s(scratch, csv_path, len(lines), "before")
        scratch.psql("DROP TABLE bench_copy_raw_before")

        sampler = RssSampler(scratch)
        sampler.start()
        results = [None] * len(bodies)

        def send(i: int) -> None:
            results[i] = post(scratch, "sales-lines", bodies[i], content_type, keys[i])[0]

        server_cpu0 = cpu_seconds(scratch.server_pids())
        db_cpu0 = cpu_seconds(scratch.backend_pids())
        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            list(pool.map(send, range(len(bodies))))
        api_seconds = time.monotonic() - t0
        server_cpu = cpu_used(server_cpu0, cpu_seconds(scratch.server_pids()))
        db_cpu = cpu_used(db_cpu0, cpu_seconds(scratch.backend_pids()))
        created = sum(r["created"] for r in results)
        stored = int(scratch.psql("SELECT count(*) FROM sop_salesorderline"))
        if created != len(lines) or stored != len(lines):
            raise RuntimeError(f"expected {len(lines):,} new lines, API created {created:,}, table holds {stored:,}")
        api_rate = len(lines) / api_seconds
        log(
            f"API: {len(lines):,} rows in {api_seconds:.2f} s = {api_rate:,.0f} rows/s end to end "
            f"({args.format.upper()}, {args.threads} client threads, {args.workers} gunicorn workers)."
        )
        per_million = 1_000_000 / len(lines)
        log(
            f"CPU per 1M rows: gunicorn {server_cpu * per_million:.1f} s, PostgreSQL backends "
            f"{db_cpu * per_million:.1f} s (WAL writer/checkpointer not counted); the machine's load average "
            f"during the run was {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores."
        )

        # The same rows with psql \copy into a bare unindexed table, measured just before and
        # just after the API run (the machine is shared: its speed drifts within a minute).
        copy_after = copy_rows_per_s(scratch, csv_path, len(lines), "after")
        copy_rate = (copy_before + copy_after) / 2
        log(
            f"psql \\copy into a bare unindexed table: {copy_before:,.0f} rows/s before the API run, "
            f"{copy_after:,.0f} rows/s after; mean {copy_rate:,.0f} rows/s."
        )
        log(f"Ratio API / \\copy: {api_rate / copy_rate:.2f}")

        # Replay one batch with its Idempotency-Key: the stored first answer, no second write.
        t0 = time.monotonic()
        replay, headers = post(scratch, "sales-lines", bodies[0], content_type, keys[0])
        replay_seconds = time.monotonic() - t0
        assert headers.get("Idempotent-Replayed") == "true" and replay == results[0], "replay differs"
        assert int(scratch.psql("SELECT count(*) FROM sop_salesorderline")) == len(lines)
        log(
            f"Replay of one {len(batches[0]):,}-row batch with its Idempotency-Key: "
            f"{replay_seconds * 1000:.0f} ms (Idempotent-Replayed: true, no rows written)."
        )

        sampler.stopped.set()
        sampler.join()
        log(
            f"Peak server RSS (gunicorn master + {args.workers} workers): {sampler.peak_total_kb / 1024:,.0f} MB "
            f"(largest single process {sampler.peak_process_kb / 1024:,.0f} MB); peak PSS "
            f"{sampler.peak_pss_kb / 1024:,.0f} MB (shared library pages counted once)."
        )
        summary = {
            "rows": len(lines),
            "api_seconds": round(api_seconds, 3),
            "api_rows_per_s": round(api_rate),
            "server_cpu_s": round(server_cpu, 1),
            "db_cpu_s": round(db_cpu, 1),
            "copy_rows_per_s": round(copy_rate),
            "copy_before": round(copy_before),
            "copy_after": round(copy_after),
            "ratio": round(api_rate / copy_rate, 3),
            "replay_ms": round(replay_seconds * 1000),
            "peak_rss_mb": round(sampler.peak_total_kb / 1024),
            "peak_pss_mb": round(sampler.peak_pss_kb / 1024),
        }
        log("SUMMARY " + json.dumps(summary))
        targets = (
            api_rate >= 100_000,
            api_rate / copy_rate >= 0.25,
            replay_seconds < 1,
            sampler.peak_total_kb < 1024 * 1024,
        )
        log(
            "Targets (>= 100k rows/s, >= 0.25 of \\copy, replay < 1 s, RSS < 1 GB): "
            + ", ".join("met" if ok else "MISSED" for ok in targets)
        )
        return 0
    finally:
        scratch.close()
        tmp.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--threads", type=int, default=3, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.add_argument("--products", type=int, default=5_000)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", default="sop_bench_ingest")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--keep-db", action="store_true", help="leave the scratch database for inspection")
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
