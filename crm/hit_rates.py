"""Stage hit rates calibrated from closed deals, with a prior for thin data.

Pure calculation (pandas; no Django).

Inputs
------
``closed``: one row per closed opportunity — ``stage`` (the stage it was in when it closed),
``family_code``, ``status`` (``won``/``lost``), ``probability`` (the CRM's, percent 0–100).
``open_deals``: ``stage``, ``family_code``, ``probability`` (percent), any other columns.

Rules
-----
Per stage, pooled over families: ``prior = mean CRM probability of the stage's closed deals``
(as a fraction), ``stage_rate = (won + k × prior) / (closed + k)``. Per stage × family the stage
rate is the prior: ``rate = (won_f + k × stage_rate) / (closed_f + k)``. ``k`` is
``prior_strength`` (pseudo-deals). A stage with fewer than ``min_closed`` closed deals keeps
the CRM's probabilities (``source = "crm"``); otherwise an open deal takes its stage × family
rate, or the stage rate when its family has no closed deal in that stage
(``source = "history"``).

Outputs
-------
:func:`calibrate_hit_rates` → ``stage, family_code, closed, won, prior, stage_rate, rate``
(one row per stage × family seen in history; rates as fractions).
:func:`apply_hit_rates` → ``open_deals`` plus ``probability_used`` (fraction) and ``source``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CALIBRATION_COLUMNS = ["stage", "family_code", "closed", "won", "prior", "stage_rate", "rate"]
PRIOR_STRENGTH = 5.0
MIN_CLOSED = 10


def calibrate_hit_rates(closed: pd.DataFrame, *, prior_strength: float = PRIOR_STRENGTH) -> pd.DataFrame:
    if closed.empty:
        return pd.DataFrame(columns=CALIBRATION_COLUMNS)
    frame = pd.DataFrame(
        {
            "stage": closed["stage"].astype(str),
            "family_code": closed["family_code"].astype(str),
            "won": (closed["status"] == "won").astype(float),
            "probability": pd.to_numeric(closed["probability"], errors="coerce").astype(float) / 100.0,
        }
    )
    stages = frame.groupby("stage").agg(
        stage_closed=("won", "size"), stage_won=("won", "sum"), prior=("probability", "mean")
    )
    stages["prior"] = stages["prior"].fillna(0.5)
    stages["stage_rate"] = (stages["stage_won"] + prior_strength * stages["prior"]) / (
        stages["stage_closed"] + prior_strength
    )
    cells = frame.groupby(["stage", "family_code"]).agg(closed=("won", "size"), won=("won", "sum")).reset_index()
    cells = cells.join(stages[["prior", "stage_rate"]], on="stage")
    cells["rate"] = (cells["won"] + prior_strength * cells["stage_rate"]) / (cells["closed"] + prior_strength)
    cells["closed"] = cells["closed"].astype(int)
    cells["won"] = cells["won"].astype(int)
    return cells[CALIBRATION_COLUMNS].sort_values(["stage", "family_code"]).reset_index(drop=True)


def apply_hit_rates(
    open_deals: pd.DataFrame, calibration: pd.DataFrame, *, min_closed: int = MIN_CLOSED
) -> pd.DataFrame:
    out = open_deals.copy()
    crm = pd.to_numeric(out["probability"], errors="coerce").astype(float).to_numpy() / 100.0
    if out.empty or calibration.empty:
        out["probability_used"] = crm
        out["source"] = "crm"
        return out
    stage_totals = calibration.groupby("stage").agg(stage_closed=("closed", "sum"), stage_rate=("stage_rate", "first"))
    enough = stage_totals[stage_totals["stage_closed"] >= min_closed]
    keys = pd.MultiIndex.from_arrays([out["stage"].astype(str), out["family_code"].astype(str)])
    cell_rate = calibration.set_index(["stage", "family_code"])["rate"].reindex(keys).to_numpy(dtype=float)
    stage_rate = enough["stage_rate"].reindex(out["stage"].astype(str)).to_numpy(dtype=float)
    has_history = ~np.isnan(stage_rate)
    calibrated = np.where(np.isnan(cell_rate), stage_rate, cell_rate)
    out["probability_used"] = np.where(has_history, calibrated, crm)
    out["source"] = np.where(has_history, "history", "crm")
    return out
