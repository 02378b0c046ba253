"""Long history frame ↔ padded panel, the layout every vectorised model works on.

Input (long frame), one row per series and period:
    series_id   any hashable id
    period      int ordinal, consecutive periods differ by 1 (monthly: year * 12 + month - 1);
                the seasonal phase of a period is ``period % season_length``
    value       float demand (NaN/inf are rejected per series)

Output: a :class:`Panel` whose ``values`` is an ``(n, T)`` float array, each series
right-aligned so its last observation sits in column ``T - 1`` (every series forecasts from
the same column), NaN before the series' first period. Periods missing inside a series' range
are filled with 0 (no record = no demand) and counted. Problems that make one series unusable
(duplicate period, non-finite value) are returned as per-series errors instead of raising, so
one bad series never stops a batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("series_id", "period", "value")


@dataclass(frozen=True)
class Panel:
    ids: np.ndarray  # (n,) series ids, object dtype
    values: np.ndarray  # (n, T) right-aligned, NaN before start
    start: np.ndarray  # (n,) column of each series' first observation
    end_period: np.ndarray  # (n,) period ordinal of column T - 1
    gaps_filled: np.ndarray  # (n,) count of missing periods filled with 0

    @property
    def n(self) -> int:
        return int(self.values.shape[0])

    @property
    def width(self) -> int:
        return int(self.values.shape[1])

    @property
    def length(self) -> np.ndarray:
        return self.width - self.start

    def phase(self, season_length: int) -> np.ndarray:
        """Calendar phase (period % m) of every column, per series: (n, T) int."""
        offset = np.arange(self.width) - (self.width - 1)
        return (self.end_period[:, None] + offset[None, :]) % season_length

    def subset(self, rows: np.ndarray) -> Panel:
        return Panel(
            ids=self.ids[rows],
            values=self.values[rows],
            start=self.start[rows],
            end_period=self.end_period[rows],
            gaps_filled=self.gaps_filled[rows],
        )


def panel_from_frame(history: pd.DataFrame, *, max_history: int | None = None) -> tuple[Panel, dict[object, str]]:
    """Build the padded panel; return it with ``{series_id: error}`` for rejected series.

    ``max_history`` keeps only the most recent periods of long series (older data rarely
    helps a monthly forecast and costs time in every recursion).
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in history.columns]
    if missing:
        raise ValueError(f"history frame lacks column(s): {', '.join(missing)}")
    frame = pd.DataFrame(
        {
            "series_id": history["series_id"].to_numpy(),
            "period": pd.to_numeric(history["period"], errors="coerce").to_numpy(),
            "value": pd.to_numeric(history["value"], errors="coerce").to_numpy(dtype=float),
        }
    )
    errors: dict[object, str] = {}

    bad_period = ~np.isfinite(frame["period"].to_numpy(dtype=float))
    bad_value = ~np.isfinite(frame["value"].to_numpy())
    for mask, text in (
        (bad_period, "period is not a number"),
        (bad_value, "value is not a finite number"),
    ):
        for sid in pd.unique(frame.loc[mask, "series_id"]):
            errors.setdefault(sid, text)
    dup = frame.duplicated(["series_id", "period"], keep=False)
    for sid in pd.unique(frame.loc[dup, "series_id"]):
        errors.setdefault(sid, "duplicate period in history")
    if errors:
        frame = frame[~frame["series_id"].isin(list(errors))]
    if frame.empty:
        empty = np.zeros(0, dtype=int)
        return (
            Panel(np.array([], dtype=object), np.zeros((0, 1)), empty, empty, empty),
            errors,
        )

    frame["period"] = frame["period"].astype(np.int64)
    # factorize keeps first-seen order and works for ids of any (even mixed) type
    codes, ids = pd.factorize(frame["series_id"], sort=False)
    order = np.lexsort((frame["period"].to_numpy(), codes))
    codes = codes[order]
    period = frame["period"].to_numpy()[order]
    first = np.full(len(ids), np.iinfo(np.int64).max)
    last = np.full(len(ids), np.iinfo(np.int64).min)
    np.minimum.at(first, codes, period)
    np.maximum.at(last, codes, period)
    if max_history is not None:
        first = np.maximum(first, last - max_history + 1)
    keep = period >= first[codes]
    codes, period = codes[keep], period[keep]
    value = frame["value"].to_numpy()[order][keep]

    span = last - first + 1
    width = int(span.max())
    start = width - span
    values = np.full((len(ids), width), np.nan)
    values[codes, width - 1 - (last[codes] - period)] = value
    inside = np.arange(width)[None, :] >= start[:, None]
    gaps = inside & np.isnan(values)
    values[gaps] = 0.0
    panel = Panel(
        ids=np.asarray(ids, dtype=object),
        values=values,
        start=start.astype(int),
        end_period=last.astype(np.int64),
        gaps_filled=gaps.sum(axis=1),
    )
    return panel, errors
