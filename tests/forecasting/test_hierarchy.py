"""Hierarchy: every level adds up, for bottom-up and for the least-squares methods."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.engine import forecast_frame
from forecasting.engine.hierarchy import aggregate_history, reconcile_hierarchy

KEYS = pd.DataFrame(
    {
        "series_id": ["p1:t1", "p1:t2", "p2:t1", "p2:t2", "p3:t3"],
        "product": ["p1", "p1", "p2", "p2", "p3"],
        "territory": ["t1", "t2", "t1", "t2", "t3"],
        "family": ["F", "F", "F", "F", "G"],
        "region": ["north", "south", "north", "south", "south"],
    }
)


def history() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    season = 1 + 0.25 * np.cos(np.arange(36) / 12 * 2 * np.pi)
    rows = []
    for k, sid in enumerate(KEYS["series_id"]):
        values = (20 + 10 * k) * season * rng.normal(1, 0.1, 36)
        rows.append(pd.DataFrame({"series_id": sid, "period": np.arange(36) + 24240, "value": values}))
    return pd.concat(rows, ignore_index=True)


def bottom_forecasts() -> pd.DataFrame:
    return forecast_frame(history(), horizon=6, season_length=12).forecasts


def assert_coherent(out: pd.DataFrame) -> None:
    bottom = out[out["level"] == "product_territory"].merge(
        KEYS.drop(columns="series_id"), on=["product", "territory"], suffixes=("_x", "")
    )
    for level, cols in {
        "product": ["product"],
        "family": ["family"],
        "region": ["region"],
        "total": [],
    }.items():
        expected = bottom.groupby([*cols, "step"])["forecast"].sum().reset_index()
        got = out[out["level"] == level]
        merged = (
            expected.merge(got, on=[*cols, "step"], suffixes=("_sum", ""))
            if cols
            else expected.merge(got, on="step", suffixes=("_sum", ""))
        )
        assert len(merged) == len(expected) > 0
        np.testing.assert_allclose(merged["forecast"], merged["forecast_sum"], rtol=1e-9)


def test_bottom_up_adds_up_at_every_level():
    fc = bottom_forecasts()
    out = reconcile_hierarchy(fc, KEYS)
    assert set(out["level"]) == {"product_territory", "product", "family", "region", "total"}
    assert_coherent(out)
    total = out[out["level"] == "total"]
    assert (total["n_series"] == 5).all()
    # aggregate bands are nested and narrower than the sum of the parts' bands
    cols = ["lo95", "lo80", "forecast", "hi80", "hi95"]
    assert (np.diff(out[cols].to_numpy(), axis=1) >= -1e-9).all()
    parts = fc.groupby("step")[["lo95", "hi95"]].sum()
    assert ((total.set_index("step")["hi95"] - total.set_index("step")["lo95"]) < (parts["hi95"] - parts["lo95"])).all()


@pytest.mark.parametrize("method", ["wls_struct", "wls_var"])
def test_least_squares_reconciliation_adds_up(method):
    hist = history()
    agg = aggregate_history(hist, KEYS)
    base = forecast_frame(agg[["series_id", "period", "value"]], horizon=6, season_length=12).forecasts
    base = base.merge(agg.drop_duplicates("series_id").drop(columns=["period", "value"]), on="series_id")
    out = reconcile_hierarchy(bottom_forecasts(), KEYS, method=method, base=base)
    assert_coherent(out)
    # least squares: no coherent forecast is closer (in the weighted metric) to the base
    # forecasts than the reconciled one, in particular not the bottom-up one
    if method == "wls_struct":
        bu = reconcile_hierarchy(bottom_forecasts(), KEYS)
        cols = ["level", "product", "territory", "family", "region", "step"]
        bottom = bottom_forecasts().merge(KEYS[["series_id", "product", "territory"]], on="series_id")
        bottom = bottom.assign(level="product_territory", family=pd.NA, region=pd.NA)
        own = pd.concat([bottom, base])[cols + ["forecast"]]
        m = own.merge(out, on=cols, suffixes=("_base", "")).merge(bu, on=cols, suffixes=("", "_bu"))
        assert len(m) == len(out)
        w = m["n_series"]
        d_rec = ((m["forecast_base"] - m["forecast"]) ** 2 / w).groupby(m["step"]).sum()
        d_bu = ((m["forecast_base"] - m["forecast_bu"]) ** 2 / w).groupby(m["step"]).sum()
        assert (d_rec <= d_bu + 1e-9).all()


def test_coherent_levels_forecasts_the_aggregates_and_reconciles():
    from forecasting.engine.hierarchy import coherent_levels

    hist = history()
    # a near-zero series that least squares would pull below zero stays at zero or above
    hist.loc[hist["series_id"] == "p3:t3", "value"] = np.r_[np.zeros(33), 0.5, 0.0, 0.0]
    bottom = forecast_frame(hist, horizon=6, season_length=12).forecasts
    out = coherent_levels(bottom, hist, KEYS, horizon=6, season_length=12, method="wls_var")
    assert_coherent(out)
    assert (out["forecast"] >= 0).all()
    assert set(out["level"]) == {"product_territory", "product", "family", "region", "total"}
    # the reconciled total is not merely the bottom-up sum
    bu = coherent_levels(bottom, hist, KEYS, horizon=6, season_length=12, method="bottom_up")
    t_rec = out[out["level"] == "total"]["forecast"].to_numpy()
    t_bu = bu[bu["level"] == "total"]["forecast"].to_numpy()
    assert not np.allclose(t_rec, t_bu)
