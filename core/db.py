"""Database helpers shared by the apps' models."""

from __future__ import annotations

from django.db import models


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
