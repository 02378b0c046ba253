"""Helpers for tests that need the real services (PostgreSQL + Redis + a Celery worker)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

requires_services = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL")),
    reason="needs the full stack: set DATABASE_URL=postgres://… and REDIS_URL=redis://… (CI's second pass does)",
)


def _process_env(queue: str, env: dict[str, str] | None, db_port: int | None) -> dict[str, str]:
    """Environment of a worker or beat process on the test database (through ``db_port``, a
    proxy, when given), sending follow-up tasks to ``queue``."""
    from django.db import connection

    db = connection.settings_dict
    out = dict(os.environ)
    out["DATABASE_URL"] = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db_port or db['PORT'] or 5432}/{db['NAME']}"
    )
    out["DJANGO_SETTINGS_MODULE"] = "config.settings"
    out.setdefault("DJANGO_SECRET_KEY", "test-worker-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
    out["CELERY_TASK_ALWAYS_EAGER"] = "0"
    out["CELERY_QUEUE"] = queue  # tasks the worker sends on go to its own queue too
    out.update(env or {})
    return out


@contextmanager
def _process(args: list[str], *, name: str, env: dict[str, str]):
    # Output goes to a file (a pipe nobody reads can fill up and block the process), and the
    # process gets its own group so its pool children never outlive the test.
    log = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    process.log_path = log.name
    try:
        yield process
    finally:
        stop_process_group(process)
        log.close()


def stop_process_group(process, sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


@contextmanager
def celery_worker(queue: str, *, concurrency: int = 1, env: dict[str, str] | None = None, db_port: int | None = None):
    """Run a real ``celery worker`` process on the test database, consuming ``queue``."""
    args = [
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        queue,
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"{queue}@%h",
    ]
    with _process(args, name=queue, env=_process_env(queue, env, db_port)) as process:
        yield process


@contextmanager
def celery_beat(queue: str, *, env: dict[str, str] | None = None):
    """Run ``celery beat`` (the database scheduler, as in production) sending to ``queue``."""
    args = ["celery", "-A", "config", "beat", "--loglevel", "WARNING", "--pidfile="]
    with _process(args, name=f"beat-{queue}", env=_process_env(queue, env, None)) as process:
        yield process


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
def real_broker(queue: str | None = None, *, url: str | None = None):
    """Send tasks to the real broker (on ``queue``; at ``url``, e.g. a private Redis, when
    given) instead of running them eagerly."""
    from config.celery import app

    previous = app.conf.task_always_eager, app.conf.task_default_queue, app.conf.broker_url
    app.conf.task_always_eager = False
    if queue:
        app.conf.task_default_queue = queue
    if url:
        _use_broker(app, url)
    try:
        yield app
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = previous[:2]
        if url:
            _use_broker(app, previous[2])


def _use_broker(app, url: str) -> None:
    app.conf.broker_url = url
    app._pool = None  # connection and producer pools are cached per app: start afresh
    app.amqp._producer_pool = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server of the test's own (no persistence), to stop, restart or freeze at will;
    the shared one is never touched."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        if not wait_for(self.answers, timeout=10, interval=0.05):
            raise RuntimeError(f"private redis-server on port {self.port} did not start")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Gone, and everything it held with it (no persistence)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def freeze(self) -> None:
        """Hung: connections are accepted by the kernel, nothing answers."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.thaw()
        self.stop()


class TcpProxy:
    """A TCP proxy the test controls, in front of a shared server (PostgreSQL): ``cut()``
    closes every connection and refuses new ones, as a database that went away does;
    ``restore()`` lets connections through again. The server itself is never touched."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone would not
            except OSError:
                pass
            listener.close()
        with self.lock:
            for conn in self.connections:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()
            self.connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for conn in (source, sink):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def __enter__(self) -> TcpProxy:
        self.restore()
        return self

    def __exit__(self, *exc) -> None:
        self.cut()
