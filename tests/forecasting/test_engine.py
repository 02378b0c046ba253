"""Engine acceptance cases on small hand-checked series (no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.engine import EngineParams, forecast_frame
from forecasting.engine import pipeline as pipeline_module
from forecasting.engine.classify import demand_class

H, M = 12, 12
SEASON = np.array([80, 85, 100, 110, 120, 140, 150, 145, 120, 100, 90, 60], dtype=float)


def frame(series: dict[str, np.ndarray | list[float]], first_period: int = 2020 * 12) -> pd.DataFrame:
    """Long history frame; every series ends at the same period."""
    parts = []
    end = first_period + max(len(v) for v in series.values())
    for sid, values in series.items():
        values = np.asarray(values, dtype=float)
        periods = np.arange(end - len(values), end)
        parts.append(pd.DataFrame({"series_id": sid, "period": periods, "value": values}))
    return pd.concat(parts, ignore_index=True)


def run(series, **kw) -> pipeline_module.ForecastResult:
    return forecast_frame(frame(series), horizon=kw.pop("horizon", H), season_length=M, **kw)


def points(result, sid) -> np.ndarray:
    return result.forecasts.loc[result.forecasts["series_id"] == sid, "forecast"].to_numpy()


def info(result, sid) -> pd.Series:
    return result.series.set_index("series_id").loc[sid]


def test_constant_series_forecasts_the_constant():
    # given 3 years of exactly 100 a month
    result = run({"flat": np.full(36, 100.0)})
    # then every step forecasts 100, with no spread to speak of
    np.testing.assert_allclose(points(result, "flat"), 100.0, rtol=1e-6)
    fc = result.forecasts
    np.testing.assert_allclose(fc["hi95"] - fc["lo95"], 0.0, atol=1e-3)
    assert result.errors.empty


def test_pure_seasonal_series_repeats_its_season():
    # given four identical years of a strong seasonal pattern
    result = run({"seasonal": np.tile(SEASON, 4)}, horizon=24)
    # then the next two years repeat it, month for month
    np.testing.assert_allclose(points(result, "seasonal"), np.tile(SEASON, 2), rtol=1e-3)
    assert bool(info(result, "seasonal")["seasonal"])


def test_intermittent_series_gets_a_croston_family_model():
    rng = np.random.default_rng(3)
    values = np.where(rng.random(36) < 0.3, rng.integers(3, 7, 36), 0).astype(float)
    values[:2] = [4, 0]
    result = run({"spares": values})
    row = info(result, "spares")
    assert row["demand_class"] in ("intermittent", "lumpy")
    # chosen by backtest RMSSE among the Croston family and the smooth alternatives
    assert row["model"] in ("zero", "croston", "sba", "tsb", "ses", "mean")
    assert "ADI" in row["reason"] and "lowest backtest RMSSE" in row["reason"]
    # a demand rate: positive, below the typical size of one order
    assert 0 < points(result, "spares")[0] < values[values > 0].mean()


def test_negative_spike_does_not_produce_negative_demand():
    # given steady demand with a large return booked as negative demand
    values = np.full(30, 50.0) + np.tile([0, 3, -2, 1, -1, 2], 5)
    values[24] = -5000.0
    result = run({"returns": values})
    fc = result.forecasts
    assert (fc[["forecast", "lo80", "lo95"]] >= 0).all().all()
    assert "negative value(s) in the history treated as 0" in info(result, "returns")["reason"]
    assert 30 < points(result, "returns").mean() < 70


def test_declining_trend_is_clipped_at_zero_with_the_reason():
    values = np.linspace(400, 20, 30) + np.tile([3, -3], 15)
    result = run({"dying": values}, horizon=24, params=EngineParams(log_scale=False))
    assert (points(result, "dying") >= 0).all()


def test_new_series_borrows_the_family_profile_with_the_reason():
    rng = np.random.default_rng(0)
    long = {f"old{i}": np.tile(SEASON, 3) * (1 + i / 10) * rng.normal(1, 0.02, 36) for i in range(3)}
    # the new product sold 3 months, at half the family's level, in the last 3 months
    new = SEASON[-3:] * 0.5
    result = run({**long, "new": new}, series_groups={**{k: "fam" for k in long}, "new": "fam"})
    row = info(result, "new")
    assert row["model"] == "family_profile"
    assert row["history_class"] == "new"
    assert "group fam profile" in row["reason"] and "only 3 observation(s)" in row["reason"]
    # the forecast follows the family's seasonal shape at the product's level
    fc = points(result, "new")
    np.testing.assert_allclose(fc / fc.mean(), SEASON / SEASON.mean(), rtol=0.05)
    assert 0.4 * SEASON.mean() < fc.mean() < 0.6 * SEASON.mean()


def test_two_points_without_profile_fall_back_to_naive():
    result = run({"lonely": [5.0, 7.0]})
    row = info(result, "lonely")
    assert row["model"] == "naive"
    assert "without a family profile" in row["reason"]
    np.testing.assert_allclose(points(result, "lonely"), 7.0)


def test_three_point_series_without_profile_gets_the_members_that_fit():
    result = run({"flat": [6.0, 6.0, 6.0], "rising": [10.0, 20.0, 30.0]}, horizon=3)
    # three equal points: their value, exactly (a fitted model drifts in the sixth digit)
    assert info(result, "flat")["model"] == "constant"
    assert "constant history" in info(result, "flat")["reason"]
    np.testing.assert_array_equal(points(result, "flat"), 6.0)
    assert info(result, "rising")["model"] == "combination"
    # a clear rise keeps rising, no faster than its own steps of 10
    rising = points(result, "rising")
    assert (np.diff(rising) > 0).all() and 30.0 < rising[0] < 40.0 and rising[-1] < 60.0


def test_short_series_uses_family_profile_for_seasonality():
    long = {f"old{i}": np.tile(SEASON, 3) * (1 + i) for i in range(2)}
    short = np.tile(SEASON, 2)[-15:] * 2.0
    result = run({**long, "short": short}, series_groups={"old0": "A", "old1": "A", "short": "A"})
    row = info(result, "short")
    assert row["history_class"] == "short"
    assert "group A profile" in row["reason"]
    fc = points(result, "short")
    np.testing.assert_allclose(fc / fc.mean(), SEASON / SEASON.mean(), rtol=0.05)


def test_linear_trend_is_extrapolated():
    values = 100 + 5.0 * np.arange(48)
    fc = points(run({"trend": values}), "trend")
    expected = 100 + 5.0 * np.arange(48, 48 + H)
    np.testing.assert_allclose(fc, expected, rtol=0.03)


def test_intervals_nest_around_the_point_for_every_kind_of_series():
    rng = np.random.default_rng(7)
    series = {
        "noisy": 200 + rng.normal(0, 30, 40),
        "seasonal": np.tile(SEASON, 3) * rng.normal(1, 0.05, 36),
        "sparse": np.where(rng.random(36) < 0.25, 5.0, 0.0),
        "zeros": np.zeros(20),
        "new": [3.0, 4.0],
        "trend": 50 + 3 * np.arange(36) + rng.normal(0, 5, 36),
        "walk": 500 + np.cumsum(rng.normal(0, 20, 48)),
    }
    fc = run(series).forecasts
    cols = ["lo95", "lo80", "forecast", "hi80", "hi95"]
    vals = fc[cols].to_numpy()
    assert np.isfinite(vals).all()
    assert (np.diff(vals, axis=1) >= -1e-9).all()
    assert (vals >= 0).all()
    # the band of a random walk widens with the horizon
    walk = fc[fc["series_id"] == "walk"]
    assert (walk["hi95"] - walk["lo95"]).iloc[-1] > 1.5 * (walk["hi95"] - walk["lo95"]).iloc[0]


def test_output_columns_and_backtest_metrics():
    rng = np.random.default_rng(1)
    result = run({"a": 100 + rng.normal(0, 10, 36), "b": np.tile(SEASON, 3)})
    assert list(result.forecasts.columns) == [
        "series_id",
        "step",
        "forecast",
        "lo80",
        "hi80",
        "lo95",
        "hi95",
        "model",
    ]
    assert set(result.forecasts["step"]) == set(range(1, H + 1))
    assert list(result.series.columns) == pipeline_module.SERIES_COLUMNS
    assert result.series[["smape", "mase", "wape", "bias"]].notna().all().all()
    assert list(result.errors.columns) == ["series_id", "error"]


def test_bad_series_is_reported_and_the_batch_goes_on():
    history = frame({"good": np.full(24, 10.0), "dup": np.full(24, 5.0)})
    history = pd.concat([history, history[history["series_id"] == "dup"].head(1)])
    bad_value = pd.DataFrame({"series_id": ["nan"] * 3, "period": [1, 2, 3], "value": [1.0, np.inf, 2.0]})
    result = forecast_frame(pd.concat([history, bad_value]), horizon=6, season_length=M)
    errors = dict(zip(result.errors["series_id"], result.errors["error"]))
    assert errors == {"dup": "duplicate period in history", "nan": "value is not a finite number"}
    assert set(result.series["series_id"]) == {"good"}


def test_exception_in_one_series_is_isolated(monkeypatch):
    real = pipeline_module.ROUTES["continuous"]

    def fragile(values, *args):
        if np.any(values == 666.0):
            raise ArithmeticError("boom")
        return real(values, *args)

    monkeypatch.setitem(pipeline_module.ROUTES, "continuous", fragile)
    series = {
        "ok1": np.full(36, 10.0),
        "bad": np.r_[np.full(35, 10.0), 666.0],
        "ok2": np.full(36, 20.0),
    }
    result = run(series)
    assert result.errors.to_dict("records") == [{"series_id": "bad", "error": "ArithmeticError: boom"}]
    assert set(result.series["series_id"]) == {"ok1", "ok2"}


def test_select_policy_records_the_backtest_choice():
    rng = np.random.default_rng(5)
    result = run({"x": 100 + np.cumsum(rng.normal(0, 5, 48))}, params=EngineParams(policy="select"))
    assert "lowest backtest MASE" in info(result, "x")["reason"]


def test_demand_classes():
    values = np.array(
        [
            [10, 11, 9, 10, 12, 10, 9, 11],  # smooth
            [1, 30, 2, 50, 1, 40, 3, 60],  # erratic
            [0, 5, 0, 0, 5, 0, 6, 0],  # intermittent
            [0, 1, 0, 0, 40, 0, 2, 0],  # lumpy
            [0, 0, 0, 0, 0, 0, 0, 0],  # zero
        ],
        dtype=float,
    )
    assert list(demand_class(values)) == ["smooth", "erratic", "intermittent", "lumpy", "zero"]


@pytest.mark.parametrize("horizon", [1, 18])
def test_any_horizon(horizon):
    fc = run({"a": np.tile(SEASON, 3)}, horizon=horizon).forecasts
    assert len(fc) == horizon


def test_level_shift_is_followed_to_the_new_level():
    rng = np.random.default_rng(11)
    values = np.r_[np.full(30, 100.0), np.full(12, 200.0)] + rng.normal(0, 2, 42)
    fc = points(run({"shift": values}, horizon=6), "shift")
    np.testing.assert_allclose(fc, 200.0, rtol=0.08)


def test_one_outlier_does_not_carry_into_the_forecast():
    rng = np.random.default_rng(12)
    values = 100 + rng.normal(0, 3, 40)
    values[30] = 1000.0  # a one-off order ten months ago
    fc = points(run({"spike": values}, horizon=6), "spike")
    assert (fc < 130).all() and (fc > 85).all()


@pytest.mark.parametrize("m, periods", [(4, 16), (52, 156), (7, 35)])
def test_pure_seasonal_series_repeats_at_other_frequencies(m, periods):
    season = 100 + 40 * np.sin(2 * np.pi * np.arange(m) / m) + (np.arange(m) % 3) * 5
    history = pd.DataFrame({"series_id": "s", "period": np.arange(periods), "value": np.tile(season, periods // m)})
    fc = forecast_frame(history, horizon=m, season_length=m).forecasts["forecast"].to_numpy()
    np.testing.assert_allclose(fc, np.roll(season, -(periods % m)), rtol=0.03)


def test_yearly_trend_of_a_handful_of_points_is_extrapolated():
    history = pd.DataFrame({"series_id": "y", "period": np.arange(2018, 2024), "value": 50.0 + 10 * np.arange(6)})
    fc = forecast_frame(history, horizon=3, season_length=1).forecasts["forecast"].to_numpy()
    # six points: the trend continues, but damped between the last value (100) and the
    # straight line (110, 120, 130), as the Theta forms and SES in the mean do
    assert (np.diff(fc) > 0).all()
    assert (fc > 100.0).all() and (fc <= np.array([110.0, 120.0, 130.0]) + 1e-6).all()
    assert fc[-1] > 115.0


def test_bands_cover_new_draws_at_their_nominal_rates():
    # 300 series of white noise around different levels: the calibrated 80 % / 95 % bands
    # should hold about 80 % / 95 % of fresh draws from the same processes
    rng = np.random.default_rng(13)
    levels = rng.uniform(50, 500, 300)
    noise = rng.normal(0, 1, (300, 54)) * (0.1 * levels[:, None])
    data = levels[:, None] + noise
    history = pd.DataFrame(
        {
            "series_id": np.repeat(np.arange(300), 48),
            "period": np.tile(np.arange(48), 300),
            "value": data[:, :48].ravel(),
        }
    )
    fc = forecast_frame(history, horizon=6, season_length=12).forecasts
    actual = data[:, 48:].ravel()
    inside80 = ((actual >= fc["lo80"]) & (actual <= fc["hi80"])).mean()
    inside95 = ((actual >= fc["lo95"]) & (actual <= fc["hi95"])).mean()
    assert 0.74 <= inside80 <= 0.88 and 0.90 <= inside95 <= 0.99


def test_intermittent_choice_follows_the_demand_rate():
    rng = np.random.default_rng(14)
    steady = np.where(rng.random(48) < 0.3, 5.0, 0.0)  # rate 1.5 a month
    dying = np.r_[np.where(rng.random(30) < 0.4, 6.0, 0.0), np.zeros(18)]
    dying[:2] = [6.0, 0.0]
    result = run({"steady": steady, "dying": dying}, horizon=6)
    # a steady rate is forecast near it; an item that stopped selling near zero
    assert 0.8 < points(result, "steady").mean() < 2.5
    assert points(result, "dying").mean() < 0.6
    for sid in ("steady", "dying"):
        assert "lowest backtest RMSSE" in info(result, sid)["reason"]
