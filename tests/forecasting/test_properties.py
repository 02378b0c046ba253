"""Properties of the forecast engine that must hold for every input (hypothesis; no
database): a constant series forecasts the constant, whatever its level, its length (new,
short or long history) and the horizon; zero forecasts zero."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.engine import forecast_frame

level = st.one_of(st.just(0.0), st.floats(min_value=0.5, max_value=1e6, allow_nan=False))


@settings(max_examples=40, derandomize=True, deadline=None)
@given(series=st.lists(st.tuples(level, st.integers(1, 60)), min_size=1, max_size=6), horizon=st.integers(1, 18))
def test_a_constant_series_forecasts_the_constant(series, horizon):
    end = 2026 * 12
    history = pd.concat(
        [
            pd.DataFrame({"series_id": f"s{i}", "period": np.arange(end - n, end), "value": value})
            for i, (value, n) in enumerate(series)
        ],
        ignore_index=True,
    )
    result = forecast_frame(history, horizon=horizon, season_length=12)
    assert result.errors.empty
    for i, (value, _) in enumerate(series):
        rows = result.forecasts.loc[result.forecasts["series_id"] == f"s{i}"]
        assert len(rows) == horizon
        np.testing.assert_allclose(rows["forecast"], value, rtol=1e-6, atol=1e-9)
        assert (rows["lo95"] <= rows["forecast"] + 1e-6 * max(value, 1)).all()
        assert (rows["forecast"] <= rows["hi95"] + 1e-6 * max(value, 1)).all()
