"""Reads of the territories app: ORM rows → QuerySets and DataFrames for pages, the API and
the pure calculations (``territories.calculations``)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.db.models import Case, IntegerField, Sum, Value, When

from territories.models import Quota, QuotaPlan

FAMILY_QUOTA_COLUMNS = ["family_code", "territory_code", "period_start", "quota_qty"]
_STATUS_RANK = Case(
    When(status=QuotaPlan.Status.APPROVED, then=Value(0)),
    When(status=QuotaPlan.Status.SUBMITTED, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def quota_plan_current(*, period_starts: list[dt.date] | None = None) -> QuotaPlan | None:
    """The plan that counts: the latest approved one, else the latest submitted, else draft.

    With ``period_starts`` only plans holding quotas in those periods are considered.
    """
    plans = QuotaPlan.objects.all()
    if period_starts is not None:
        plans = plans.filter(quotas__period_start__in=period_starts).distinct()
    return plans.annotate(rank=_STATUS_RANK).order_by("rank", "-fiscal_year", "-id").first()


def family_unit_quotas(*, period_starts: list[dt.date]) -> pd.DataFrame:
    """Units quotas per product family × territory × period of the plan that counts.

    The plan is the latest approved quota plan with units-by-family quotas in
    ``period_starts`` (else submitted, else draft). Territory-owned quotas only (family unit
    quotas are set on territories). Returns ``family_code``, ``territory_code``,
    ``period_start`` (``datetime.date``), ``quota_qty`` (float, summed); an empty frame with
    those columns when there is none. Not scoped: the supply reconciliation reads it whole.
    """
    units = Quota.objects.units_by_family().filter(period_start__in=period_starts, territory__isnull=False)
    plan = (
        QuotaPlan.objects.filter(quotas__in=units).distinct()
        .annotate(rank=_STATUS_RANK).order_by("rank", "-fiscal_year", "-id").first()
    )
    if plan is None:
        return pd.DataFrame(columns=FAMILY_QUOTA_COLUMNS)
    rows = (
        units.filter(plan=plan)
        .values("family__code", "territory__code", "period_start")
        .annotate(quota_qty=Sum("amount"))
        .order_by("family__code", "territory__code", "period_start")
        .values_list("family__code", "territory__code", "period_start", "quota_qty")
    )
    frame = pd.DataFrame.from_records(list(rows), columns=FAMILY_QUOTA_COLUMNS)
    frame["quota_qty"] = frame["quota_qty"].astype(float)
    return frame
