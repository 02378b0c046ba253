"""Declarations of bulk-upsert resources: fields, natural key, references, row rules.

Pure data (no Django): the validator reads a spec to check a batch; the writer reads the
same spec to build its SQL. Each app declares its resources in ``<app>/bulk.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

FieldKind = str  # "str" | "decimal" | "date" | "choice" | "int" | "bool" | "list"


@dataclass(frozen=True)
class Ref:
    """A reference by natural key to another table, stored as ``<column>`` (an id)."""

    table: str  # human name for messages, e.g. "product"
    column: str  # db column receiving the id, e.g. "product_id"
    model: str  # "app_label.Model" the key is looked up in
    key: str  # natural-key field on that model, e.g. "sku"


@dataclass(frozen=True)
class Field:
    name: str
    kind: FieldKind = "str"
    required: bool = True
    max_length: int | None = None
    max_digits: int | None = None
    decimal_places: int | None = None
    choices: tuple[str, ...] | None = None
    min_value: float | None = None  # for decimal / int (inclusive)
    column: str | None = None  # db column; None = same as name; "" = not stored
    ref: Ref | None = None
    default: str | None = None  # value used when the column is absent or the cell empty

    @property
    def db_column(self) -> str:
        if self.ref is not None:
            return self.ref.column
        return self.name if self.column is None else self.column


@dataclass(frozen=True)
class ReferenceGuard:
    """References the database does not check row by row (no foreign-key constraint, for
    speed): the writer takes ``pg_advisory_xact_lock_shared(lock_key)`` in the write
    transaction and re-verifies that every referenced id still exists; deletes of the
    referenced rows take the same lock exclusively (see ``sales/db_guards.py``)."""

    lock_key: int
    tables: tuple[tuple[str, str], ...]  # (db column, referenced table), e.g. ("product_id", "inventory_product")


RowRule = Callable[[pd.DataFrame], "pd.DataFrame"]
"""A vectorised check over the parsed frame → error rows (index, field, code, message)."""


@dataclass(frozen=True)
class ResourceSpec:
    name: str  # URL name, e.g. "sales-lines"
    table: str  # db table
    key: tuple[str, ...]  # natural key (API field names)
    fields: tuple[Field, ...]
    scope: str  # token scope required to write
    rules: tuple[RowRule, ...] = ()
    # Computes extra db columns from the parsed frame and reference data (e.g. the territory
    # owning the account on the order date); gets (frame, context) and returns new columns.
    derive: Callable[[pd.DataFrame, dict], dict[str, pd.Series]] | None = None
    derived_columns: tuple[str, ...] = ()
    # Loads what ``derive`` needs from the database (called by the service, not the validator).
    load_context: Callable[[], dict] | None = None
    reference_guard: ReferenceGuard | None = None
    # Columnar twins of ``rules`` and ``derive`` for the CSV fast path (``core.bulk.columnar``):
    # each fast rule gets {field: Arrow array} and returns True when every row passes (it
    # names no error: on False the exact path runs ``rules``); ``fast_derive`` returns the
    # same columns as ``derive``, as Arrow arrays. A spec with rules but no fast twins always
    # takes the exact path.
    fast_rules: tuple[Callable[[dict], bool], ...] | None = None
    fast_derive: Callable[[dict, dict], dict] | None = None
    description: str = ""
    extra: dict = field(default_factory=dict)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def key_columns(self) -> tuple[str, ...]:
        return tuple(self.field(k).db_column for k in self.key)

    @property
    def stored_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.db_column)
