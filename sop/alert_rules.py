"""Alert candidates derived from a reconciliation result and inventory metrics.

Pure calculation (pandas/numpy; no Django). The Django side stores the candidates as
``CapacityAlert`` rows: it upserts open alerts by ``fingerprint`` and resolves open alerts whose
fingerprint no longer appears.

Inputs
------
``result``: ``sop.reconciliation.ReconciliationResult`` (``capacity_load``, ``product_plan``,
``family_plan``, ``quotas``). ``inventory`` (optional): the frame of
``inventory.calculations.inventory_metrics`` — ``product_sku, family_code, available_qty,
days_of_supply, excess_qty, aged_qty, qty_over_365, unit_cost, unit_price,
excess_cover_months, aged_after_days``. ``thresholds``: ``AlertThresholds``.
``work_center_names`` / ``product_names``: optional code → name mappings for the messages.

Output: one row per alert candidate, columns ``ALERT_COLUMNS``
----------------------------------------------------------------
``fingerprint`` (stable key, below), ``type``, ``severity`` (``critical``/``warning``/``info``),
``work_center_code``, ``product_sku``, ``family_code``, ``territory_code``, ``period_start``
(``datetime.date`` or None), ``amount``, ``unit`` (``hours``/``units``), ``value`` (currency,
float, NaN when not meaningful), ``message_key``, ``message_params``, ``suggestion_key``,
``suggestion_params`` (None when there is no suggestion). Sorted by severity (critical first),
type, fingerprint. Codes that do not apply are None.

The rules write no text: a message is a key of the catalogue ``sop.alert_messages`` (the Django
side, which words it in English for the API and in the viewer's language for people) and its
parameters, plain JSON: names and codes as text, numbers as int (hours, units, percentages
rounded as shown) or decimal text (money, with ``currency``), months as ISO dates. A parameter
``{"key", "params"}`` is a phrase of its own; ``sentences`` holds a list of them.

Rules (thresholds are ``AlertThresholds`` fields)
-------------------------------------------------
``capacity_overload`` — per work center × period, on the *unconstrained* load (what the demand
    asks of the work center, before any pre-build): utilisation > 100 % → critical, amount =
    hours over the available hours; > 90 % → warning, amount = hours over the 90 % line. Load
    on a work center with no available hours is critical. Value = shortfall value of the
    products routed there. Key: type, work center, period.
``capacity_underload`` — per work center × period with available hours, on the *constrained*
    load (pre-builds fill idle periods): < 60 % → info, < 30 % → warning; amount = unused
    hours. Key: type, work center, period.
``stockout_risk`` — one per product, on the constrained plan: demand that cannot be served
    (or inventory below zero) anywhere in the horizon → critical, amount = unserved units over
    the horizon; otherwise projected inventory below safety stock → warning, amount = the
    deepest dip below safety stock. ``period_start`` = first period at risk; value = amount ×
    unit price. Key: type, product (not the period, so a risk that moves by a month stays the
    same alert).
``excess_stock`` — per product, available stock beyond the cover of ``excess_cover_months`` of
    forecast: info; warning when there is no forecast demand at all or the cover exceeds
    twice that. Amount = excess units, value at cost, suggestion: a SPIFF (a markdown when
    nothing is forecast). Key: type, product.
``aged_stock`` — per product, stock in lots older than ``aged_after_days``: info; warning when
    some is older than 365 days. Amount = aged units, value at cost; suggestion: a markdown for
    the units older than a year, a SPIFF for the rest. Key: type, product.
``target_not_buildable`` — per family (× territory when quotas are per territory) × period:
    the part of the quota the plants cannot supply, ``not_buildable_qty = max(0, min(quota,
    demand) − feasible)`` (shared out by quota share per territory). Critical when ≥ 10 % of
    the quota, else warning. Quota above demand is not asked of the plants and is reported
    as ``target_at_risk`` instead. Value = amount × family unit price. Key: type, family,
    territory, period.
``target_at_risk`` — per family (× territory) × period: quota more than 10 % above the
    forecast → warning, more than 25 % (or a quota with no forecast) → critical. Amount =
    quota − forecast (the territory's own forecast when given, else its quota share of the
    family forecast). Key: type, family, territory, period.
Amounts below ``min_hours`` / ``min_units`` raise nothing (rounding noise).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sop.reconciliation import ReconciliationResult

ALERT_COLUMNS = [
    "fingerprint",
    "type",
    "severity",
    "work_center_code",
    "product_sku",
    "family_code",
    "territory_code",
    "period_start",
    "amount",
    "unit",
    "value",
    "message_key",
    "message_params",
    "suggestion_key",
    "suggestion_params",
]
ALERT_TYPES = (
    "capacity_overload",
    "capacity_underload",
    "stockout_risk",
    "excess_stock",
    "aged_stock",
    "target_not_buildable",
    "target_at_risk",
)
SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
CODE_COLUMNS = ("work_center_code", "product_sku", "family_code", "territory_code", "period_start")


@dataclass(frozen=True)
class AlertThresholds:
    """When an alert is raised, and how severe it is (utilisation as a fraction: 1.0 = 100 %)."""

    overload_critical: float = 1.00
    overload_warning: float = 0.90
    underload_info: float = 0.60
    underload_warning: float = 0.30
    target_at_risk_warning: float = 0.10  # quota above forecast by this share of the forecast
    target_at_risk_critical: float = 0.25
    not_buildable_critical: float = 0.10  # not-buildable share of the quota
    excess_warning_cover_factor: float = 2.0  # cover beyond this × excess_cover_months
    spiff_rate: float = 0.05  # suggested SPIFF per unit, as a share of the unit price
    markdown_rate: float = 0.20  # suggested markdown on the unit price
    min_hours: float = 0.5
    min_units: float = 0.5


def utilisation_level(pct: float | None, thresholds: AlertThresholds = AlertThresholds()) -> str:
    """The heat-map level of a utilisation in % (rounded as shown), on the alerts' lines:
    ``over`` above the overload line, ``high`` above the warning line, ``low`` below the
    underload line, ``ok`` between, ``none`` without capacity."""
    if pct is None:
        return "none"
    if pct > thresholds.overload_critical * 100:
        return "over"
    if pct > thresholds.overload_warning * 100:
        return "high"
    if pct < thresholds.underload_info * 100:
        return "low"
    return "ok"


def derive_alerts(
    result: ReconciliationResult,
    *,
    inventory: pd.DataFrame | None = None,
    thresholds: AlertThresholds = AlertThresholds(),
    work_center_names: Mapping[str, str] | None = None,
    product_names: Mapping[str, str] | None = None,
    currency: str = "",
) -> pd.DataFrame:
    """All alert candidates of one plan run (see the module doc for the rules and columns)."""
    names = _Names(work_center_names or {}, product_names or {}, currency)
    parts = [
        _capacity_alerts(result.capacity_load, thresholds, names),
        _stockout_alerts(result.product_plan, thresholds, names),
        _target_alerts(result.family_plan, result.quotas, thresholds),
    ]
    if inventory is not None and len(inventory):
        parts += [
            _excess_alerts(inventory, thresholds, names),
            _aged_alerts(inventory, thresholds, names),
        ]
    alerts = pd.concat(parts, ignore_index=True)
    order = np.lexsort(
        (
            alerts["fingerprint"].to_numpy(dtype=object),
            alerts["type"].to_numpy(dtype=object),
            alerts["severity"].map(SEVERITY_RANK).to_numpy(),
        )
    )
    return alerts.iloc[order].reset_index(drop=True)


def alert_fingerprint(
    type_: str,
    *,
    work_center_code: str | None = None,
    product_sku: str | None = None,
    family_code: str | None = None,
    territory_code: str | None = None,
    period_start: dt.date | None = None,
) -> str:
    """The key of an alert: its type, its object and, where it has one, its period.

    Shapes: ``capacity_*:<wc>:<period>``, ``stockout_risk|excess_stock|aged_stock:<sku>``,
    ``target_*:<family>:<territory or *>:<period>``.
    """
    if type_.startswith("capacity_"):
        return f"{type_}:{work_center_code}:{period_start.isoformat()}"
    if type_.startswith("target_"):
        return f"{type_}:{family_code}:{territory_code or '*'}:{period_start.isoformat()}"
    return f"{type_}:{product_sku}"


# ---------------------------------------------------------------------------------------
# Rules: each selects the rows that fire with array operations, then writes the texts.
# ---------------------------------------------------------------------------------------


def _capacity_alerts(load: pd.DataFrame, th: AlertThresholds, names: _Names) -> pd.DataFrame:
    wc = load["work_center_code"].to_numpy(dtype=object)
    period = load["period_start"].to_numpy(dtype=object)
    available = load["available_hours"].to_numpy(float)
    hours = load["load_hours"].to_numpy(float)
    prebuilt = load["prebuilt_hours"].to_numpy(float)
    short = load["shortfall_hours"].to_numpy(float)
    short_value = load["shortfall_value"].to_numpy(float)
    has_hours = available > 0
    util = np.divide(hours, available, out=np.full(len(hours), np.inf), where=has_hours)

    over_critical = hours - th.overload_critical * available
    over_warning = hours - th.overload_warning * available
    critical = (util > th.overload_critical) & (over_critical > th.min_hours)
    warning = ~critical & has_hours & (util > th.overload_warning) & (over_warning > th.min_hours)

    i = np.flatnonzero(critical)
    messages = []
    suggestions = []
    for w, p, u, a, h, over, pre, sh in zip(
        wc[i],
        period[i],
        util[i],
        available[i],
        hours[i],
        over_critical[i],
        prebuilt[i],
        short[i],
        strict=True,
    ):
        if a > 0:
            first = _msg(
                "capacity_overload.critical",
                work_center=names.work_center(w),
                utilisation_pct=_pct(u),
                month=_month(p),
                over_h=_n(over),
                available_h=_n(a),
            )
        else:
            first = _msg("capacity_overload.no_hours", work_center=names.work_center(w), month=_month(p), load_h=_n(h))
        sentences = [first]
        if pre > th.min_hours:
            sentences.append(_msg("capacity_overload.prebuilt", prebuilt_h=_n(pre)))
        if sh > th.min_hours:
            sentences.append(_msg("capacity_overload.shortfall", shortfall_h=_n(sh)))
        messages.append(_sentences(sentences))
        suggestions.append(
            _msg("capacity_overload.suggestion", shortfall_h=_n(sh), month=_month(p)) if sh > th.min_hours else None
        )
    overload = _frame(
        "capacity_overload",
        severity="critical",
        work_center_code=wc[i],
        period_start=period[i],
        amount=over_critical[i],
        unit="hours",
        value=np.where(short[i] > th.min_hours, short_value[i], np.nan),
        message=messages,
        suggestion=suggestions,
    )

    i = np.flatnonzero(warning)
    near = _frame(
        "capacity_overload",
        severity="warning",
        work_center_code=wc[i],
        period_start=period[i],
        amount=over_warning[i],
        unit="hours",
        value=np.nan,
        message=[
            _msg(
                "capacity_overload.warning",
                work_center=names.work_center(w),
                utilisation_pct=_pct(u),
                month=_month(p),
                load_h=_n(h),
                available_h=_n(a),
                headroom_h=_n(max(a - h, 0.0)),
            )
            for w, p, u, h, a in zip(wc[i], period[i], util[i], hours[i], available[i], strict=True)
        ],
    )

    used = load["constrained_load_hours"].to_numpy(float)
    c_util = np.divide(used, available, out=np.full(len(used), np.nan), where=has_hours)
    unused = available - used
    i = np.flatnonzero(has_hours & (c_util < th.underload_info) & (unused > th.min_hours))
    underload = _frame(
        "capacity_underload",
        severity=np.where(c_util[i] < th.underload_warning, "warning", "info"),
        work_center_code=wc[i],
        period_start=period[i],
        amount=unused[i],
        unit="hours",
        value=np.nan,
        message=[
            _msg(
                "capacity_underload",
                work_center=names.work_center(w),
                utilisation_pct=_pct(u),
                month=_month(p),
                unused_h=_n(x),
                available_h=_n(a),
            )
            for w, p, u, x, a in zip(wc[i], period[i], c_util[i], unused[i], available[i], strict=True)
        ],
        suggestion=_msg("capacity_underload.suggestion"),
    )
    return pd.concat([overload, near, underload], ignore_index=True)


def _stockout_alerts(plan: pd.DataFrame, th: AlertThresholds, names: _Names) -> pd.DataFrame:
    inv = plan["projected_inventory_after"].to_numpy(float)
    unserved = plan["unserved_qty"].to_numpy(float)
    below_ss = plan["safety_stock"].to_numpy(float) - inv
    critical = (unserved > th.min_units) | (inv < -th.min_units)
    risky = critical | (below_ss > th.min_units)
    if not risky.any():
        return _frame("stockout_risk", severity=[], message=[])
    rows = plan.loc[
        risky,
        [
            "product_sku",
            "family_code",
            "period_start",
            "unit_price",
            "safety_stock",
            "projected_inventory_after",
        ],
    ].assign(
        critical=critical[risky],
        unserved=unserved[risky],
        below_zero=np.maximum(-inv[risky], 0.0),
        below_ss=below_ss[risky],
    )
    rows["family_code"] = rows["family_code"].astype(object)
    # The plan is sorted by product then period, so "first"/"last" are periods in date order.
    by_product = rows.groupby("product_sku", sort=True)
    summary = by_product.agg(
        family_code=("family_code", "first"),
        first_period=("period_start", "first"),
        unit_price=("unit_price", "first"),
        any_critical=("critical", "any"),
        unserved=("unserved", "sum"),
        below_zero=("below_zero", "max"),
    )
    crit = rows.loc[rows["critical"]].groupby("product_sku", sort=True)["period_start"]
    summary["crit_first"] = crit.first()
    summary["crit_last"] = crit.last()
    deepest = rows.loc[by_product["below_ss"].idxmax()].set_index("product_sku")
    summary = summary.join(
        deepest[["period_start", "safety_stock", "projected_inventory_after", "below_ss"]].add_prefix("deepest_")
    )

    is_crit = summary["any_critical"].to_numpy(bool)
    amount = np.where(
        is_crit,
        np.where(summary["unserved"] > th.min_units, summary["unserved"], summary["below_zero"]),
        summary["deepest_below_ss"],
    )
    messages = []
    for sku, c, a, cf, cl, first, low_period, low, ss in zip(
        summary.index,
        is_crit,
        amount,
        summary["crit_first"],
        summary["crit_last"],
        summary["first_period"],
        summary["deepest_period_start"],
        summary["deepest_projected_inventory_after"],
        summary["deepest_safety_stock"],
        strict=True,
    ):
        if c and cf == cl:
            messages.append(
                _msg("stockout_risk.critical", product=names.product(sku), unserved_units=_n(a), month=_month(cf))
            )
        elif c:
            messages.append(
                _msg(
                    "stockout_risk.critical_span",
                    product=names.product(sku),
                    unserved_units=_n(a),
                    first_month=_month(cf),
                    last_month=_month(cl),
                )
            )
        else:
            messages.append(
                _msg(
                    "stockout_risk.warning",
                    product=names.product(sku),
                    month=_month(first),
                    lowest_units=_n(low),
                    lowest_month=_month(low_period),
                    below_units=_n(a),
                    safety_stock_units=_n(ss),
                )
            )
    return _frame(
        "stockout_risk",
        severity=np.where(is_crit, "critical", "warning"),
        product_sku=summary.index.to_numpy(dtype=object),
        family_code=summary["family_code"].to_numpy(dtype=object),
        period_start=summary["first_period"].to_numpy(dtype=object),
        amount=amount,
        unit="units",
        value=amount * summary["unit_price"].to_numpy(float),
        message=messages,
        suggestion=[
            _msg("stockout_risk.critical.suggestion") if c else _msg("stockout_risk.warning.suggestion")
            for c in is_crit
        ],
    )


def _target_alerts(family_plan: pd.DataFrame, quotas: pd.DataFrame, th: AlertThresholds) -> pd.DataFrame:
    if not len(quotas):
        return _frame("target_not_buildable", severity=[], message=[])
    family_columns = [
        "quota_qty",
        "forecast_qty",
        "feasible_qty",
        "not_buildable_qty",
        "unit_price",
    ]
    q = quotas.join(
        family_plan.set_index(["family_code", "period_start"])[family_columns].add_prefix("family_"),
        on=["family_code", "period_start"],
    )
    family = q["family_code"].to_numpy(dtype=object)
    territory = q["territory_code"].astype(object).to_numpy()
    period = q["period_start"].to_numpy(dtype=object)
    quota = q["quota_qty"].to_numpy(float)
    family_quota = q["family_quota_qty"].to_numpy(float)
    family_short = q["family_not_buildable_qty"].to_numpy(float)
    feasible = q["family_feasible_qty"].to_numpy(float)
    price = q["family_unit_price"].to_numpy(float)
    has_quota = family_quota > 0
    # A territory carries its quota share of the family's numbers.
    share = np.divide(quota, family_quota, out=np.zeros(len(q)), where=has_quota)
    own_forecast = q["forecast_qty"].to_numpy(float)
    forecast = np.where(np.isnan(own_forecast), q["family_forecast_qty"].to_numpy(float) * share, own_forecast)
    short = family_short * share
    short_ratio = np.divide(family_short, family_quota, out=np.zeros(len(q)), where=has_quota)
    above = quota - forecast
    above_ratio = np.divide(above, forecast, out=np.full(len(q), np.inf), where=forecast > 0)

    i = np.flatnonzero(short > th.min_units)
    messages = []
    for f, t, p, qu, s, fs, fq, ff in zip(
        family[i],
        territory[i],
        period[i],
        quota[i],
        short[i],
        family_short[i],
        family_quota[i],
        feasible[i],
        strict=True,
    ):
        common = {
            "target": _target(f, t),
            "month": _month(p),
            "quota_units": _n(qu),
            "short_units": _n(s),
            "feasible_units": _n(ff),
        }
        if t is not None:
            messages.append(
                _msg("target_not_buildable.territory", **common, family_short_units=_n(fs), family_quota_units=_n(fq))
            )
        else:
            messages.append(_msg("target_not_buildable", **common))
    not_buildable = _frame(
        "target_not_buildable",
        severity=np.where(short_ratio[i] >= th.not_buildable_critical, "critical", "warning"),
        family_code=family[i],
        territory_code=territory[i],
        period_start=period[i],
        amount=short[i],
        unit="units",
        value=short[i] * price[i],
        message=messages,
        suggestion=_msg("target_not_buildable.suggestion"),
    )

    i = np.flatnonzero((above > th.min_units) & (above_ratio > th.target_at_risk_warning))
    at_risk = _frame(
        "target_at_risk",
        severity=np.where(above_ratio[i] > th.target_at_risk_critical, "critical", "warning"),
        family_code=family[i],
        territory_code=territory[i],
        period_start=period[i],
        amount=above[i],
        unit="units",
        value=above[i] * price[i],
        message=[
            _msg(
                "target_at_risk",
                target=_target(f, t),
                month=_month(p),
                quota_units=_n(qu),
                above_pct=_pct(r),
                forecast_units=_n(fc),
            )
            if fc > 0
            else _msg("target_at_risk.no_forecast", target=_target(f, t), month=_month(p), quota_units=_n(qu))
            for f, t, p, qu, r, fc in zip(
                family[i],
                territory[i],
                period[i],
                quota[i],
                above_ratio[i],
                forecast[i],
                strict=True,
            )
        ],
        suggestion=_msg("target_at_risk.suggestion"),
    )
    return pd.concat([not_buildable, at_risk], ignore_index=True)


def _excess_alerts(inv: pd.DataFrame, th: AlertThresholds, names: _Names) -> pd.DataFrame:
    excess = inv["excess_qty"].to_numpy(float)
    i = np.flatnonzero(excess > th.min_units)
    sku = inv["product_sku"].to_numpy(dtype=object)[i]
    available = inv["available_qty"].to_numpy(float)[i]
    days = inv["days_of_supply"].to_numpy(float)[i]
    months = inv["excess_cover_months"].to_numpy(float)[i]
    price = inv["unit_price"].to_numpy(float)[i]
    cost = inv["unit_cost"].to_numpy(float)[i]
    qty = excess[i]
    dead = ~np.isfinite(days)
    messages, suggestions = [], []
    for s, a, d, m, x, p, c, no_demand in zip(sku, available, days, months, qty, price, cost, dead, strict=True):
        common = {"product": names.product(s), "available_units": _n(a), "excess_units": _n(x)}
        if no_demand:
            messages.append(_msg("excess_stock.no_demand", **common, **names.money(cost_money=x * c)))
            suggestions.append(_markdown(x, p, th, names, _msg("stock.excess")))
        else:
            messages.append(
                _msg(
                    "excess_stock",
                    **common,
                    cover_days=_n(d),
                    cover_months=_n(m),
                    **names.money(cost_money=x * c),
                )
            )
            suggestions.append(_spiff(x, p, th, names, _msg("stock.excess")))
    cover_days = months * 365.25 / 12
    return _frame(
        "excess_stock",
        severity=np.where(dead | (days > th.excess_warning_cover_factor * cover_days), "warning", "info"),
        product_sku=sku,
        family_code=_column(inv, "family_code")[i],
        amount=qty,
        unit="units",
        value=qty * cost,
        message=messages,
        suggestion=suggestions,
    )


def _aged_alerts(inv: pd.DataFrame, th: AlertThresholds, names: _Names) -> pd.DataFrame:
    aged_all = inv["aged_qty"].to_numpy(float)
    i = np.flatnonzero(aged_all > th.min_units)
    sku = inv["product_sku"].to_numpy(dtype=object)[i]
    aged = aged_all[i]
    after = inv["aged_after_days"].to_numpy(float)[i]
    # Units older than a year get a markdown, the younger aged units a SPIFF.
    old = np.where(after < 365, np.minimum(inv["qty_over_365"].to_numpy(float)[i], aged), aged)
    price = inv["unit_price"].to_numpy(float)[i]
    cost = inv["unit_cost"].to_numpy(float)[i]
    messages, suggestions = [], []
    for s, a, n, o, p, c in zip(sku, aged, after, old, price, cost, strict=True):
        common = {"product": names.product(s), "aged_units": _n(a), "after_days": _n(n)}
        if n < 365 and o > th.min_units:
            messages.append(
                _msg("aged_stock.some_over_a_year", **common, old_units=_n(o), **names.money(cost_money=a * c))
            )
        else:
            messages.append(_msg("aged_stock", **common, **names.money(cost_money=a * c)))
        parts = []
        if o > th.min_units:
            parts.append(_markdown(o, p, th, names, _msg("stock.over_a_year")))
        if a - o > th.min_units:
            parts.append(_spiff(a - o, p, th, names, _msg("stock.aged_days", from_days=_n(n + 1))))
        suggestions.append(_sentences(parts) if parts else None)
    return _frame(
        "aged_stock",
        severity=np.where(old > th.min_units, "warning", "info"),
        product_sku=sku,
        family_code=_column(inv, "family_code")[i],
        amount=aged,
        unit="units",
        value=aged * cost,
        message=messages,
        suggestion=suggestions,
    )


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Names:
    work_centers: Mapping[str, str]
    products: Mapping[str, str]
    currency: str

    def work_center(self, code: str) -> str:
        return self.work_centers.get(code) or code

    def product(self, sku: str) -> str:
        name = self.products.get(sku)
        return f"{sku} {name}" if name else sku

    def money(self, **amounts: float) -> dict[str, str]:
        """Amount parameters (decimal text, 2 places) with the currency they are in."""
        return {name: f"{amount:.2f}" for name, amount in amounts.items()} | {"currency": self.currency}


Message = dict  # {"key": str, "params": dict}, see the module doc


def _frame(
    type_: str,
    *,
    severity: object,
    message: list[Message],
    suggestion: Message | list[Message | None] | None = None,
    **fields: object,
) -> pd.DataFrame:
    """Alert rows of one type; ``fields`` hold arrays (one value per row) or one shared value;
    ``message`` one message per row, ``suggestion`` one per row or one shared (or None)."""
    n = len(message)
    if not isinstance(suggestion, list):
        suggestion = [suggestion] * n
    fields |= {
        "message_key": [m["key"] for m in message],
        "message_params": [m["params"] for m in message],
        "suggestion_key": [m["key"] if m else None for m in suggestion],
        "suggestion_params": [m["params"] if m else None for m in suggestion],
    }
    columns: dict[str, object] = {}
    for name in ALERT_COLUMNS:
        if name in ("fingerprint", "type"):
            continue
        value = severity if name == "severity" else fields.get(name)
        dtype = float if name in ("amount", "value") else object
        if name.endswith(("_key", "_params")):
            columns[name] = np.empty(n, dtype=object)
            columns[name][:] = value  # element-wise: np.asarray would look into the dicts
        elif isinstance(value, (list, tuple, np.ndarray, pd.Series)):
            columns[name] = np.asarray(value, dtype=dtype)
        else:
            columns[name] = np.full(n, value, dtype=dtype)
        if name in CODE_COLUMNS:
            # The Django side stores NULL for an absent code, never NaN.
            columns[name] = np.where(pd.isna(columns[name]), None, columns[name])
    columns["type"] = np.full(n, type_, dtype=object)
    columns["fingerprint"] = np.array(
        [
            alert_fingerprint(
                type_,
                work_center_code=w,
                product_sku=s,
                family_code=f,
                territory_code=t,
                period_start=p,
            )
            for w, s, f, t, p in zip(
                columns["work_center_code"],
                columns["product_sku"],
                columns["family_code"],
                columns["territory_code"],
                columns["period_start"],
                strict=True,
            )
        ],
        dtype=object,
    )
    return pd.DataFrame({c: columns[c] for c in ALERT_COLUMNS})


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), None, dtype=object)
    values = frame[name].astype(object).to_numpy()
    return np.where(pd.isna(values), None, values)


def _msg(key: str, **params: object) -> Message:
    return {"key": key, "params": params}


def _sentences(messages: list[Message]) -> Message:
    return messages[0] if len(messages) == 1 else _msg("sentences", sentences=messages)


def _spiff(qty: float, price: float, th: AlertThresholds, names: _Names, what: Message) -> Message:
    per_unit = th.spiff_rate * price
    return _msg(
        "spiff",
        what=what,
        qty_units=_n(qty),
        **names.money(per_unit_money=per_unit, total_money=per_unit * qty),
    )


def _markdown(qty: float, price: float, th: AlertThresholds, names: _Names, what: Message) -> Message:
    return _msg(
        "markdown",
        what=what,
        qty_units=_n(qty),
        markdown_pct=_pct(th.markdown_rate),
        **names.money(price_money=price, given_up_money=th.markdown_rate * price * qty),
    )


def _target(family: str, territory: str | None) -> Message:
    if territory:
        return _msg("target.family_territory", family=family, territory=territory)
    return _msg("target.family", family=family)


def _month(period: dt.date) -> str:
    """The ISO date of the month's first day (isoformat is fast over thousands of rows)."""
    return dt.date(period.year, period.month, 1).isoformat()


def _pct(fraction: float) -> int:
    """A share as the whole percentage shown (1.5 → 150)."""
    return _n(fraction * 100)


def _n(number: float) -> int | None:
    """A number as shown: rounded to a whole one (as ``f"{x:.0f}"`` rounds); None when it is
    not finite (JSON and PostgreSQL's jsonb know no NaN)."""
    number = float(number)
    return int(round(number)) if np.isfinite(number) else None
