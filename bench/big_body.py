"""Peak memory of a gunicorn worker that is sent a 200 MB CSV (issue 12: "big bodies are
buffered": a worker grew from 183 MB to 1.1 GB before the row limit answered).

Starts one sync gunicorn worker per case on a scratch SQLite company (embedded mode, so it
needs no server), sends the body from a file on disk (the client holds none of it in memory)
and reads the worker's peak resident memory (VmHWM) from /proc. Cases:

* ``over-size``: 200 MB of sales lines, over the 64 MB body limit → 413 by Content-Length
* ``over-rows``: the same 200 MB with the size limit raised to 256 MB → 400 at row 100,001
* ``valid``: 100,000 lines (about 10 MB), all valid → 200, written (for comparison)

    .venv/bin/python bench/big_body.py [--mb 200]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str) -> str:
    return subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


def worker_pid(master: int) -> int:
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("no gunicorn worker")


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def sales_csv(path: Path, *, rows: int | None, megabytes: int | None, accounts: list[str], skus: list[str]) -> int:
    with path.open("w") as out:
        out.write("external_id,order_date,account_external_id,product_sku,quantity,net_amount,status\n")
        i = 0
        while (rows is not None and i < rows) or (megabytes is not None and out.tell() < megabytes * 2**20):
            out.write(
                f"BIG-{i:09d},2026-05-{i % 28 + 1:02d},{accounts[i % len(accounts)]},{skus[i % len(skus)]},"
                f"{i % 7 + 1},{(i % 9000) / 10 + 1:.2f},invoiced\n"
            )
            i += 1
    return path.stat().st_size


def send(port: int, token: str, path: Path) -> tuple[int, dict, float]:
    size = path.stat().st_size
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.putrequest("POST", "/api/v1/sales-lines/bulk")
    conn.putheader("Authorization", f"Bearer {token}")
    conn.putheader("Content-Type", "text/csv")
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    try:
        with path.open("rb") as body:
            while chunk := body.read(1 << 20):
                conn.send(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered (and closed) before the whole body was sent
    response = conn.getresponse()
    payload = json.loads(response.read() or b"{}")
    conn.close()
    return response.status, payload, time.monotonic() - started


def run_case(name: str, env: dict, token: str, body: Path) -> dict:
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(PY).parent / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "600",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        pid = worker_pid(server.pid)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        warm.request("GET", "/api/v1/products/?page_size=1", headers={"Authorization": f"Bearer {token}"})
        warm.getresponse().read()
        before = rss_mb(pid)
        status, payload, seconds = send(port, token, body)
        error = payload.get("error", {})
        return {
            "case": name,
            "body_mb": round(body.stat().st_size / 2**20, 1),
            "status": status,
            "code": error.get("code") or payload.get("status"),
            "seconds": round(seconds, 2),
            "worker_rss_before_mb": round(before, 1),
            "worker_peak_mb": round(peak_mb(pid), 1),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    options = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="sop-bigbody-"))
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(SOP_VAR_DIR=str(scratch), DJANGO_SETTINGS_MODULE="config.settings", API_RATE_LIMIT="100000/min")
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "seed_demo", "--scale", "tiny")
        token = manage(env, "create_api_client", "bench", "--scopes", "sales:write,master:write").split()[-1]
        codes = json.loads(
            manage(
                env,
                "shell",
                "-c",
                (
                    "import json; from territories.models import Account; from inventory.models import Product; "
                    "print(json.dumps([list(Account.objects.values_list('external_id', flat=True)[:50]), "
                    "list(Product.objects.values_list('sku', flat=True)[:50])]))"
                ),
            ).splitlines()[-1]
        )
        big = scratch / "big.csv"
        sales_csv(big, rows=None, megabytes=options.mb, accounts=codes[0], skus=codes[1])
        valid = scratch / "valid.csv"
        sales_csv(valid, rows=100_000, megabytes=None, accounts=codes[0], skus=codes[1])
        results = [
            run_case("over-size", env, token, big),
            run_case("over-rows", {**env, "API_MAX_BODY_MB": "256"}, token, big),
            run_case("valid", env, token, valid),
        ]
        for result in results:
            print(json.dumps(result))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
