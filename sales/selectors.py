"""Reads about the sales lines that pages above share."""

from __future__ import annotations

from django.db.models import Max

from core.memo import tables_version
from core.models import IngestBatch
from sales.models import SalesOrderLine
from territories.models import Account, AccountAssignment, Territory, TerritoryAssignment

#: Every way sales lines are written changes one of these small tables in the same
#: transaction: a bulk batch (API or upload) records an ``IngestBatch``; a realignment
#: re-stamps lines while it writes ``AccountAssignment`` rows; the demo seed recreates the
#: accounts and territories. The admin shows lines read-only. (``tests/sales/test_version.py``)
WRITE_MARKERS = (IngestBatch, AccountAssignment, TerritoryAssignment, Account, Territory)


def sales_version() -> tuple:
    """A version of the sales lines and of who owns them that costs five small aggregates and
    one index look-up (two queries) — not a count of a million lines: equal versions, equal lines."""
    latest = SalesOrderLine.objects.aggregate(latest=Max("id"))["latest"]
    return (latest, *tables_version(WRITE_MARKERS))
