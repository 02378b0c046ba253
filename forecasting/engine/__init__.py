"""Pure forecasting engine (numpy/pandas/scipy only — no Django).

Entry points:
    forecast_frame(history, horizon=, season_length=, params=, series_groups=, group_profiles=)
        history: series_id, period (int ordinal), value
        -> ForecastResult(forecasts, series, errors)                       pipeline.py
    seasonal_profiles(panel, groups, season_length) -> {group: indices}   pipeline.py
    reconcile_hierarchy(forecasts, keys, levels=, method=, base=)
        -> coherent forecasts at every level                               hierarchy.py
    coherent_levels(forecasts, history, keys, horizon=, season_length=, method=)
        -> the aggregate nodes forecast from their own histories, then reconciled
    aggregate_history(history, keys, levels=) -> histories of the aggregate nodes
    global_model.fit_predict / validation_forecast / choose_weight
        -> a LightGBM model across series and its validated blend weight   global_model.py

Modules by purpose: panel (long frame ↔ padded arrays), classify (ADI/CV², history length),
seasonality (test, decomposition, profiles), smoothing / theta / intermittent / baselines
(models), ensemble (combination members by season length, temporal aggregation), selection
(validated combination weights), global_model, intervals, guards, metrics.
"""

from forecasting.engine.hierarchy import aggregate_history, coherent_levels, reconcile_hierarchy
from forecasting.engine.pipeline import (
    EngineParams,
    ForecastResult,
    forecast_frame,
    forecast_panel,
    seasonal_profiles,
)

__all__ = [
    "EngineParams",
    "ForecastResult",
    "aggregate_history",
    "coherent_levels",
    "forecast_frame",
    "forecast_panel",
    "reconcile_hierarchy",
    "seasonal_profiles",
]
