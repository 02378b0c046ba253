"""Liveness of the database, the task queue and the shared cache, for /healthz.

Every check runs in its own thread and the report waits for them at most ``DEADLINE``
seconds together, so /healthz answers within 2 s whatever is down or hung. A check still
stuck from an earlier call is not started again (no pile of blocked threads). What is shown
is a fixed word per dependency — never a host, a port or a driver's message (those go to the
log).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection, connections

from core.runs import queue_available

log = logging.getLogger(__name__)

DEADLINE = 1.5
OK, DOWN, NO_ANSWER = "ok", "unreachable", f"no answer within {DEADLINE:g} s"

_in_flight: dict[str, threading.Thread] = {}
_lock = threading.Lock()


def database_status() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, OK
    except Exception as exc:  # any driver error means "down"
        log.warning("health: database unreachable: %s: %s", type(exc).__name__, exc)
        return False, DOWN
    finally:
        if threading.current_thread() is not threading.main_thread():
            connections.close_all()  # the probe thread's own connection


def broker_status() -> tuple[bool, str]:
    ok = queue_available(timeout=1.0)
    return ok, OK if ok else DOWN


def cache_status() -> tuple[bool, str]:
    try:
        cache.get("healthz-probe")
        return True, OK
    except Exception as exc:  # refused, hung past its socket timeout, ...
        log.warning("health: cache unreachable: %s: %s", type(exc).__name__, exc)
        return False, DOWN


def report(deadline: float = DEADLINE) -> dict[str, tuple[bool, str]]:
    """Each dependency's (ok, word), all checked at once within ``deadline`` seconds."""
    checks: dict[str, Callable[[], tuple[bool, str]]] = {
        "database": database_status,
        "broker": broker_status,
        "cache": cache_status,
    }
    results: dict[str, tuple[bool, str]] = {}
    started: list[tuple[str, threading.Thread]] = []
    with _lock:
        for name, check in checks.items():
            previous = _in_flight.get(name)
            if previous is not None and previous.is_alive():
                results[name] = (False, NO_ANSWER)  # still stuck since an earlier call
                continue
            thread = threading.Thread(
                target=lambda n=name, c=check: results.__setitem__(n, c()), name=f"healthz-{name}", daemon=True
            )
            _in_flight[name] = thread
            thread.start()
            started.append((name, thread))
    end = time.monotonic() + deadline
    for name, thread in started:
        thread.join(timeout=max(end - time.monotonic(), 0))
        if thread.is_alive():
            log.warning("health: the %s check gave no answer within %s s", name, deadline)
    return {name: results.get(name, (False, NO_ANSWER)) for name in checks}
