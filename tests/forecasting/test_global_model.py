"""Global model across series: what it learns, and that it is blended in only when the
held-out window says it helps (no database)."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.engine import global_model

pytestmark = pytest.mark.skipif(not global_model.available(), reason="lightgbm not installed")

SEASON = np.array([80, 85, 100, 110, 120, 140, 150, 145, 120, 100, 90, 60], dtype=float)


def test_it_learns_a_shape_shared_by_many_series():
    rng = np.random.default_rng(0)
    series = [np.tile(SEASON, 4) * rng.uniform(0.5, 5) * rng.normal(1, 0.02, 48) for _ in range(40)]
    ends = np.full(40, 2020 * 12 + 47)  # every series ends in December
    fc = global_model.fit_predict(series, ends, 12, 12)
    level = np.array([s[-12:].mean() for s in series])
    np.testing.assert_allclose(fc / level[:, None], np.tile(SEASON / SEASON.mean(), (40, 1)), rtol=0.1)


def test_blend_weight_follows_the_held_out_errors():
    rng = np.random.default_rng(1)
    actual = rng.uniform(50, 150, (60, 6))
    scale = np.full(60, 10.0)
    stat = actual + rng.normal(0, 10, actual.shape)
    good = actual + rng.normal(0, 2, actual.shape)
    bad = actual + rng.normal(0, 40, actual.shape)
    chosen = global_model.choose_weight(actual, stat, good, scale)
    assert chosen.weight == 0.5 and chosen.error_blend < chosen.error_stat
    assert "blended with the global model (weight 0.50" in chosen.note()
    assert (chosen.ratio80 < 1).all()  # the blend erred less: its bands narrow
    rejected = global_model.choose_weight(actual, stat, bad, scale)
    assert rejected.weight == 0 and rejected.note() == ""
    # too few series to judge: not used
    assert global_model.choose_weight(actual[:10], stat[:10], good[:10], scale[:10]).weight == 0
