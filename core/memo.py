"""Values a process keeps while the tables they were read from are unchanged.

For reads that many pages repeat and that only change when their tables do (stock by age, the
cycle's executive summary, forecast value added of the published cycles, a finished plan
run's figures). A value is reused only while each table's version — row count, latest
``updated_at`` and highest id (one aggregate per table, all in one query: name small tables)
— is the one read just before it was built; the figures are never older than their tables.
Keys carry the database, so test databases never share.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

MAX_ENTRIES = 512

_built: dict[tuple, tuple[tuple, Any]] = {}
_lock = threading.Lock()


def tables_version(models: tuple) -> tuple:
    """Row count, latest ``updated_at`` and highest id of each of ``models``, in one round trip."""
    if not models:
        return ()
    qn = connection.ops.quote_name

    def latest(model) -> str:  # tables written only with their parent row (no updated_at): NULL
        fields = {f.name: f for f in model._meta.concrete_fields}
        return f"max({qn(fields['updated_at'].column)})" if "updated_at" in fields else "NULL"

    parts = [
        f"SELECT {i}, count(*), {latest(m)}, max({qn(m._meta.pk.column)}) FROM {qn(m._meta.db_table)}"
        for i, m in enumerate(models)
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts))
        rows = sorted(cursor.fetchall())
    return tuple(tuple(row[1:]) for row in rows)


def by_tables(name: str, models: tuple, build: Callable[[], Any], *, version: tuple = ()) -> Any:
    """``build()``, or the value built earlier under ``name`` while ``models``' tables are
    unchanged and ``version`` (a version the caller read, e.g. ``sales.selectors.sales_version``)
    is the same (``models=()`` and no ``version``: for as long as the process lives — for what
    never changes, such as the lines of a finished run, named by the run)."""
    version = (*version, *tables_version(models))
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
