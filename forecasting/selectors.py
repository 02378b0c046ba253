"""Reads for forecasting: demand history as DataFrames, runs and forecasts for pages and API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
from django.db.models import Avg, Count, F, FloatField, Q, Sum
from django.db.models.functions import Cast, TruncMonth

from core.calendar import add_months, history_window, month_ordinal, month_range
from forecasting.levels import BACKTEST_LEVEL_KEYS, SERIES_MEAN_KEY
from forecasting.models import Forecast, ForecastRun, ForecastSeries
from inventory.models import Product
from sales.models import SalesOrderLine
from territories.models import Territory
from territories.money import quantize, to_decimal

DEMAND_STATUSES = ("booked", "shipped", "invoiced")  # returns and cancellations are not demand


NO_TERRITORY = "-"  # in series ids and region codes: sales credited to no territory


def series_ids(frame: pd.DataFrame) -> pd.Series:
    """The engine's series id of each row: ``"product_id:territory_id"``, ``"product_id:-"``
    for a product's sales credited to no territory (a company without territories has only those)."""
    territory = frame["territory_id"].astype("Int64")
    text = territory.astype(str).where(territory.notna(), NO_TERRITORY)
    return frame["product_id"].astype(int).astype(str) + ":" + text


def territory_regions() -> dict[int, str]:
    """Territory id → code of its region (the root of its tree)."""
    return {pk: path.split("/")[1] for pk, path in Territory.objects.values_list("id", "path")}


def series_universe(*, as_of: dt.date, history_months: int) -> pd.DataFrame:
    """Every product × territory with demand in the window (territory empty for sales credited
    to none): product_id, territory_id (Int64, may be NA), family_id, region_code ("-" when
    there is no territory)."""
    start, end = history_window(as_of, history_months)
    rows = (
        SalesOrderLine.objects.filter(status__in=DEMAND_STATUSES, order_date__gte=start, order_date__lte=end)
        .values_list("product_id", "territory_id")
        .distinct()
        .order_by()
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["product_id", "territory_id"])
    frame["product_id"] = frame["product_id"].astype("int64")
    frame["territory_id"] = frame["territory_id"].astype("Int64")
    frame = frame.sort_values(["product_id", "territory_id"], ignore_index=True, na_position="last")
    frame["family_id"] = frame["product_id"].map(dict(Product.objects.values_list("id", "family_id")))
    frame["region_code"] = frame["territory_id"].map(territory_regions()).fillna(NO_TERRITORY).astype(object)
    return frame


def demand_history_frame(*, as_of: dt.date, history_months: int, series: pd.DataFrame) -> pd.DataFrame:
    """Monthly demand of the given series (product_id, territory_id; NA = no territory) in one query.

    Returns the engine's long format: ``series_id`` (:func:`series_ids`), ``period`` (month
    ordinal), ``value`` (units), with missing months left out (the engine fills zeros).
    """
    start, end = history_window(as_of, history_months)
    products = series["product_id"].unique().tolist()
    wanted = series[["product_id", "territory_id"]].astype({"product_id": "int64", "territory_id": "Int64"})
    territories = [int(t) for t in wanted["territory_id"].dropna().unique()]
    where = Q(territory_id__in=territories)
    if wanted["territory_id"].isna().any():
        where |= Q(territory__isnull=True)
    rows = (
        SalesOrderLine.objects.filter(
            where, status__in=DEMAND_STATUSES, order_date__gte=start, order_date__lte=end, product_id__in=products
        )
        .annotate(month=TruncMonth("order_date"))
        .values_list("product_id", "territory_id", "month")
        .annotate(units=Sum("quantity"))
        .order_by()
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["product_id", "territory_id", "month", "units"])
    frame = frame.astype({"product_id": "int64", "territory_id": "Int64"})
    frame = frame.merge(wanted, on=["product_id", "territory_id"], how="inner")
    frame["series_id"] = series_ids(frame)
    frame["period"] = [month_ordinal(m) for m in frame["month"]]
    frame["value"] = frame["units"].astype(float)
    return frame[["series_id", "period", "value"]]


def family_history_frame(*, as_of: dt.date, history_months: int) -> pd.DataFrame:
    """Monthly demand per product family (engine long format; series_id = family id as text)."""
    start, end = history_window(as_of, history_months)
    rows = (
        SalesOrderLine.objects.filter(status__in=DEMAND_STATUSES, order_date__gte=start, order_date__lte=end)
        .annotate(month=TruncMonth("order_date"))
        .values_list("product__family_id", "month")
        .annotate(units=Sum("quantity"))
        .order_by()
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["family_id", "month", "units"])
    return pd.DataFrame(
        {
            "series_id": frame["family_id"].astype(str),
            "period": [month_ordinal(m) for m in frame["month"]],
            "value": frame["units"].astype(float),
        }
    ).sort_values(["series_id", "period"], ignore_index=True)


def latest_finished_run(*, user=None) -> ForecastRun | None:
    runs = ForecastRun.objects.finished() if user is None else ForecastRun.objects.for_user(user).finished()
    return runs.order_by("-finished_at", "-id").first()


def territory_forecast_n12m(*, as_of: dt.date) -> dict[int, Decimal]:
    """Forecast units × product unit price for the 12 months from ``as_of``'s month, per
    territory id, from the latest finished run's ``product_territory`` level (empty without).
    Territory performance reads it through ``territories.sources``."""
    run = latest_finished_run()
    if run is None:
        return {}
    first = as_of.replace(day=1)
    rows = (
        Forecast.objects.filter(
            run=run,
            level="product_territory",
            period_start__gte=first,
            period_start__lt=add_months(first, 12),
            territory__isnull=False,
        )
        .values("territory_id")
        .annotate(value=Sum(F("point") * Cast("product__unit_price", FloatField()), output_field=FloatField()))
        .values_list("territory_id", "value")
    )
    return {tid: quantize(to_decimal(v or 0), Decimal("0.01")) for tid, v in rows}


def runs_for_page(*, user, limit: int = 20) -> list[ForecastRun]:
    return list(ForecastRun.objects.for_user(user).select_related("triggered_by").order_by("-id")[:limit])


def series_page(*, user, run: ForecastRun, filters: dict, limit: int = 200) -> list[dict]:
    query = ForecastSeries.objects.for_user(user).filter(run=run)
    if filters.get("q"):
        query = query.filter(product__sku__icontains=filters["q"])
    for field in ("model", "demand_class", "status"):
        if filters.get(field):
            query = query.filter(**{field: filters[field]})
    if filters.get("territory"):
        query = query.filter(territory__code=filters["territory"])
    return list(
        query.order_by("smape" if filters.get("sort") == "smape" else "product__sku", "territory__code").values(
            "id",
            "product__sku",
            "product__name",
            "territory__code",
            "model",
            "demand_class",
            "history_class",
            "smape",
            "mase",
            "wape",
            "bias",
            "status",
            "error",
        )[:limit]
    )


def series_detail(*, user, series: ForecastSeries) -> dict:
    """History and forecast with bands of one product × territory series, ready for a chart."""
    run = series.run
    start, end = history_window(run.as_of, run.parameters.get("history_months", 36))
    history = (
        SalesOrderLine.objects.for_user(user)
        .filter(
            status__in=DEMAND_STATUSES,
            product_id=series.product_id,
            territory_id=series.territory_id,
            order_date__gte=start,
            order_date__lte=end,
        )
        .annotate(month=TruncMonth("order_date"))
        .values("month")
        .annotate(units=Sum("quantity"))
        .order_by("month")
    )
    by_month = {row["month"]: float(row["units"]) for row in history}
    months = month_range(start, end)
    forecasts = list(
        Forecast.objects.filter(
            run=run, level="product_territory", product_id=series.product_id, territory_id=series.territory_id
        )
        .order_by("period_start")
        .values("period_start", "point", "lo80", "hi80", "lo95", "hi95")
    )
    return {
        "labels": [d.strftime("%Y-%m") for d in months] + [f["period_start"].strftime("%Y-%m") for f in forecasts],
        "history": [by_month.get(d, 0.0) for d in months] + [None] * len(forecasts),
        "point": [None] * len(months) + [round(f["point"], 2) for f in forecasts],
        "lo80": [None] * len(months) + [round(f["lo80"], 2) for f in forecasts],
        "hi80": [None] * len(months) + [round(f["hi80"], 2) for f in forecasts],
        "lo95": [None] * len(months) + [round(f["lo95"], 2) for f in forecasts],
        "hi95": [None] * len(months) + [round(f["hi95"], 2) for f in forecasts],
        "rows": forecasts,
    }


def model_mix(*, run: ForecastRun) -> list[dict]:
    return list(
        ForecastSeries.objects.filter(run=run)
        .values("model", "status")
        .annotate(series=Count("id"), smape=Avg("smape"))
        .order_by("-series")
    )


def run_leaf_forecasts_frame(*, run: ForecastRun) -> pd.DataFrame:
    """A run's product × territory forecasts: product_id, territory_id, period_start, point,
    lo80, hi80, lo95, hi95, model (the input of the hierarchy reconciliation)."""
    columns = ["product_id", "territory_id", "period_start", "point", "lo80", "hi80", "lo95", "hi95", "model"]
    rows = Forecast.objects.filter(run=run, level="product_territory").values_list(*columns).order_by()
    return pd.DataFrame.from_records(list(rows), columns=columns)


def backtest_accuracy(*, run: ForecastRun) -> dict:
    """The run's backtest accuracy for its page: the per-series mean (sMAPE, MASE) and WAPE
    and bias per level (product, family, region, total) and per family and region."""
    rows = list(
        run.accuracy.filter(source="backtest").values("level", "series_key", "n", "smape", "mase", "wape", "bias")
    )
    order = list(BACKTEST_LEVEL_KEYS)
    summary = [r for r in rows if r["series_key"] == BACKTEST_LEVEL_KEYS.get(r["level"])]
    return {
        "series": next((r for r in rows if r["series_key"] == SERIES_MEAN_KEY), None),
        "levels": sorted(summary, key=lambda r: order.index(r["level"])),
        "nodes": [r for r in rows if r["series_key"][:2] in ("f:", "r:")],
    }
