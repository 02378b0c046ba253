"""Values a process keeps while the tables they were read from are unchanged.

For reads that many pages repeat and that only change when their tables do (stock by age, the
cycle's executive summary, forecast value added of the published cycles, a finished plan
run's figures). A value is reused only while each table's version — row count, latest
``updated_at`` and highest id (``core.bulk.cache.table_version``, one aggregate query per
table, so name small tables) — is the one read just before it was built; the figures are
never older than their tables. Keys carry the database, so test databases never share.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

from core.bulk.cache import table_version

MAX_ENTRIES = 512

_built: dict[tuple, tuple[tuple, Any]] = {}
_lock = threading.Lock()


def by_tables(name: str, models: tuple, build: Callable[[], Any], *, version: tuple = ()) -> Any:
    """``build()``, or the value built earlier under ``name`` while ``models``' tables are
    unchanged and ``version`` (a version the caller read, e.g. ``sales.selectors.sales_version``)
    is the same (``models=()`` and no ``version``: for as long as the process lives — for what
    never changes, such as the lines of a finished run, named by the run)."""
    version = (*version, *(table_version(model) for model in models))
    key = (connection.alias, connection.settings_dict.get("NAME"), name)
    with _lock:
        hit = _built.get(key)
    if hit is not None and hit[0] == version:
        return hit[1]
    value = build()
    with _lock:
        if len(_built) >= MAX_ENTRIES:
            _built.clear()
        _built[key] = (version, value)
    return value


def clear() -> None:
    with _lock:
        _built.clear()
