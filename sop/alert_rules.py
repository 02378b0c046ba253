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
float, NaN when not meaningful), ``message``, ``suggestion`` (None when there is none).
Sorted by severity (critical first), type, fingerprint. Codes that do not apply are None.

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
    "message",
    "suggestion",
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
            text = (
                f"{names.work_center(w)} is loaded at {_pct(u)} in {_month(p)}: {_h(over)} over the {_h(a)} available."
            )
        else:
            text = f"{names.work_center(w)} has no hours available in {_month(p)} but needs {_h(h)}."
        if pre > th.min_hours:
            text += f" {_h(pre)} can be built ahead in earlier periods."
        if sh > th.min_hours:
            text += f" {_h(sh)} cannot be built in time."
        messages.append(text)
        suggestions.append(
            f"Add {_h(sh)} of capacity in or before {_month(p)} (overtime, an extra shift, "
            "another work center) or lower the demand."
            if sh > th.min_hours
            else None
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
            f"{names.work_center(w)} is loaded at {_pct(u)} in {_month(p)}: {_h(h)} of the "
            f"{_h(a)} available, {_h(max(a - h, 0.0))} headroom."
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
            f"{names.work_center(w)} is loaded at only {_pct(u)} in {_month(p)}: {_h(x)} of "
            f"the {_h(a)} available are unused."
            for w, p, u, x, a in zip(wc[i], period[i], c_util[i], unused[i], available[i], strict=True)
        ],
        suggestion=(
            "Pull work forward from overloaded periods, move products here from overloaded "
            "work centers, or plan maintenance and training."
        ),
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
        if c:
            span = f"in {_month(cf)}" if cf == cl else f"between {_month(cf)} and {_month(cl)}"
            messages.append(f"{names.product(sku)} runs out of stock: {_u(a)} of demand cannot be served {span}.")
        else:
            messages.append(
                f"{names.product(sku)}: projected inventory drops below the safety stock from "
                f"{_month(first)}; lowest {_u(low)} in {_month(low_period)}, {_u(a)} below the "
                f"{_u(ss)} safety stock."
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
            "Pre-build in earlier periods with free capacity, expedite supply, or agree an "
            "allocation of the available stock with sales."
            if c
            else "Check the safety stock and bring replenishment forward."
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
        text = (
            f"{_family_label(f, t)} in {_month(p)}: the quota of {_u(qu)} cannot be supplied "
            f"in full; {_u(s)} cannot be built"
        )
        if t is not None:
            text += f" (its share of the family's {_u(fs)} short of {_u(fq)}; {_u(ff)} feasible)."
        else:
            text += f" ({_u(ff)} feasible)."
        messages.append(text)
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
        suggestion=(
            "Agree in the supply review whether to add capacity or pre-build, or lower the quota "
            "to the feasible quantity."
        ),
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
            f"{_family_label(f, t)} in {_month(p)}: the quota of {_u(qu)} is {_pct(r)} above the forecast of {_u(fc)}."
            if fc > 0
            else f"{_family_label(f, t)} in {_month(p)}: a quota of {_u(qu)} and no forecast."
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
        suggestion="Review the quota against the demand plan before the period starts.",
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
        if no_demand:
            messages.append(
                f"{names.product(s)}: {_u(a)} available and no forecast demand; all "
                f"{_u(x)} are excess ({names.money(x * c)} at cost)."
            )
            suggestions.append(_markdown(x, p, th, names, "the excess"))
        else:
            messages.append(
                f"{names.product(s)}: {_u(a)} available cover {d:,.0f} days; {_u(x)} are beyond "
                f"{m:.0f} months of forecast demand ({names.money(x * c)} at cost)."
            )
            suggestions.append(_spiff(x, p, th, names, "the excess"))
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
        older = f" ({_u(o)} older than a year)" if n < 365 and o > th.min_units else ""
        messages.append(
            f"{names.product(s)}: {_u(a)} in stock are older than {n:.0f} days{older}, {names.money(a * c)} at cost."
        )
        parts = []
        if o > th.min_units:
            parts.append(_markdown(o, p, th, names, "the units older than a year"))
        if a - o > th.min_units:
            parts.append(_spiff(a - o, p, th, names, f"the units aged {n + 1:.0f}–365 days"))
        suggestions.append(" ".join(parts) or None)
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

    def money(self, amount: float) -> str:
        return f"{amount:,.2f} {self.currency}".strip()


def _frame(type_: str, *, severity: object, message: list[str], **fields: object) -> pd.DataFrame:
    """Alert rows of one type; ``fields`` hold arrays (one value per row) or one shared value."""
    n = len(message)
    columns: dict[str, object] = {}
    for name in ALERT_COLUMNS:
        if name in ("fingerprint", "type"):
            continue
        value = {"severity": severity, "message": message}.get(name, fields.get(name))
        dtype = float if name in ("amount", "value") else object
        if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
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


def _spiff(qty: float, price: float, th: AlertThresholds, names: _Names, what: str) -> str:
    per_unit = th.spiff_rate * price
    return (
        f"SPIFF: pay {names.money(per_unit)} per unit sold on {what} ({_u(qty)}; "
        f"{names.money(per_unit * qty)} if all sell)."
    )


def _markdown(qty: float, price: float, th: AlertThresholds, names: _Names, what: str) -> str:
    return (
        f"Markdown: {_pct(th.markdown_rate)} off the {names.money(price)} unit price on {what} "
        f"({_u(qty)}; {names.money(th.markdown_rate * price * qty)} of revenue given up)."
    )


def _family_label(family: str, territory: str | None) -> str:
    return f"Family {family}" + (f", territory {territory}" if territory else "")


def _month(period: dt.date) -> str:
    return f"{period.year:04d}-{period.month:02d}"  # strftime is slow over thousands of rows


def _pct(fraction: float) -> str:
    return f"{fraction * 100:,.0f} %"


def _h(hours: float) -> str:
    return f"{hours:,.0f} h"


def _u(units: float) -> str:
    return f"{units:,.0f} units"
