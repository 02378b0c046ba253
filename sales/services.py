"""Writes to sales lines other than the bulk ingestion (``sales/bulk.py``)."""

from __future__ import annotations

import datetime as dt

from sales.models import SalesOrderLine


def sales_lines_restamp(*, moves: dict[int, int], effective_from: dt.date) -> None:
    """Credit the lines of moved accounts (id → territory id) ordered on or after
    ``effective_from`` to their new territory, which is what the ingestion would have stamped;
    earlier lines keep theirs (history never moves). Runs inside the caller's transaction
    (territories' ownership move, through ``territories.sources``)."""
    by_territory: dict[int, list[int]] = {}
    for account_id, territory_id in moves.items():
        by_territory.setdefault(territory_id, []).append(account_id)
    for territory_id, account_ids in by_territory.items():
        SalesOrderLine.objects.filter(account_id__in=account_ids, order_date__gte=effective_from).update(
            territory_id=territory_id
        )
