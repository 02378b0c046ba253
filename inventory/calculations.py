"""Inventory metrics: available stock, days of supply, aging, safety stock, excess and aged stock.

Pure calculation (numpy, pandas, scipy; no Django). Every function takes its reference date
(``as_of``) explicitly.

Inputs (DataFrames; extra columns are ignored)
-----------------------------------------------
``snapshots`` — the latest snapshot per product × location:
    ``product_sku``, optional ``location_code``, ``on_hand``, ``allocated``, ``on_order``
    (missing columns → 0).
``lots`` — receipt-dated lots: ``product_sku``, optional ``location_code``, ``received_on``
    (date), ``quantity``.
``forecast`` — ``product_sku``, ``period_start`` (first day of the month), ``forecast_qty``
    (units in that month; duplicates, e.g. per territory, add up).
``products`` — ``product_sku``, ``unit_cost``, ``unit_price``; optional ``family_code``.
``residuals`` — backtest forecast errors per period: ``product_sku``, ``residual``
    (actual − forecast, units per period).

Conventions
-----------
* Available = on hand − allocated. On order is not available stock.
* Periods are calendar months. A month's forecast is spread evenly over its actual days
  (28–31): the daily rate in March is March's quantity / 31. Counting starts on ``as_of``
  itself, so the first month contributes only its days from ``as_of`` to month end.
  Beyond the last forecast month the average daily rate of the forecast horizon continues.
* Lead times are durations, not calendar months: they convert to periods with the average
  month, ``DAYS_PER_PERIOD`` = 365.25 / 12 days.
* Aging: age = ``as_of`` − ``received_on`` in days; buckets 0–90, 91–180, 181–365 and >365
  (the upper bound belongs to the bucket: 90 days is in 0–90, 91 in 91–180). Lots received
  after ``as_of`` (or without a receipt date) are not counted. When on-hand quantities are
  given, stock is assumed to be consumed first in, first out: the newest lots are what
  remains, and lots are trimmed from the oldest end until they add up to on hand; on hand
  above the lots is reported as ``qty_unknown_age``.

Outputs are described on each function.
"""

from __future__ import annotations

import datetime as dt
from calendar import monthrange

import numpy as np
import pandas as pd
from scipy.stats import norm

from core.calendar import month_range

DAYS_PER_PERIOD = 365.25 / 12
AGING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("qty_0_90", 0, 90),
    ("qty_91_180", 91, 180),
    ("qty_181_365", 181, 365),
    ("qty_over_365", 366, None),
)


# ---------------------------------------------------------------------------------------
# Available stock
# ---------------------------------------------------------------------------------------


def inventory_positions(snapshots: pd.DataFrame, *, by_location: bool = False) -> pd.DataFrame:
    """Stock position per product (or product × location).

    Returns ``product_sku``, [``location_code``], ``on_hand``, ``allocated``, ``on_order``,
    ``available_qty`` (on hand − allocated), sorted by the key.
    """
    keys = ["product_sku", "location_code"] if by_location else ["product_sku"]
    frame = pd.DataFrame({k: snapshots[k].astype(str) for k in keys})
    for column in ("on_hand", "allocated", "on_order"):
        frame[column] = _numeric(snapshots, column)
    out = frame.groupby(keys, sort=True, as_index=False)[["on_hand", "allocated", "on_order"]].sum()
    out["available_qty"] = out["on_hand"] - out["allocated"]
    return out


# ---------------------------------------------------------------------------------------
# Days of supply and forward demand
# ---------------------------------------------------------------------------------------


def days_of_supply(positions: pd.DataFrame, forecast: pd.DataFrame, *, as_of: dt.date) -> pd.DataFrame:
    """How many days the available stock lasts against the forecast, counted from ``as_of``.

    ``positions``: ``product_sku``, ``available_qty`` (one row per product).
    Returns ``product_sku``, ``available_qty``, ``daily_demand`` (rate in the month of
    ``as_of``), ``days_of_supply`` (0 when nothing is available; ``inf`` when there is stock
    and no forecast demand at all).
    """
    skus = pd.Index(positions["product_sku"].astype(str))
    stock = _numeric(positions, "available_qty")
    grid = _DailyDemand(forecast, skus, as_of=as_of)
    days = grid.days_until(stock)
    return pd.DataFrame(
        {
            "product_sku": skus.to_numpy(dtype=object),
            "available_qty": stock,
            "daily_demand": grid.rate[:, 0],
            "days_of_supply": days,
        }
    )


def demand_until(forecast: pd.DataFrame, skus: pd.Index, *, as_of: dt.date, end: dt.date) -> np.ndarray:
    """Forecast demand per product over the days [``as_of``, ``end``), in ``skus`` order."""
    return _DailyDemand(forecast, pd.Index(skus.astype(str)), as_of=as_of).demand_until(end)


class _DailyDemand:
    """A products × months grid of daily demand rates starting in the month of ``as_of``."""

    def __init__(self, forecast: pd.DataFrame, skus: pd.Index, *, as_of: dt.date) -> None:
        self.as_of = as_of
        first = dt.date(as_of.year, as_of.month, 1)
        codes, month_of_code = _month_codes(forecast["period_start"])
        self.months = month_range(first, max([*month_of_code, first]))
        position = {m: i for i, m in enumerate(self.months)}
        # −1 (outside the horizon) for months before as_of and for missing dates (code −1).
        lookup = np.array([position.get(m, -1) for m in month_of_code] + [-1], dtype=np.int64)
        col = lookup[codes]
        row = skus.get_indexer(forecast["product_sku"].astype(str))
        qty = np.maximum(_numeric(forecast, "forecast_qty"), 0)
        ok = (row >= 0) & (col >= 0)
        n_p, n_m = len(skus), len(self.months)
        grid = np.bincount(row[ok] * n_m + col[ok], weights=qty[ok], minlength=n_p * n_m)
        days_in = np.array([monthrange(m.year, m.month)[1] for m in self.months], dtype=float)
        self.rate = grid.reshape(n_p, n_m) / days_in[None, :]
        # Days of each month still ahead of us: the first month starts on as_of.
        self.days = days_in.copy()
        self.days[0] -= as_of.day - 1
        self.total_days = self.days.sum()
        horizon_demand = (self.rate * self.days[None, :]).sum(axis=1)
        self.average_rate = horizon_demand / self.total_days

    def days_until(self, stock: np.ndarray) -> np.ndarray:
        """Days until each product's ``stock`` is used up."""
        segment = self.rate * self.days[None, :]
        cum = segment.cumsum(axis=1)
        before = cum - segment
        days_before = np.cumsum(self.days) - self.days
        need = np.maximum(stock, 0.0)
        reached = (cum >= need[:, None]) & (segment > 0)
        within = reached.any(axis=1)
        first = reached.argmax(axis=1)
        rows = np.arange(len(stock))
        with np.errstate(divide="ignore", invalid="ignore"):
            inside = days_before[first] + (need - before[rows, first]) / self.rate[rows, first]
            beyond = self.total_days + (need - cum[:, -1]) / self.average_rate
        days = np.where(within, inside, np.where(self.average_rate > 0, beyond, np.inf))
        return np.where(need <= 0, 0.0, days)

    def demand_until(self, end: dt.date) -> np.ndarray:
        """Demand over [as_of, end), extrapolated at the average rate past the horizon."""
        starts = np.array([max(m, self.as_of) for m in self.months], dtype="datetime64[D]")
        stops = starts + self.days.astype("timedelta64[D]")
        end64 = np.datetime64(end, "D")
        overlap = np.clip((np.minimum(stops, end64) - starts).astype(float), 0, None)
        beyond = max(float((end64 - stops[-1]).astype(float)), 0.0)
        return (self.rate * overlap[None, :]).sum(axis=1) + self.average_rate * beyond


# ---------------------------------------------------------------------------------------
# Aging
# ---------------------------------------------------------------------------------------


def lot_ages(lots: pd.DataFrame, *, as_of: dt.date, on_hand: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each lot in stock on ``as_of`` with its age and the quantity still there.

    ``on_hand`` (optional): ``product_sku``, [``location_code``], ``on_hand``. With it, lots are
    trimmed first in, first out (per product × location when both frames have
    ``location_code``, else per product). Returns the lot columns plus ``age_days`` and
    ``remaining_qty``, newest lot first within each product.
    """
    by_location = "location_code" in lots and on_hand is not None and "location_code" in on_hand
    keys = ["product_sku", "location_code"] if by_location else ["product_sku"]
    received = pd.to_datetime(lots["received_on"]).to_numpy(dtype="datetime64[D]")
    age = (np.datetime64(as_of, "D") - received).astype(np.int64)
    frame = lots.assign(
        product_sku=lots["product_sku"].astype(str),
        age_days=age,
        quantity=np.maximum(_numeric(lots, "quantity"), 0.0),
    )
    if "location_code" in frame:
        frame["location_code"] = frame["location_code"].astype(str)
    frame = frame.loc[frame["age_days"] >= 0]
    # Newest first: under FIFO the oldest units left first, so the newest are what remains.
    frame = frame.sort_values([*keys, "age_days"], kind="mergesort").reset_index(drop=True)
    if on_hand is None:
        return frame.assign(remaining_qty=frame["quantity"])
    stock = _stock_by(on_hand, keys)
    limit = stock.reindex(pd.MultiIndex.from_frame(frame[keys]) if by_location else frame["product_sku"])
    limit = np.maximum(limit.to_numpy(dtype=float, na_value=0.0), 0.0)
    newer = frame.groupby(keys, sort=False)["quantity"].cumsum().to_numpy() - frame["quantity"].to_numpy()
    remaining = np.clip(limit - newer, 0.0, frame["quantity"].to_numpy())
    return frame.assign(remaining_qty=remaining)


def aging_buckets(
    lots: pd.DataFrame,
    *,
    as_of: dt.date,
    on_hand: pd.DataFrame | None = None,
    by_location: bool = False,
) -> pd.DataFrame:
    """Stock by age bucket per product (or product × location).

    Returns ``product_sku``, [``location_code``], ``qty_0_90``, ``qty_91_180``,
    ``qty_181_365``, ``qty_over_365``, ``qty_unknown_age`` (on hand not covered by lots; 0
    without ``on_hand``), ``total_qty``. Products with on hand but no lots appear too.
    """
    keys = ["product_sku", "location_code"] if by_location else ["product_sku"]
    ages = lot_ages(lots, as_of=as_of, on_hand=on_hand)
    return _buckets(ages, keys, None if on_hand is None else _stock_by(on_hand, keys))


def _buckets(ages: pd.DataFrame, keys: list[str], stock: pd.Series | None) -> pd.DataFrame:
    columns = {k: ages[k] for k in keys}
    age = ages["age_days"].to_numpy()
    qty = ages["remaining_qty"].to_numpy()
    for name, low, high in AGING_BUCKETS:
        inside = (age >= low) & (age <= high) if high is not None else age >= low
        columns[name] = np.where(inside, qty, 0.0)
    bucket_names = [b[0] for b in AGING_BUCKETS]
    out = pd.DataFrame(columns).groupby(keys, sort=True)[bucket_names].sum()
    if stock is not None:
        out = out.reindex(out.index.union(stock.index), fill_value=0.0)
        in_lots = out[bucket_names].sum(axis=1)
        out["qty_unknown_age"] = np.maximum(stock.reindex(out.index, fill_value=0.0) - in_lots, 0.0)
    else:
        out["qty_unknown_age"] = 0.0
    out["total_qty"] = out[[*bucket_names, "qty_unknown_age"]].sum(axis=1)
    return out.reset_index()


def _stock_by(on_hand: pd.DataFrame, keys: list[str]) -> pd.Series:
    """On hand summed per key (product, or product × location)."""
    frame = pd.DataFrame({k: on_hand[k].astype(str) for k in keys})
    frame["on_hand"] = _numeric(on_hand, "on_hand")
    return frame.groupby(keys)["on_hand"].sum()


# ---------------------------------------------------------------------------------------
# Safety stock
# ---------------------------------------------------------------------------------------


def forecast_sigma_from_wape(wape: pd.DataFrame, forecast: pd.DataFrame) -> pd.DataFrame:
    """σ of the monthly product forecast error, from a run's backtest WAPE per series.

    ``wape``: ``product_sku, wape`` (in %, one row per product × territory series);
    ``forecast``: ``product_sku, forecast_qty`` (monthly). The run keeps the WAPE, not the
    residuals. Per series σ ≈ 1.25 × mean absolute error (exact for normal errors), MAE ≈
    WAPE × the series' mean month; the product's k series are taken as independent and of
    equal size, so σ(product) ≈ 1.25 × mean WAPE (capped at 200 %) × product mean month / √k.
    Returns ``product_sku, sigma`` for the products with a WAPE.
    """
    if wape.empty or forecast.empty:
        return pd.DataFrame({"product_sku": [], "sigma": []})
    per_product = wape.groupby("product_sku")["wape"].agg(["mean", "count"])
    monthly = forecast.groupby("product_sku")["forecast_qty"].mean().reindex(per_product.index).fillna(0)
    share = (per_product["mean"].astype(float) / 100).clip(upper=2.0)
    sigma = 1.25 * share * monthly / np.sqrt(per_product["count"])
    return sigma.rename("sigma").reset_index()


def policy_by_product(policies: pd.DataFrame, sigma: pd.DataFrame) -> pd.DataFrame:
    """Safety stock and build-ahead per product, the unit the plan works in.

    ``policies``: one row per product × location (``product_sku, lead_time_days,
    service_level, safety_stock, max_build_ahead_periods``); ``sigma``: ``product_sku,
    sigma`` (product forecast error per period, units). σ is known per product, not per
    location, so the computed buffer uses the product's longest lead time and highest service
    level over its locations; fixed safety stocks add up over locations and win where given.
    Build-ahead: the largest over locations.
    """
    if policies.empty:
        return pd.DataFrame({"product_sku": [], "safety_stock": [], "max_build_ahead_periods": []})
    grouped = (
        policies.groupby("product_sku")
        .agg(
            lead_time_days=("lead_time_days", "max"),
            service_level=("service_level", "max"),
            fixed=("safety_stock", lambda v: v.sum(min_count=1)),
            max_build_ahead_periods=("max_build_ahead_periods", "max"),
        )
        .reset_index()
    )
    merged = grouped.merge(sigma, on="product_sku", how="left")
    level = merged["service_level"].fillna(0.5).clip(1e-6, 1 - 1e-6).to_numpy()
    merged["safety_stock"] = np.round(
        safety_stock(
            sigma=merged["sigma"].fillna(0).to_numpy(),
            lead_time_days=merged["lead_time_days"].fillna(0).to_numpy(),
            service_level=level,
            fixed=merged["fixed"].to_numpy(dtype=float),
        ),
        3,
    )
    return merged[["product_sku", "safety_stock", "max_build_ahead_periods"]]


def safety_stock(
    *,
    sigma: np.ndarray | pd.Series | float,
    lead_time_days: np.ndarray | pd.Series | float,
    service_level: np.ndarray | pd.Series | float,
    fixed: np.ndarray | pd.Series | float | None = None,
    days_per_period: float = DAYS_PER_PERIOD,
) -> np.ndarray:
    """``z × σ × √(lead time in periods)``, or the fixed value where one is given.

    ``sigma``: forecast error per period (units); ``service_level``: cycle service level in
    (0, 1), z = inverse standard normal CDF of it (0.95 → 1.645); levels at or below 0.5 give
    no buffer (a negative safety stock makes no sense); ``fixed``: a value per row, NaN
    where the computed one applies. Returns float units, element-wise.
    """
    level = np.asarray(service_level, dtype=float)
    if np.any((level <= 0) | (level >= 1)):
        raise ValueError("service_level must be strictly between 0 and 1")
    z = np.maximum(norm.ppf(level), 0.0)
    periods = np.maximum(np.asarray(lead_time_days, dtype=float), 0.0) / days_per_period
    computed = z * np.nan_to_num(np.asarray(sigma, dtype=float)) * np.sqrt(periods)
    if fixed is None:
        return np.asarray(computed, dtype=float)
    fixed_arr = np.asarray(fixed, dtype=float)
    return np.where(np.isnan(fixed_arr), computed, fixed_arr)


# ---------------------------------------------------------------------------------------
# Everything the alert rules and the inventory pages need, per product
# ---------------------------------------------------------------------------------------


def inventory_metrics(
    *,
    snapshots: pd.DataFrame,
    lots: pd.DataFrame,
    forecast: pd.DataFrame,
    products: pd.DataFrame,
    as_of: dt.date,
    excess_cover_months: int = 6,
    aged_after_days: int = 180,
) -> pd.DataFrame:
    """Per product (summed over locations): stock, cover, excess and aged stock.

    Returns ``product_sku, family_code, on_hand, allocated, on_order, available_qty,
    daily_demand, days_of_supply, cover_demand_qty`` (forecast demand over the next
    ``excess_cover_months`` months from ``as_of``), ``excess_qty`` (max(0, available −
    cover demand)), ``qty_0_90, qty_91_180, qty_181_365, qty_over_365, qty_unknown_age,
    aged_qty`` (on hand in lots older than ``aged_after_days``), ``unit_cost, unit_price,
    excess_value, aged_value`` (at unit cost), and the two thresholds as columns
    ``excess_cover_months``, ``aged_after_days`` so the alert text can quote them.
    Lots are trimmed FIFO to on hand per product × location (see the module doc).
    """
    positions = inventory_positions(snapshots)
    skus = pd.Index(positions["product_sku"])
    prod = (
        products.assign(product_sku=products["product_sku"].astype(str))
        .drop_duplicates("product_sku")
        .set_index("product_sku")
    )
    skus = skus.union(pd.Index(prod.index)).rename("product_sku")
    positions = positions.set_index("product_sku").reindex(skus, fill_value=0.0).reset_index()

    supply = days_of_supply(positions, forecast, as_of=as_of)
    end = (pd.Timestamp(as_of) + pd.DateOffset(months=excess_cover_months)).date()
    cover = demand_until(forecast, skus, as_of=as_of, end=end)

    with_location = "location_code" in snapshots and "location_code" in lots
    on_hand = snapshots[["product_sku", *(["location_code"] if with_location else []), "on_hand"]]
    keys = ["product_sku", "location_code"] if with_location else ["product_sku"]
    ages = lot_ages(lots, as_of=as_of, on_hand=on_hand)
    aged = ages["remaining_qty"].where(ages["age_days"] > aged_after_days, 0.0)
    aged_qty = aged.groupby(ages["product_sku"]).sum().reindex(skus, fill_value=0.0).to_numpy()
    buckets = (
        _buckets(ages, keys, _stock_by(on_hand, keys))
        .groupby("product_sku")[[b[0] for b in AGING_BUCKETS] + ["qty_unknown_age"]]
        .sum()
        .reindex(skus, fill_value=0.0)
    )

    unit_cost = _numeric(prod.reindex(skus), "unit_cost")
    unit_price = _numeric(prod.reindex(skus), "unit_price")
    family = (
        prod["family_code"].reindex(skus).astype(object).to_numpy()
        if "family_code" in prod
        else np.full(len(skus), None, dtype=object)
    )
    family = np.where(pd.isna(family), None, family)
    available = positions["available_qty"].to_numpy(dtype=float)
    excess = np.maximum(available - cover, 0.0)
    out = pd.DataFrame(
        {
            "product_sku": skus.to_numpy(dtype=object),
            "family_code": family,
            "on_hand": positions["on_hand"].to_numpy(dtype=float),
            "allocated": positions["allocated"].to_numpy(dtype=float),
            "on_order": positions["on_order"].to_numpy(dtype=float),
            "available_qty": available,
            "daily_demand": supply["daily_demand"].to_numpy(),
            "days_of_supply": supply["days_of_supply"].to_numpy(),
            "cover_demand_qty": cover,
            "excess_qty": excess,
        }
    )
    for column in buckets.columns:
        out[column] = buckets[column].to_numpy()
    out["aged_qty"] = aged_qty
    out["unit_cost"] = unit_cost
    out["unit_price"] = unit_price
    out["excess_value"] = excess * unit_cost
    out["aged_value"] = aged_qty * unit_cost
    out["excess_cover_months"] = excess_cover_months
    out["aged_after_days"] = aged_after_days
    return out


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _numeric(frame: pd.DataFrame, column: str, default: float = 0.0) -> np.ndarray:
    if column not in frame:
        return np.full(len(frame), default, dtype=float)
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(values), default, values)


def _month_codes(values: pd.Series) -> tuple[np.ndarray, list[dt.date]]:
    """Factorised first-of-month dates: codes per row (−1 when missing) and the distinct months.

    Converts only the distinct values, not every row.
    """
    codes, uniques = pd.factorize(values)
    return codes, [pd.Timestamp(u).date().replace(day=1) for u in uniques]
