"""Hierarchy accuracy on the large demo's held-out months: bottom-up against reconciliation.

Reads the demand history of every product × territory series of the demo company from the
database (the ``large`` demo seeded by ``bench/forecast_nightly.py --keep``, or any seeded
database), holds out the last ``--holdout`` complete months, forecasts the bottom series the
way the nightly run does (family profiles, mean point forecasts), and makes the levels
coherent with each method of ``forecasting.engine.hierarchy`` (bottom-up; WLS with
structural weights; WLS with each node's own forecast variance). For every level it prints
WAPE and bias over the held-out months and the time each method took.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sop_bench_nightly \\
        .venv/bin/python bench/forecast_hierarchy.py [--holdout 6]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LEVELS = {
    "product_territory": ["product", "territory"],
    "product": ["product"],
    "territory": ["territory"],
    "family": ["family"],
    "region": ["region"],
    "family_region": ["family", "region"],
    "total": [],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--holdout", type=int, default=6, help="months held out")
    parser.add_argument("--history-months", type=int, default=36)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789-0123456789-0123456789")
    import django

    django.setup()
    from django.utils import timezone

    from forecasting.engine import EngineParams, forecast_frame, seasonal_profiles
    from forecasting.engine.hierarchy import coherent_levels
    from forecasting.engine.panel import panel_from_frame
    from forecasting.selectors import demand_history_frame, family_history_frame, series_universe
    from forecasting.services import _last_history_ordinal

    as_of = timezone.localdate()
    t0 = time.perf_counter()
    universe = series_universe(as_of=as_of, history_months=args.history_months)
    history = demand_history_frame(as_of=as_of, history_months=args.history_months, series=universe)
    last = _last_history_ordinal(as_of)
    ids = universe["product_id"].astype(str) + ":" + universe["territory_id"].astype(str)
    # every series runs to the last complete month (no record = no demand), as in the run
    tail = pd.DataFrame({"series_id": ids, "period": last, "value": 0.0})
    history = pd.concat([history, tail]).drop_duplicates(["series_id", "period"], keep="first")
    print(f"read {len(universe):,} series, {len(history):,} series-months in {time.perf_counter() - t0:.1f} s")

    cut = last - args.holdout
    train = history[history["period"] <= cut]
    test = history[history["period"] > cut]
    keys = pd.DataFrame(
        {
            "series_id": ids,
            "product": universe["product_id"],
            "territory": universe["territory_id"],
            "family": universe["family_id"],
            "region": universe["region_code"],
        }
    )
    train = train.merge(keys[["series_id"]], on="series_id")
    fam = family_history_frame(as_of=as_of, history_months=args.history_months)
    panel, _ = panel_from_frame(fam[fam["period"] <= cut])
    profiles = seasonal_profiles(panel, np.asarray(panel.ids), 12)
    groups = pd.Series(universe["family_id"].astype(str).to_numpy(), index=ids.to_numpy())
    t0 = time.perf_counter()
    bottom = forecast_frame(
        train, horizon=args.holdout, season_length=12, series_groups=groups, group_profiles=profiles
    )
    print(f"bottom forecasts: {time.perf_counter() - t0:.1f} s")
    actual = test.merge(keys, on="series_id")
    actual["step"] = actual["period"] - cut
    # every bottom series has an actual for every held-out month (0 when nothing sold)
    grid = keys.merge(pd.DataFrame({"step": np.arange(1, args.holdout + 1)}), how="cross")
    actual = grid.merge(actual[["series_id", "step", "value"]], on=["series_id", "step"], how="left")
    actual["value"] = actual["value"].fillna(0.0)

    _intermittent_report(bottom, train, actual, args.holdout)

    rows = []
    for method in ("bottom_up", "wls_struct", "wls_var"):
        t0 = time.perf_counter()
        out = coherent_levels(
            bottom.forecasts,
            train,
            keys,
            horizon=args.holdout,
            season_length=12,
            levels=LEVELS,
            method=method,
            params=EngineParams(),
        )
        seconds = time.perf_counter() - t0
        for level, cols in LEVELS.items():
            a = (
                actual.groupby([*cols, "step"])["value"].sum().reset_index()
                if cols
                else (actual.groupby("step")["value"].sum().reset_index())
            )
            f = out[out["level"] == level][[*cols, "step", "forecast", "lo80", "hi80"]]
            m = a.merge(f, on=[*cols, "step"], how="inner")
            err = m["forecast"] - m["value"]
            inside = ((m["value"] >= m["lo80"]) & (m["value"] <= m["hi80"])).mean()
            rows.append(
                {
                    "level": level,
                    "method": method,
                    "nodes": len(m) // args.holdout,
                    "WAPE %": 100 * err.abs().sum() / m["value"].abs().sum(),
                    "bias %": 100 * err.sum() / m["value"].abs().sum(),
                    "in 80 %": 100 * inside,
                    "seconds": seconds,
                }
            )
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    for metric in ("WAPE %", "bias %", "in 80 %"):
        print(f"\n{metric} on the last {args.holdout} months (held out)")
        print(table.pivot(index="level", columns="method", values=metric).loc[list(LEVELS)].round(1))
    print("\nseconds per method:", table.groupby("method")["seconds"].first().round(2).to_dict())


def _intermittent_report(bottom, train, actual, h: int) -> None:
    """Held-out RMSSE and MASE of the intermittent and lumpy series: the engine's per-series
    choice (by backtest RMSSE) against each candidate used for all of them."""
    from forecasting.engine import baselines, intermittent, metrics
    from forecasting.engine.panel import panel_from_frame
    from forecasting.engine.smoothing import left_align, ses

    classes = bottom.series.set_index("series_id")["demand_class"]
    sparse_ids = classes[classes.isin(["intermittent", "lumpy"])].index
    panel, _ = panel_from_frame(train[train["series_id"].isin(sparse_ids)])
    values = np.maximum(panel.values, 0.0)
    xl, length = left_align(values, panel.start)
    cands = {
        "zero": np.zeros((panel.n, h)),
        "croston": intermittent.croston(xl, length, h).forecast,
        "sba": intermittent.croston(xl, length, h, sba=True).forecast,
        "tsb": intermittent.tsb(xl, length, h).forecast,
        "ses": ses(xl, length, h).forecast,
        "mean": baselines.history_mean(values, h)[0],
    }
    fc = bottom.forecasts.set_index(["series_id", "step"])["forecast"]
    cands["engine (per-series choice)"] = np.stack([fc.loc[sid].to_numpy()[:h] for sid in panel.ids])
    act = actual.set_index(["series_id", "step"])["value"]
    a = np.stack([act.loc[sid].to_numpy()[:h] for sid in panel.ids])
    sq = metrics.step_mse(values)
    scale = metrics.naive_scale(values, 12)
    print(f"\nintermittent and lumpy series ({panel.n:,}): held-out accuracy by method")
    chosen = bottom.series.set_index("series_id").loc[panel.ids, "model"].value_counts().to_dict()
    print(f"  the engine's choices: {chosen}")
    for name, f in cands.items():
        r = np.nanmean(metrics.rmsse(a, f, sq))
        m = np.nanmean(metrics.mase(a, f, scale))
        print(f"  {name:28s} RMSSE {r:6.3f}  MASE {m:6.3f}")


if __name__ == "__main__":
    main()
