"""Pure forecasting engine (numpy/pandas/scipy only — no Django).

Entry points:
    forecast_frame(history, horizon=, season_length=, params=, series_groups=, group_profiles=)
        -> ForecastResult(forecasts, series, errors)          (pipeline.py)
    reconcile_hierarchy(forecasts, keys, levels=)  -> coherent forecasts at every level
                                                               (hierarchy.py)
"""

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
    "forecast_frame",
    "forecast_panel",
    "seasonal_profiles",
]
