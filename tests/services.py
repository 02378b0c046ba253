"""Helpers for tests that need the real services (PostgreSQL + Redis + a Celery worker)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

requires_services = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL")),
    reason="needs the full stack: set DATABASE_URL=postgres://… and REDIS_URL=redis://… (CI's second pass does)",
)


@contextmanager
def celery_worker(queue: str, *, concurrency: int = 1):
    """Run a real ``celery worker`` process on the test database, consuming ``queue``."""
    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env.setdefault("DJANGO_SECRET_KEY", "test-worker-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
    env["CELERY_TASK_ALWAYS_EAGER"] = "0"
    env["CELERY_QUEUE"] = queue  # tasks the worker sends on go to its own queue too
    # Output goes to a file (a pipe nobody reads can fill up and block the worker), and the
    # worker gets its own process group so its pool children never outlive the test.
    log = tempfile.NamedTemporaryFile(prefix=f"{queue}-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "--concurrency", str(concurrency),
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-n", f"{queue}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    process.log_path = log.name
    try:
        yield process
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass
        log.close()


def worker_output(process) -> str:
    """The last lines a worker started by :func:`celery_worker` printed."""
    with open(process.log_path) as fh:
        return fh.read()[-3000:]


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


@contextmanager
def real_broker(queue: str | None = None):
    """Send tasks to the real broker (on ``queue``) instead of running them eagerly."""
    from config.celery import app

    previous = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager = False
    if queue:
        app.conf.task_default_queue = queue
    try:
        yield app
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = previous
