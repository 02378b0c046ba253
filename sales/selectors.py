"""Reads of sales lines for territory performance (tree, balancing, attainment, quota
allocation), handed to territories in ``SalesConfig.ready`` (``territories/sources.py``).

Every sum counts what is demand and sales credit: cancelled lines are left out, returns net."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
from django.db.models import F, Max, Q, Sum
from django.db.models.functions import TruncMonth

from core.calendar import add_months
from core.memo import tables_version
from core.models import IngestBatch
from sales.models import SalesOrderLine
from territories.models import Account, AccountAssignment, Territory, TerritoryAssignment
from territories.money import ZERO, decimal_column, quantize

CENT = Decimal("0.01")

#: Every way sales lines are written changes one of these small tables in the same
#: transaction: a bulk batch (API or upload) records an ``IngestBatch``; a realignment
#: re-stamps lines while it writes ``AccountAssignment`` rows; the demo seed recreates the
#: accounts and territories. The admin shows lines read-only.
#: (``tests/dashboards/test_fresh_figures.py``)
WRITE_MARKERS = (IngestBatch, AccountAssignment, TerritoryAssignment, Account, Territory)


def sales_version() -> tuple:
    """A version of the sales lines and of who owns them for figures kept per process
    (``core.memo``): two queries, not a count of a million lines; equal versions, equal lines."""
    latest = SalesOrderLine.objects.aggregate(latest=Max("id"))["latest"]
    return (latest, *tables_version(WRITE_MARKERS))


MEASURE_VALUE = {"revenue": "net_amount", "units": "quantity"}


def _measure_expression(measure: str):
    if measure == "margin":
        return F("net_amount") - F("quantity") * F("product__unit_cost")
    return F(MEASURE_VALUE[measure])


def sales_by_territory(
    *, start: dt.date, end: dt.date, territory_ids: list[int] | None = None
) -> dict[int | None, Decimal]:
    """Net amount per territory id (``None``: lines credited to no territory) ordered from
    ``start`` to ``end`` inclusive."""
    lines = SalesOrderLine.objects.counting().between(start, end)
    if territory_ids is not None:
        lines = lines.filter(territory_id__in=territory_ids)
    return dict(lines.values("territory_id").annotate(t=Sum("net_amount")).values_list("territory_id", "t"))


def sales_by_account(*, start: dt.date, end: dt.date, account_ids: list[int] | None = None) -> dict[int, Decimal]:
    """Net amount per account id ordered from ``start`` to ``end`` inclusive (all accounts
    when ``account_ids`` is ``None``: cheaper than a long ``IN`` list)."""
    lines = SalesOrderLine.objects.counting().between(start, end)
    if account_ids is not None:
        lines = lines.filter(account_id__in=account_ids)
    return dict(lines.values("account_id").annotate(total=Sum("net_amount")).values_list("account_id", "total"))


def sales_by_month(*, start: dt.date, end: dt.date, measure: str, path: str | None = None) -> pd.DataFrame:
    """``period_start``, ``amount`` (units for ``measure`` ``units``, else net amount) per month
    of the lines ordered from ``start`` to ``end`` inclusive, under the territory ``path`` if given."""
    lines = SalesOrderLine.objects.counting().between(start, end)
    if path is not None:
        lines = lines.filter(territory__path__startswith=path)
    value = "quantity" if measure == "units" else "net_amount"
    rows = lines.annotate(m=TruncMonth("order_date")).values("m").annotate(t=Sum(value)).values_list("m", "t")
    return pd.DataFrame.from_records(list(rows), columns=["period_start", "amount"])


def family_units_by_month(*, first: dt.date, before: dt.date, months: list[dt.date]) -> list[tuple]:
    """Units per month (of ``months``) × territory id × family (id, code) of the lines ordered
    from ``first`` up to the day before ``before``, credited to a territory."""
    rows = (
        SalesOrderLine.objects.counting()
        .filter(order_date__gte=first, order_date__lt=before, territory__isnull=False)
        .annotate(m=TruncMonth("order_date"))
        .filter(m__in=months)
        .values("m", "territory_id", "product__family_id", "product__family__code")
        .annotate(q=Sum("quantity"))
        .values_list("m", "territory_id", "product__family_id", "product__family__code", "q")
    )
    return [(m.date() if isinstance(m, dt.datetime) else m, *rest) for m, *rest in rows]


def daily_sales(*, start: dt.date, end: dt.date, measure: str) -> pd.DataFrame:
    """Sales per territory × order date (cancelled lines left out, returns netted):
    ``line_id`` (a row number), ``territory_code``, ``order_date``, ``quantity``, ``amount``
    (the measure). Crediting is linear, so crediting these sums equals summing the credits of
    every line, at a fraction of the rows."""
    rows = (
        SalesOrderLine.objects.counting()
        .between(start, end)
        .filter(territory__isnull=False)
        .values("territory__code", "order_date")
        .annotate(value=Sum(_measure_expression(measure)))
        .order_by("territory__code", "order_date")
        .values_list("territory__code", "order_date", "value")
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["territory_code", "order_date", "amount"])
    frame.insert(0, "line_id", range(len(frame)))
    frame["account_id"] = 0
    frame["amount"] = decimal_column(frame["amount"]).map(lambda d: quantize(d, CENT)).to_numpy()
    frame["quantity"] = frame["amount"]
    return frame


def attainment_lines(
    *, user, owner_kind: str, owner: str, period_start: dt.date, measure: str = "revenue", limit: int = 500
) -> list[dict]:
    """The order lines behind one attainment cell, with the credit they gave ``owner``.

    Cancelled lines are listed with no credit; returns carry a negative credit.
    """
    start = period_start.replace(day=1)
    end = add_months(start, 1) - dt.timedelta(days=1)
    lines = SalesOrderLine.objects.for_user(user).between(start, end)
    share_of: list[tuple[int, dt.date, dt.date, Decimal]] = []
    if owner_kind == "rep":
        q = Q(pk__in=[])
        for territory_id, valid_from, valid_to, share in (
            TerritoryAssignment.objects.filter(rep__username=owner, valid_from__lte=end)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
            .values_list("territory_id", "valid_from", "valid_to", "share")
        ):
            lo, hi = max(valid_from, start), min(valid_to or end, end)
            q |= Q(territory_id=territory_id, order_date__gte=lo, order_date__lte=hi)
            share_of.append((territory_id, lo, hi, share))
        lines = lines.filter(q)
    else:
        lines = lines.filter(territory__path__startswith=Territory.objects.get(code=owner).path)
    rows = []
    for line in lines.select_related("account", "product", "territory").order_by("order_date", "external_id")[:limit]:
        value = {
            "revenue": line.net_amount,
            "units": line.quantity,
            "margin": line.net_amount - line.quantity * line.product.unit_cost,
        }[measure]
        share = Decimal(100)
        for territory_id, lo, hi, s in share_of:
            if line.territory_id == territory_id and lo <= line.order_date <= hi:
                share = s
        counts = line.status != "cancelled"
        rows.append(
            {
                "external_id": line.external_id,
                "order_date": line.order_date,
                "status": line.status,
                "account": line.account.name,
                "account_external_id": line.account.external_id,
                "product": line.product.sku,
                "territory": line.territory.code if line.territory else "",
                "quantity": line.quantity,
                "net_amount": line.net_amount,
                "share": share,
                "credit": quantize(value * share / 100, CENT) if counts else ZERO,
            }
        )
    return rows
