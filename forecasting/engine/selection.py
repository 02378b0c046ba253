"""Combination weights from rolling-origin validation (pure numpy).

Input: every member's forecasts at the validation origins, ``points[name]`` (n, K, h) — n
series, K origins, h steps, NaN where the member could not fit or the origin lies before the
series had enough history — the actual values ``actual`` (n, K, h) and a per-series scale
``scale`` (n, K) (the mean absolute one-step change of the history before each origin, so
errors of series of any size are comparable, as in MASE).

:func:`greedy_weights` is forward ensemble selection with replacement (Caruana et al. 2004):
start from the ``prior`` members (one vote each), then repeatedly add one vote for the
member whose addition lowers the validation error of the vote-weighted mean most clearly —
by the paired t statistic of the per-series error changes, which must be below −``min_t`` —
and stop when no addition passes. The weights are the vote shares. Starting from the prior and adding one vote at a time shrinks towards the prior when
the batch is small or the members are alike; a batch of hundreds of series moves the weights
to where its own history says they belong. Errors are pooled over the batch because
per-series choices on one short history are too noisy to help.

Used by ``EngineParams(combine="validated")``. It is not the default: on every development
set it did no better than the equal-weight mean it starts from (bench/README.md).
"""

from __future__ import annotations

import numpy as np

MIN_T = 2.0  # a vote is added only when it lowers the error by more than chance would
MAX_VOTES = 24


def combine_votes(points: dict[str, np.ndarray], votes: dict[str, float]) -> np.ndarray:
    """Vote-weighted mean of the members, over the members that have a forecast per cell."""
    total = wsum = None
    for name, v in votes.items():
        if v <= 0:
            continue
        p = points[name]
        ok = np.isfinite(p)
        part = np.where(ok, p, 0.0) * v
        w = ok * float(v)
        total = part if total is None else total + part
        wsum = w if wsum is None else wsum + w
    if total is None:
        raise ValueError("no member has a vote")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(wsum > 0, total / wsum, np.nan)


def series_errors(forecast: np.ndarray, actual: np.ndarray, scale: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Per series: the mean scaled absolute error over its scored cells (NaN: none)."""
    err = np.abs(actual - forecast) / scale[..., None]
    err = np.where(cells, err, 0.0)
    per_cell = cells.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(per_cell > 0, err.sum(axis=(1, 2)) / per_cell, np.nan)


def greedy_weights(
    points: dict[str, np.ndarray],
    actual: np.ndarray,
    scale: np.ndarray,
    prior: dict[str, float],
    *,
    min_t: float = MIN_T,
    max_votes: int = MAX_VOTES,
    log_loss: bool = True,
) -> tuple[dict[str, float], dict]:
    """Weights (summing to 1) and a summary ``{"series", "origins", "error", "prior_error"}``.

    Cells are scored only where every member of the pool has a forecast, so that members
    that fit only long series are not favoured by being judged on easier cases.
    """
    names = [k for k in points if k in prior or True]
    stack = np.stack([points[k] for k in names])
    cells = np.isfinite(actual) & np.isfinite(stack).all(axis=0) & (scale > 0)[..., None]
    cells &= np.isfinite(scale)[..., None]
    safe_scale = np.where(scale > 0, scale, 1.0)
    votes = {k: float(prior.get(k, 0.0)) for k in names}
    if not any(v > 0 for v in votes.values()):
        votes[names[0]] = 1.0
    n_series = int(cells.any(axis=(1, 2)).sum())
    summary = {"series": n_series, "origins": int(cells.any(axis=2).sum())}
    if n_series == 0:
        summary.update(error=float("nan"), prior_error=float("nan"))
        return _normalise(votes), summary
    scored = np.isfinite(series_errors(stack[0], actual, safe_scale, cells))

    def loss(v: dict[str, float]) -> np.ndarray:
        err = series_errors(combine_votes(points, v), actual, safe_scale, cells)[scored]
        return _log_err(err) if log_loss else err

    current = loss(votes)
    summary["prior_error"] = _summary_error(current, log_loss)
    for _ in range(max_votes):
        best, best_t, best_err = None, -min_t, None
        for k in names:
            for delta in (1.0, -1.0):
                trial = dict(votes)
                trial[k] += delta
                if trial[k] < 0 or sum(trial.values()) <= 0:
                    continue
                err = loss(trial)
                t = _paired_t(err - current)
                if t < best_t:
                    best, best_t, best_err = (k, delta), t, err
        if best is None:
            break
        votes[best[0]] += best[1]
        current = best_err
    summary["error"] = _summary_error(current, log_loss)
    return _normalise(votes), summary


def _summary_error(err: np.ndarray, log_loss: bool) -> float:
    return float(np.exp(err.mean())) if log_loss else float(err.mean())


def _log_err(err: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(err, 1e-6))


def _paired_t(diff: np.ndarray) -> float:
    """t statistic of the mean of paired differences (negative: the trial is better)."""
    n = diff.size
    if n < 2:
        return 0.0
    sd = diff.std(ddof=1)
    if sd == 0:
        return 0.0 if diff.mean() == 0 else -np.inf * np.sign(-diff.mean())
    return float(diff.mean() / (sd / np.sqrt(n)))


def _normalise(votes: dict[str, float]) -> dict[str, float]:
    total = sum(votes.values())
    return {k: v / total for k, v in votes.items() if v > 0}
