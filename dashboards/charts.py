"""The maths of the role home dashboards (pure: no Django, every date passed in).

Each builder returns a **chart**: a plain dict that the page draws with Chart.js, shows as a
table and exports as CSV, so the three always carry the same numbers::

    {"id": str, "kind": "bar" | "line" | "hbar",
     "labels": [str, ...],                      # x axis (or y for "hbar"), one per row of the table
     "series": [{"key": str, "data": [float | None, ...], "style": str}, ...],
     "unit": "money" | "units" | "pct" | "count",
     "facts": {...}}                            # figures the page words the text alternative with

``style`` picks the look in ``static/js/dashboards.js``: ``bar``, ``bar-muted``, ``bar-accent``,
``line``, ``line-dashed``, ``line-accent``, ``band80``/``band95`` (lower edge) and
``band80-hi``/``band95-hi`` (upper edge, filled down to the lower one). Labels of series are
given by the page (translated there), keyed by ``key``.

Inputs are plain lists, dicts and DataFrames with the columns each function names. Money comes
in as ``Decimal`` and is summed as ``Decimal``; it leaves as ``float`` rounded to cents for the
chart (the page formats it).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal

import pandas as pd

SEVERITIES = ("critical", "warning", "info")


def _num(value, digits: int = 2) -> float | None:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return round(float(value), digits)


def month_label(day: dt.date) -> str:
    return day.strftime("%Y-%m")


def table(chart: dict, series_labels: dict[str, str], first_header: str) -> dict:
    """The chart's numbers as a table: one row per label, one column per series."""
    keys = [s["key"] for s in chart["series"]]
    rows = [[label] + [s["data"][i] for s in chart["series"]] for i, label in enumerate(chart["labels"])]
    return {"headers": [first_header] + [series_labels.get(k, k) for k in keys], "rows": rows}


# --- sales manager and rep -------------------------------------------------------------------


def attainment_to_date(frame: pd.DataFrame, *, as_of: dt.date) -> pd.DataFrame:
    """Quota and actual per owner summed over the months up to ``as_of``'s month.

    Input columns: ``owner``, ``owner_name``, ``period_start``, ``quota`` (Decimal or None),
    ``actual`` (Decimal). Output: ``owner``, ``owner_name``, ``quota``, ``actual``,
    ``attainment_pct`` (float, None without quota), sorted by attainment, lowest first.
    """
    columns = ["owner", "owner_name", "quota", "actual", "attainment_pct"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    done = frame.loc[pd.to_datetime(frame["period_start"]).dt.date <= as_of.replace(day=1)]
    out = []
    for owner, group in done.groupby("owner", sort=True):
        quota = sum((q for q in group["quota"] if q is not None and not pd.isna(q)), Decimal(0))
        actual = sum((a for a in group["actual"] if a is not None and not pd.isna(a)), Decimal(0))
        pct = float(actual / quota * 100) if quota > 0 else None
        name = group["owner_name"].iloc[0]
        out.append(
            {
                "owner": owner,
                "owner_name": name if isinstance(name, str) and name else owner,
                "quota": quota,
                "actual": actual,
                "attainment_pct": pct,
            }
        )
    result = pd.DataFrame(out, columns=columns)
    return result.sort_values("attainment_pct", na_position="last", kind="stable").reset_index(drop=True)


def attainment_bars(totals: pd.DataFrame, *, chart_id: str, unit: str) -> dict:
    """Quota vs actual bars per owner (from :func:`attainment_to_date`)."""
    pct = [_num(p, 1) for p in totals["attainment_pct"]]
    below = [str(n) for n, p in zip(totals["owner_name"], pct, strict=True) if p is not None and p < 100]
    return {
        "id": chart_id,
        "kind": "bar",
        "unit": unit,
        "labels": [str(n) for n in totals["owner_name"]],
        "series": [
            {"key": "quota", "style": "bar-muted", "data": [_num(q) for q in totals["quota"]]},
            {"key": "actual", "style": "bar", "data": [_num(a) for a in totals["actual"]]},
            {"key": "attainment_pct", "style": "none", "data": pct},
        ],
        "facts": {
            "owners": len(totals),
            "below": len(below),
            "below_names": below[:5],
            "lowest": below[0] if below else None,
        },
    }


def pace_to_quota(
    months: Sequence[dt.date], quota: dict[dt.date, Decimal], actual: dict[dt.date, Decimal], *, as_of: dt.date
) -> dict:
    """A rep's (or any owner's) months of the year: quota and actual per month, both summed
    over the months whose actual is known, and the pace: attainment to date, the year-end
    figure at that pace and what is needed per remaining month to reach the year's quota.

    ``months``: the fiscal year's month starts in order; ``quota``/``actual`` by month start. A
    past month missing from ``actual`` is unknown (no statement), not zero: it is left out of
    the sums, and the pace (actual ÷ quota over the known months) stands in for it.
    """
    current = as_of.replace(day=1)
    known = [m for m in months if m <= current and m in actual]
    run_q, run_a = Decimal(0), Decimal(0)
    cum_q, cum_a, per_q, per_a = [], [], [], []
    for m in months:
        q = quota.get(m)
        per_q.append(_num(q))
        if m in known:
            run_q += q or Decimal(0)
            run_a += actual[m] or Decimal(0)
            per_a.append(_num(actual[m]))
            cum_q.append(_num(run_q))
            cum_a.append(_num(run_a))
        else:
            per_a.append(None)
            cum_q.append(None)
            cum_a.append(None)
    elapsed = [m for m in months if m <= current]
    remaining = len(months) - len(elapsed)
    year_quota = sum((quota.get(m) or Decimal(0) for m in months), Decimal(0))
    elapsed_quota = sum((quota.get(m) or Decimal(0) for m in elapsed), Decimal(0))
    pace = run_a / run_q if run_q > 0 else None
    projected = None if pace is None else pace * year_quota
    facts = {
        "ytd_actual": _num(run_a),
        "ytd_quota": _num(run_q),
        "year_quota": _num(year_quota),
        "ytd_pct": _num(pace * 100, 1) if pace is not None else None,
        "projected": _num(projected),
        "projected_pct": _num(pace * 100, 1) if pace is not None else None,
        "needed_per_month": _num(max(Decimal(0), year_quota - pace * elapsed_quota) / remaining)
        if remaining and pace is not None
        else None,
        "remaining_months": remaining,
        "known_months": len(known),
        "unknown_months": len(elapsed) - len(known),
    }
    return {
        "id": "pace",
        "kind": "bar",
        "unit": "money",
        "labels": [month_label(m) for m in months],
        "series": [
            {"key": "quota", "style": "bar-muted", "data": per_q},
            {"key": "actual", "style": "bar", "data": per_a},
            {"key": "cum_quota", "style": "line-dashed", "data": cum_q},
            {"key": "cum_actual", "style": "line-accent", "data": cum_a},
        ],
        "facts": facts,
    }


def forecast_target_actual(
    months: Sequence[dt.date],
    forecast: pd.DataFrame,
    target: dict[dt.date, float],
    actual: dict[dt.date, float],
    *,
    as_of: dt.date,
) -> dict:
    """Units by month: actual sales (the months over by ``as_of``), the sales target and the
    forecast with its 80 % and 95 % bands.

    ``forecast`` columns: ``period_start``, ``point`` and the additive squared half-widths
    ``lo80_sq``, ``hi80_sq``, ``lo95_sq``, ``hi95_sq`` summed over the series of the scope (the
    bands of a sum of independent series, as ``forecasting.levels`` combines them).
    """
    by_month = {row.period_start: row for row in forecast.itertuples(index=False)} if len(forecast) else {}
    series: dict[str, list] = {k: [] for k in ("lo95", "hi95", "lo80", "hi80", "forecast", "target", "actual")}
    # A month's actual is drawn once the month is over: a few days of sales next to a whole
    # month's forecast would read as a collapse.
    month_over = (as_of + dt.timedelta(days=1)).month != as_of.month
    last_complete = as_of.replace(day=1) if month_over else (as_of.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    for m in months:
        row = by_month.get(m)
        if row is None:
            for k in ("lo95", "hi95", "lo80", "hi80", "forecast"):
                series[k].append(None)
        else:
            point = float(row.point)
            series["forecast"].append(_num(point, 1))
            for side, sign in (("lo", -1), ("hi", 1)):
                for level in ("80", "95"):
                    edge = point + sign * math.sqrt(max(float(getattr(row, f"{side}{level}_sq")), 0.0))
                    series[f"{side}{level}"].append(_num(max(edge, 0.0), 1))
        series["target"].append(_num(target.get(m), 1))
        series["actual"].append(_num(actual.get(m, 0.0), 1) if m <= last_complete else None)
    styles = {
        "lo95": "band95",
        "hi95": "band95-hi",
        "lo80": "band80",
        "hi80": "band80-hi",
        "forecast": "line",
        "target": "line-dashed",
        "actual": "line-accent",
    }
    gaps = [
        (t - f) for t, f in zip(series["target"], series["forecast"], strict=True) if t is not None and f is not None
    ]
    return {
        "id": "forecast",
        "kind": "line",
        "unit": "units",
        "labels": [month_label(m) for m in months],
        "series": [{"key": k, "style": styles[k], "data": v} for k, v in series.items()],
        "facts": {
            "target_gap": _num(sum(gaps), 0) if gaps else None,
            "months_with_forecast": sum(1 for f in series["forecast"] if f is not None),
        },
    }


# --- operations ------------------------------------------------------------------------------


def severity_counts(counts: dict[str, int]) -> dict:
    """Open alerts by severity, most severe first."""
    data = [int(counts.get(s, 0)) for s in SEVERITIES]
    return {
        "id": "severity",
        "kind": "hbar",
        "unit": "count",
        "labels": list(SEVERITIES),
        "series": [{"key": "open", "style": "severity", "data": data}],
        "facts": dict(zip(SEVERITIES, data, strict=True)) | {"total": sum(data)},
    }


def bottleneck_trend(loads: pd.DataFrame, *, top: int = 5) -> dict:
    """Utilisation % by month of the ``top`` work centers with the highest peak utilisation.

    Input columns: ``work_center`` (label), ``period_start``, ``utilisation`` (ratio, may be NaN).
    """
    if loads.empty:
        return {
            "id": "bottlenecks",
            "kind": "line",
            "unit": "pct",
            "labels": [],
            "series": [],
            "facts": {"work_centers": 0, "peak": None, "peak_name": None, "over": 0},
        }
    frame = loads.dropna(subset=["utilisation"])
    peaks = frame.groupby("work_center")["utilisation"].max().sort_values(ascending=False, kind="stable")
    chosen = list(peaks.index[:top])
    periods = sorted(loads["period_start"].unique())
    pivot = frame.loc[frame["work_center"].isin(chosen)].pivot_table(
        index="period_start", columns="work_center", values="utilisation", aggfunc="max"
    )
    series = []
    for name in chosen:
        column = pivot[name] if name in pivot.columns else pd.Series(dtype=float)
        series.append(
            {
                "key": str(name),
                "style": "line",
                "data": [
                    _num(column.get(p) * 100, 1) if p in column.index and not pd.isna(column.get(p)) else None
                    for p in periods
                ],
            }
        )
    over = int((frame["utilisation"] > 1.0).sum())
    return {
        "id": "bottlenecks",
        "kind": "line",
        "unit": "pct",
        "labels": [month_label(p) for p in periods],
        "series": series,
        "facts": {
            "work_centers": len(chosen),
            "peak": _num(peaks.iloc[0] * 100, 1) if len(peaks) else None,
            "peak_name": str(peaks.index[0]) if len(peaks) else None,
            "over": over,
        },
    }


def stock_by_age(buckets: pd.DataFrame, unit_cost: dict[str, Decimal], bucket_columns: Sequence[str]) -> dict:
    """Inventory value by age bucket. ``buckets``: ``product_sku`` and one quantity column per
    bucket (``inventory.calculations.aging_buckets``); ``unit_cost`` by SKU."""
    values = []
    for column in bucket_columns:
        total = Decimal(0)
        if len(buckets):
            for sku, qty in zip(buckets["product_sku"], buckets[column], strict=True):
                if qty and not pd.isna(qty):
                    total += Decimal(str(round(float(qty), 4))) * (unit_cost.get(sku) or Decimal(0))
        values.append(total)
    whole = sum(values, Decimal(0))
    aged = sum(values[2:], Decimal(0))
    return {
        "id": "aged",
        "kind": "bar",
        "unit": "money",
        "labels": list(bucket_columns),
        "series": [{"key": "value", "style": "bar", "data": [_num(v) for v in values]}],
        "facts": {
            "total": _num(whole),
            "aged": _num(aged),
            "aged_pct": _num(aged / whole * 100, 1) if whole > 0 else None,
        },
    }


# --- planner ---------------------------------------------------------------------------------


def accuracy_trend(rows: Iterable[dict]) -> dict:
    """WAPE and bias (both %) per forecast run, oldest first. ``rows``: ``run_id``, ``as_of``,
    ``wape``, ``bias`` (in % as the engine stores them, ``bias`` > 0 = forecast above actual)."""
    rows = sorted(rows, key=lambda r: (r["as_of"], r["run_id"]))
    wape = [_num(r["wape"], 1) for r in rows]
    bias = [_num(r["bias"], 1) for r in rows]
    latest = next(((w, b) for w, b in zip(reversed(wape), reversed(bias), strict=True) if w is not None), (None, None))
    previous = [w for w in wape[:-1] if w is not None]
    return {
        "id": "accuracy",
        "kind": "line",
        "unit": "pct",
        "labels": [f"#{r['run_id']} {month_label(r['as_of'])}" for r in rows],
        "series": [
            {"key": "wape", "style": "line", "data": wape},
            {"key": "bias", "style": "line-dashed", "data": bias},
        ],
        "facts": {
            "wape": latest[0],
            "bias": latest[1],
            "direction": None
            if latest[1] is None
            else ("over" if latest[1] > 0.5 else "under" if latest[1] < -0.5 else "balanced"),
            "change": _num(latest[0] - previous[-1], 1) if previous and latest[0] is not None else None,
            "runs": len(rows),
        },
    }


# --- executive -------------------------------------------------------------------------------


def revenue_plan_vs_target(months: Sequence[dict]) -> dict:
    """Plan revenue, target revenue and last year's by month (``executive_review``'s months:
    ``period_start``, ``revenue``, ``target_revenue``, ``last_year``)."""
    plan = [_num(m["revenue"], 0) for m in months]
    target = [_num(m["target_revenue"], 0) for m in months]
    last = [_num(m["last_year"], 0) for m in months]
    plan_total = sum(v for v in plan if v is not None)
    target_total = sum(v for v in target if v is not None)
    return {
        "id": "revenue",
        "kind": "bar",
        "unit": "money",
        "labels": [month_label(m["period_start"]) for m in months],
        "series": [
            {"key": "plan", "style": "bar", "data": plan},
            {"key": "target", "style": "bar-accent", "data": target},
            {"key": "last_year", "style": "bar-muted", "data": last},
        ],
        "facts": {
            "plan": plan_total,
            "target": target_total,
            "gap": _num(plan_total - target_total, 0) if any(t is not None for t in target) else None,
            "gap_pct": _num((plan_total - target_total) / target_total * 100, 1) if target_total else None,
        },
    }
