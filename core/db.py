"""Database helpers shared by the apps' models."""

from __future__ import annotations

import zlib

from django.db import connection, models


def lock_for_transaction(name: str) -> None:
    """Serialise the transactions that take ``name`` until the current one ends (call inside
    ``transaction.atomic``): a PostgreSQL advisory lock. SQLite needs none: its IMMEDIATE
    transactions (config/settings.py) already let one writer in at a time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(name.encode())])


class DateRangeIndex(models.Index):
    """An index for range reads on a column that grows with insertion order (dates, timestamps).

    PostgreSQL: BRIN with ``autosummarize`` — a few pages for millions of rows and almost no
    cost per inserted row, exact for append-mostly fact tables whose physical order follows
    the column. Other databases: a plain B-tree.
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        statement = super().create_sql(model, schema_editor, using=" USING brin", **kwargs)
        statement.parts["extra"] = " WITH (autosummarize = on)" + statement.parts["extra"]
        return statement


class ByteOrderCharField(models.CharField):
    """An identifier compared byte for byte (external ids): the "C" collation on PostgreSQL,
    whose index inserts and look-ups skip locale-aware comparison (≈ 1-2 µs less per
    ingested sales line: bench/sales_table_costs.py); the database default elsewhere."""

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params
