"""Reference data for ingestion, kept per process and reused while its table is unchanged.

Every batch needs the natural key → id maps of the tables it references (5,000 products and
20,000 accounts are 25,000 rows to fetch and hash) and, for sales lines, the account
ownership history. Fetching them again for each of twenty 50k-row batches cost more than
validating the batch. A cached value is used only while its table's version — row count,
latest ``updated_at`` and highest id, one aggregate query — is the one it was built from;
any insert, delete or ORM/bulk update changes it. Tables without ``updated_at`` (users) are
not cached.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

from core.memo import tables_version

_cache: dict[tuple, tuple[tuple, Any]] = {}
_lock = threading.Lock()
MAX_ENTRIES = 64


def table_version(model) -> tuple | None:
    """Row count, latest ``updated_at`` and highest id (``core.memo.tables_version``); None for a
    table without ``updated_at`` (not cached here)."""
    if "updated_at" not in {f.name for f in model._meta.concrete_fields}:
        return None
    return tables_version((model,))[0]


def cached_by_version(name: str, model, build: Callable[[], Any]) -> Any:
    """``build()``, or the value built earlier while ``model``'s table is unchanged since."""
    return cached_with_version(name, model, build)[0]


def cached_with_version(name: str, model, build: Callable[[], Any]) -> tuple[Any, tuple | None]:
    """The cached value and the table version it was built from (read just before building)."""
    version = table_version(model)
    if version is None:
        return build(), None
    key = (connection.alias, connection.settings_dict.get("NAME"), name)
    with _lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == version:
        return hit[1], version
    value = build()
    with _lock:
        if len(_cache) >= MAX_ENTRIES:
            _cache.clear()
        _cache[key] = (version, value)
    return value, version


def clear() -> None:
    with _lock:
        _cache.clear()
