"""Forecast a batch of demand series: clean, classify, fit, backtest, choose, guard, intervals.

Input: ``history``, a long frame with one row per series and period:
    series_id  hashable id
    period     int ordinal, consecutive periods differ by 1 (monthly: year*12 + month - 1);
               ``period % season_length`` is the calendar phase used for seasonality
    value      demand (missing periods inside a series count as 0; negatives, e.g. returns,
               are treated as 0 when ``nonnegative``)
plus the horizon, the season length and optional family groups (series → group) whose
seasonal profile new and short series borrow.

Output: :class:`ForecastResult` with
    forecasts  series_id, step (1..H), forecast, lo80, hi80, lo95, hi95, model
    series     series_id, model, demand_class, history_class, n_obs, seasonal, smape, mase,
               wape, bias (backtest of the chosen model), reason (why this model / fallback)
    errors     series_id, error — series that could not be forecast; the rest still are.

Routes (each series takes exactly one):
    zero          no demand at all in the history → 0
    new           fewer than ``min_fit`` points → mean level × family profile (or naive)
    intermittent  ADI ≥ 1.32 → Croston / SBA / TSB, chosen by backtest MASE
    short         smooth/erratic, under two seasons → family profile + SES/Theta combination
    continuous    smooth/erratic, two seasons or more → own seasonality if significant
                  (seasonality.py: 90 % test, classical decomposition) + the combination of
                  ``members`` (ensemble.py); with ``policy="select"`` instead the candidate
                  (members, combination, Naïve2, seasonal naive) with the best backtest
The smoothing routes fit strictly positive series on the log scale (``log_scale``) and give
the mean (``point="mean"``, bias-adjusted back-transform) so that sums over territories and
products are unbiased. All series of a route are fitted together (vectorised); the backtest
reruns the same route on the history cut ``backtest_horizon`` periods earlier and gives the
per-series sMAPE/MASE/WAPE/bias and the interval calibration (intervals.py). Every chosen
forecast passes the guards (guards.py); a failing one is replaced by the route's fallback and
the reason recorded.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from forecasting.engine import baselines, intermittent, intervals, metrics
from forecasting.engine.classify import (
    INTERMITTENT,
    LUMPY,
    SHORT,
    SIGNED,
    ZERO,
    demand_class,
    demand_stats,
    history_class,
)
from forecasting.engine.ensemble import combine, fit_member
from forecasting.engine.guards import check_forecasts
from forecasting.engine.panel import Panel, panel_from_frame
from forecasting.engine.seasonality import (
    Z_90,
    Season,
    build_season,
    seasonal_indices,
    seasonal_test,
)
from forecasting.engine.smoothing import left_align

DEFAULT_MEMBERS = ("theta", "stm", "damped", "theta@3", "damped@3")
SHORT_MEMBERS = ("ses", "stm", "theta")

FORECAST_COLUMNS = ["series_id", "step", "forecast", "lo80", "hi80", "lo95", "hi95", "model"]
SERIES_COLUMNS = [
    "series_id",
    "model",
    "demand_class",
    "history_class",
    "n_obs",
    "seasonal",
    "smape",
    "mase",
    "wape",
    "bias",
    "reason",
]


@dataclass(frozen=True)
class EngineParams:
    members: tuple[str, ...] = DEFAULT_MEMBERS  # combination members (continuous route)
    short_members: tuple[str, ...] = SHORT_MEMBERS
    combine: str = "mean"  # "mean" or "median" of the members
    policy: str = "combine"  # "combine": always the combination; "select": best backtest
    selection_metric: str = "mase"  # backtest metric of the "select" policy
    backtest_horizon: int | None = None  # default min(horizon, max(season_length, 6))
    backtest_origins: int = 1
    min_fit: int = 6  # fewer observations: a "new" series
    min_seasons: int = 2  # full seasons needed to estimate a series' own seasonality
    nonnegative: bool = True
    max_growth: float = 5.0  # guard: no forecast above this multiple of the history's max
    max_history: int | None = None  # keep only this many most recent periods
    season_test_z: float = Z_90
    log_scale: bool = True  # fit strictly positive series on the log scale
    point: str = "mean"  # log-scale forecasts back-transformed to the "mean" or the "median"


@dataclass
class ForecastResult:
    forecasts: pd.DataFrame
    series: pd.DataFrame
    errors: pd.DataFrame


@dataclass
class _RouteOut:
    """Candidates of one route for its rows: points on the demand scale, variances on the
    scale the model was fitted on (``logvar[name]`` marks rows fitted to log demand)."""

    points: dict[str, np.ndarray]  # name -> (n, H)
    variances: dict[str, np.ndarray]  # name -> (n, H)
    logvar: dict[str, np.ndarray]  # name -> (n,) bool
    default: str
    fallback: str
    note: np.ndarray  # (n,) text about seasonality / profile
    seasonal: np.ndarray  # (n,) bool

    def add(self, name: str, point: np.ndarray, var: np.ndarray, log: np.ndarray | None = None):
        self.points[name] = point
        self.variances[name] = var
        self.logvar[name] = np.zeros(len(point), bool) if log is None else log


@dataclass
class _Context:
    horizon: int
    m: int
    params: EngineParams
    profiles: np.ndarray  # (n, m) group profile per series, NaN rows where none
    profile_note: np.ndarray  # (n,) text naming the group


def _new_out(n: int, default: str, fallback: str) -> _RouteOut:
    return _RouteOut({}, {}, {}, default, fallback, np.full(n, "", object), np.zeros(n, bool))


# ----------------------------------------------------------------------------- routes


def _route_continuous(values, start, end_period, phase, ctx: _Context, rows) -> _RouteOut:
    m, h, p = ctx.m, ctx.horizon, ctx.params
    use = seasonal_test(values, m, z=p.season_test_z, phase=phase)
    season = build_season(values, phase, end_period, m, h, use=use)
    out = _ensemble(values, start, season, p.members, ctx)
    out.note = np.where(
        season.seasonal, f"seasonal: own indices (lag-{m} ACF test)", "no seasonality detected"
    ).astype(object)
    return out


def _route_short(values, start, end_period, phase, ctx: _Context, rows) -> _RouteOut:
    m, h, p = ctx.m, ctx.horizon, ctx.params
    prof = ctx.profiles[rows]
    season = build_season(
        values, phase, end_period, m, h, use=np.zeros(len(values), bool), profiles=prof
    )
    out = _ensemble(values, start, season, p.short_members, ctx)
    out.note = np.where(
        np.isfinite(prof).all(axis=1),
        "short history: seasonality from the " + ctx.profile_note[rows] + " profile",
        "short history: no family profile, no seasonality",
    ).astype(object)
    return out


def _ensemble(values, start, season: Season, members, ctx: _Context) -> _RouteOut:
    """Fit the members to the seasonally adjusted history — on the log scale for series that
    are strictly positive (``log_scale``): the squared errors are then relative errors, the
    natural loss when series of every size are judged by percentage accuracy, and trends and
    bands become multiplicative — and combine them."""
    h, p = ctx.horizon, ctx.params
    n = len(values)
    x = season.adjust(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.nanmin(np.where(np.isfinite(x), x, np.inf), axis=1)
        log = (low > 0) & np.isfinite(low) if p.log_scale else np.zeros(n, bool)
        z = np.where(log[:, None], np.log(np.where(log[:, None], x, 1.0)), x)
        z = np.where(np.isfinite(x), z, np.nan)
    out = _new_out(n, "combination", "naive2")
    points, variances = [], []
    for name in members:
        fit = fit_member(name, z, start, h)
        var = fit.sigma2[:, None] * fit.growth
        # exp of a log-scale forecast is the median; the lognormal mean adds half the noise
        # variance, so that forecasts summed over territories and products are not biased low
        shift = 0.5 * fit.sigma2[:, None] if p.point == "mean" else 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            pt = season.restore(np.where(log[:, None], np.exp(fit.forecast + shift), fit.forecast))
        # a demand-scale variance follows the seasonal factor; a log-scale one is unchanged
        var = np.where(log[:, None], var, var * season.mult_out**2)
        out.add(name, pt, var, log)
        points.append(pt)
        variances.append(var)
    out.add("combination", *combine(points, variances, p.combine), log)
    n2p, n2v = baselines.naive(x, h)
    out.add("naive2", season.restore(n2p), n2v * season.mult_out**2)
    out.add("seasonal_naive", *baselines.seasonal_naive(values, h, ctx.m))
    out.seasonal = season.seasonal.copy()
    return out


def _route_intermittent(values, start, end_period, phase, ctx: _Context, rows) -> _RouteOut:
    h = ctx.horizon
    xl, length = left_align(values, start)
    out = _new_out(len(values), "sba", "mean")
    for name, fit in (
        ("croston", intermittent.croston(xl, length, h)),
        ("sba", intermittent.croston(xl, length, h, sba=True)),
        ("tsb", intermittent.tsb(xl, length, h)),
    ):
        out.add(name, fit.forecast, fit.sigma2[:, None] * fit.growth)
    out.add("mean", *baselines.history_mean(values, h))
    return out


def _route_new(values, start, end_period, phase, ctx: _Context, rows) -> _RouteOut:
    m, h = ctx.m, ctx.horizon
    prof = ctx.profiles[rows]
    has = np.isfinite(prof).all(axis=1)
    season = build_season(
        values, phase, end_period, m, h, use=np.zeros(len(values), bool), profiles=prof
    )
    x = season.adjust(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        level = np.nanmean(x, axis=1)
        spread = np.nanvar(x, axis=1)
    length = np.isfinite(values).sum(axis=1)
    # a mean of L points: the data's spread plus the mean's own uncertainty; a single point
    # gets a spread of half its level
    spread = np.where(length > 1, spread * (1 + 1 / np.maximum(length, 1)), (0.5 * level) ** 2)
    flat = np.repeat(level[:, None], h, axis=1)
    pp = season.restore(flat)
    pv = np.repeat(spread[:, None], h, axis=1) * season.mult_out**2
    np_, nv = baselines.naive(values, h)
    nv = np.where(np.isfinite(nv), nv, pv)
    out = _new_out(len(values), "family_profile", "naive")
    out.add("family_profile", np.where(has[:, None], pp, np_), np.where(has[:, None], pv, nv))
    out.add("naive", np_, nv)
    out.seasonal = has.copy()
    out.note = np.where(
        has,
        "new series: the " + ctx.profile_note[rows] + " profile scaled to its mean level",
        "new series without a family profile: naive (last value)",
    ).astype(object)
    return out


def _route_zero(values, start, end_period, phase, ctx: _Context, rows) -> _RouteOut:
    z = np.zeros((len(values), ctx.horizon))
    out = _new_out(len(values), "zero", "zero")
    out.add("zero", z, z.copy())
    out.note[:] = "no demand in the history"
    return out


ROUTES = {
    "zero": _route_zero,
    "new": _route_new,
    "intermittent": _route_intermittent,
    "short": _route_short,
    "continuous": _route_continuous,
}


# ----------------------------------------------------------------------------- driver


def forecast_frame(
    history: pd.DataFrame,
    *,
    horizon: int,
    season_length: int,
    params: EngineParams | None = None,
    series_groups: dict | pd.Series | None = None,
    group_profiles: dict | None = None,
) -> ForecastResult:
    """Forecast every series of ``history`` (see the module docstring for columns).

    ``series_groups`` maps series_id → group (e.g. product family); profiles are computed
    from this call's seasonal series of normal length unless ``group_profiles`` (group →
    array of ``season_length`` multiplicative indices by calendar phase) is given.
    """
    if horizon < 1:
        raise ValueError("horizon must be at least 1")
    if season_length < 1:
        raise ValueError("season_length must be at least 1")
    params = params or EngineParams()
    panel, errors = panel_from_frame(history, max_history=params.max_history)
    result = forecast_panel(
        panel,
        horizon=horizon,
        season_length=season_length,
        params=params,
        series_groups=series_groups,
        group_profiles=group_profiles,
    )
    if errors:
        extra = pd.DataFrame({"series_id": list(errors), "error": list(errors.values())})
        result.errors = pd.concat([extra, result.errors], ignore_index=True)
    return result


def seasonal_profiles(
    panel: Panel,
    groups: np.ndarray,
    season_length: int,
    *,
    z: float = Z_90,
) -> dict[object, np.ndarray]:
    """Seasonal profile of each group, from the total demand of its long series.

    The series with at least two seasons of history are summed per group and calendar
    period; where that total passes the seasonality test, its multiplicative indices (by
    calendar phase) are the group's profile. The total is far less noisy than any single
    product × territory series, and a family that is mostly flat gets no profile at all.
    """
    m = season_length
    long = (panel.length >= 2 * m) & np.array([g is not None and not _isna(g) for g in groups])
    if m < 2 or not long.any():
        return {}
    rows = np.flatnonzero(long)
    width = panel.width
    values = np.maximum(panel.values[rows], 0.0)
    period = panel.end_period[rows, None] - (width - 1 - np.arange(width))[None, :]
    ok = np.isfinite(values)
    frame = pd.DataFrame(
        {
            "series_id": np.repeat(groups[rows], width)[ok.ravel()],
            "period": period[ok],
            "value": values[ok],
        }
    )
    totals = frame.groupby(["series_id", "period"], sort=False)["value"].sum().reset_index()
    tp, _ = panel_from_frame(totals)
    ph = tp.phase(m)
    test = seasonal_test(tp.values, m, z=z, phase=ph)
    idx = seasonal_indices(tp.values, ph, m)
    good = test & np.isfinite(idx).all(axis=1) & (np.nanmin(idx, axis=1) > 0)
    return {g: idx[i] for i, g in enumerate(tp.ids) if good[i]}


def forecast_panel(
    panel: Panel,
    *,
    horizon: int,
    season_length: int,
    params: EngineParams | None = None,
    series_groups: dict | pd.Series | None = None,
    group_profiles: dict | None = None,
) -> ForecastResult:
    """:func:`forecast_frame` on an already built panel."""
    params = params or EngineParams()
    m, h, n = season_length, horizon, panel.n
    if n == 0:
        return _empty_result()
    negatives = (panel.values < 0).sum(axis=1)
    if params.nonnegative:
        # returns and corrections are not negative demand: forecast them as no demand
        panel = replace(panel, values=np.where(panel.values < 0, 0.0, panel.values))
    values = panel.values
    length = panel.length
    demand = demand_class(values)
    if not params.nonnegative:
        # a series with negative values is not demand: no Croston, no "zero" shortcut
        demand[(values < 0).any(axis=1)] = SIGNED
    hist = history_class(length, min_fit=params.min_fit, min_seasonal=params.min_seasons * m)

    groups = _groups_array(panel.ids, series_groups)
    if group_profiles is None:
        group_profiles = seasonal_profiles(panel, groups, m, z=params.season_test_z)
    profiles = np.full((n, max(m, 1)), np.nan)
    profile_note = np.full(n, "", dtype=object)
    for i, g in enumerate(groups):
        prof = None if g is None or _isna(g) else group_profiles.get(g)
        if prof is not None and len(prof) == m:
            profiles[i] = np.asarray(prof, dtype=float)
            profile_note[i] = f"group {g}"
    ctx = _Context(h, m, params, profiles, profile_note)

    route = np.full(n, "continuous", dtype=object)
    sparse = np.isin(demand, [INTERMITTENT, LUMPY])
    route[(hist == SHORT) & ~sparse] = "short"
    route[sparse] = "intermittent"
    route[length < params.min_fit] = "new"
    route[demand == ZERO] = "zero"
    phase = panel.phase(m) if m >= 2 else np.zeros(values.shape, dtype=int)
    bt_h = params.backtest_horizon or min(h, max(m, 6))

    acc = _Accumulator(n, h)
    for name, fn in ROUTES.items():
        rows = np.flatnonzero(route == name)
        if len(rows):
            _forecast_route(name, fn, panel, phase, rows, ctx, bt_h, demand, acc)

    done = acc.model != ""
    k80, k95 = intervals.calibrated_quantiles(np.concatenate(acc.z) if acc.z else np.zeros(0))
    bands = intervals.bands(
        acc.point[done],
        acc.sd[done],
        acc.log[done],
        k80=k80,
        k95=k95,
        nonnegative=params.nonnegative,
    )
    if params.nonnegative:
        for i in np.flatnonzero((negatives > 0) & done):
            acc.reason[i] += f"; {negatives[i]} negative value(s) in the history treated as 0"

    ids = panel.ids[done]
    forecasts = pd.DataFrame(
        {
            "series_id": np.repeat(ids, h),
            "step": np.tile(np.arange(1, h + 1), len(ids)),
            "forecast": acc.point[done].ravel(),
            **{k: v.ravel() for k, v in bands.items()},
            "model": np.repeat(acc.model[done], h),
        }
    )[FORECAST_COLUMNS]
    series = pd.DataFrame(
        {
            "series_id": ids,
            "model": acc.model[done],
            "demand_class": demand[done],
            "history_class": hist[done],
            "n_obs": length[done],
            "seasonal": acc.seasonal[done],
            **{k: v[done] for k, v in acc.scores.items()},
            "reason": acc.reason[done],
        }
    )
    errors = pd.DataFrame(
        {
            "series_id": pd.Series(list(acc.failed), dtype=object),
            "error": pd.Series(list(acc.failed.values()), dtype=object),
        }
    )
    return ForecastResult(forecasts, series, errors)


@dataclass
class _Accumulator:
    """Per-series results filled route by route."""

    n: int
    h: int

    def __post_init__(self) -> None:
        self.point = np.full((self.n, self.h), np.nan)
        self.sd = np.full((self.n, self.h), np.nan)
        self.log = np.zeros(self.n, bool)
        self.model = np.full(self.n, "", dtype=object)
        self.reason = np.full(self.n, "", dtype=object)
        self.seasonal = np.zeros(self.n, bool)
        self.scores = {k: np.full(self.n, np.nan) for k in ("smape", "mase", "wape", "bias")}
        self.failed: dict[object, str] = {}
        self.z: list[np.ndarray] = []


def _forecast_route(name, fn, panel: Panel, phase, rows, ctx: _Context, bt_h, demand, acc) -> None:
    params = ctx.params
    h = ctx.horizon
    full, bad = _run_route(fn, panel, phase, rows, 0, ctx)
    for r, msg in bad.items():
        acc.failed[panel.ids[r]] = msg
    rows = np.array([r for r in rows if r not in bad], dtype=int)
    if not len(rows):
        return
    bt_scores, bt_cache = _backtest(fn, panel, phase, rows, ctx, bt_h)
    choice, why = _choose(name, full, bt_scores, params, rows, demand, panel.values)
    pick = np.arange(len(rows))
    point = np.stack([full.points[c][j] for j, c in zip(pick, choice)])
    var = np.stack([full.variances[c][j] for j, c in zip(pick, choice)])
    log = np.array([full.logvar[c][j] for j, c in zip(pick, choice)], dtype=bool)
    history = panel.values[rows]
    failed, guard_reason, point = check_forecasts(
        point, history, max_growth=params.max_growth, nonnegative=params.nonnegative
    )
    for j in np.flatnonzero(failed):
        fb = full.fallback
        again, _, fpoint = check_forecasts(
            full.points[fb][j : j + 1],
            history[j : j + 1],
            max_growth=params.max_growth,
            nonnegative=params.nonnegative,
        )
        if again[0]:
            # last resort: the last observation carried forward, no spread to speak of
            fb = "naive"
            last = history[j, -1]
            fpoint = np.full((1, h), max(last, 0.0) if params.nonnegative else last)
            var[j], log[j] = 0.0, False
        else:
            var[j], log[j] = full.variances[fb][j], full.logvar[fb][j]
        why[j] = f"fallback to {fb}: {choice[j]} gave a {guard_reason[j]}"
        choice[j] = fb
        point[j] = fpoint[0]
    for j in np.flatnonzero(~failed & (guard_reason != "")):
        why[j] = f"{why[j]}; {guard_reason[j]}"

    for j, r in enumerate(rows):
        sc = bt_scores.get(choice[j])
        if sc is not None:
            for k in acc.scores:
                acc.scores[k][r] = sc[k][j]
    for c in set(choice):
        if c in bt_cache:
            sel = np.flatnonzero(choice == c)
            a, f, s, lg = bt_cache[c]
            acc.z.append(intervals.z_scores(a[sel], f[sel], s[sel], lg[sel]).ravel())
    acc.point[rows] = point
    acc.sd[rows] = np.sqrt(np.maximum(var, 0.0))
    acc.log[rows] = log
    acc.model[rows] = choice
    acc.reason[rows] = [w if not t else f"{w}; {t}" for w, t in zip(why, full.note)]
    acc.seasonal[rows] = full.seasonal


# ----------------------------------------------------------------------------- helpers


def _isna(x) -> bool:
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _groups_array(ids: np.ndarray, series_groups) -> np.ndarray:
    if series_groups is None:
        return np.full(len(ids), None, dtype=object)
    mapping = (
        series_groups.to_dict() if isinstance(series_groups, pd.Series) else dict(series_groups)
    )
    return np.array([mapping.get(i) for i in ids], dtype=object)


def _empty_result() -> ForecastResult:
    return ForecastResult(
        pd.DataFrame(columns=FORECAST_COLUMNS),
        pd.DataFrame(columns=SERIES_COLUMNS),
        pd.DataFrame(columns=["series_id", "error"]),
    )


def _slice_inputs(panel: Panel, phase: np.ndarray, rows: np.ndarray, cut: int):
    values = panel.values[rows]
    ph = phase[rows]
    start = panel.start[rows]
    # drop columns that are padding for every row (they cost time in every recursion)
    first = int(start.min())
    width = values.shape[1]
    values, ph, start = values[:, first : width - cut], ph[:, first : width - cut], start - first
    return values, start, panel.end_period[rows] - cut, ph


def _run_route(fn, panel: Panel, phase, rows, cut, ctx) -> tuple[_RouteOut, dict[int, str]]:
    """Run a route on all rows; on an exception, isolate the failing series one by one."""
    try:
        out = fn(*_slice_inputs(panel, phase, rows, cut), ctx, rows)
        return out, {}
    except Exception:  # noqa: BLE001 - any failure is isolated per series below
        pass
    parts, bad = [], {}
    for r in rows:
        one = np.array([r])
        try:
            parts.append(fn(*_slice_inputs(panel, phase, one, cut), ctx, one))
        except Exception as exc:  # noqa: BLE001 - reported per series, the batch goes on
            bad[int(r)] = f"{type(exc).__name__}: {exc}"
    if not parts:
        return None, bad  # type: ignore[return-value]
    return _concat(parts), bad


def _concat(parts: list[_RouteOut]) -> _RouteOut:
    first = parts[0]
    return _RouteOut(
        {k: np.concatenate([p.points[k] for p in parts]) for k in first.points},
        {k: np.concatenate([p.variances[k] for p in parts]) for k in first.variances},
        {k: np.concatenate([p.logvar[k] for p in parts]) for k in first.logvar},
        first.default,
        first.fallback,
        np.concatenate([p.note for p in parts]),
        np.concatenate([p.seasonal for p in parts]),
    )


def _backtest(fn, panel: Panel, phase, rows, ctx: _Context, bt_h: int):
    """Scores per candidate (averaged over origins) and the first origin's errors for
    interval calibration. Series too short to leave ``min_fit`` points are not scored."""
    p = ctx.params
    n = len(rows)
    step = max(1, bt_h // 2)
    sums: dict[str, dict[str, np.ndarray]] = {}
    counts: dict[str, np.ndarray] = {}
    cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    bt_ctx = replace(ctx, horizon=bt_h)
    for o in range(p.backtest_origins):
        cut = bt_h + o * step
        eligible = panel.length[rows] - cut >= max(p.min_fit, 2)
        if not eligible.any():
            break
        sub = rows[eligible]
        try:
            out = fn(*_slice_inputs(panel, phase, sub, cut), bt_ctx, sub)
        except Exception:  # noqa: BLE001 - a failed backtest only leaves the scores empty
            continue
        w = panel.width
        actual = panel.values[sub][:, w - cut : w - cut + bt_h]
        scale = metrics.naive_scale(panel.values[sub][:, : w - cut], ctx.m)
        for name, fc in out.points.items():
            fc = np.maximum(fc, 0.0) if p.nonnegative else fc
            s = {
                "smape": metrics.smape(actual, fc),
                "mase": metrics.mase(actual, fc, scale),
                "wape": metrics.wape(actual, fc),
                "bias": metrics.bias(actual, fc),
            }
            acc = sums.setdefault(name, {k: np.zeros(n) for k in s})
            cnt = counts.setdefault(name, np.zeros(n))
            for k, v in s.items():
                acc[k][eligible] += np.nan_to_num(v, nan=0.0)
            cnt[eligible] += 1
            if o == 0:
                a = np.full((n, bt_h), np.nan)
                f = np.full((n, bt_h), np.nan)
                sdv = np.full((n, bt_h), np.nan)
                a[eligible], f[eligible] = actual, fc
                sdv[eligible] = np.sqrt(np.maximum(out.variances[name], 0.0))
                lg = np.zeros(n, bool)
                lg[eligible] = out.logvar[name]
                cache[name] = (a, f, sdv, lg)
    scores = {}
    for name, acc in sums.items():
        with np.errstate(invalid="ignore", divide="ignore"):
            scores[name] = {
                k: np.where(counts[name] > 0, v / counts[name], np.nan) for k, v in acc.items()
            }
    return scores, cache


def _choose(route: str, full: _RouteOut, bt_scores, params: EngineParams, rows, demand, values):
    n = len(rows)
    choice = np.full(n, full.default, dtype=object)
    why = np.full(n, "", dtype=object)
    metric = params.selection_metric
    if route == "continuous" or route == "short":
        members = params.members if route == "continuous" else params.short_members
        desc = (
            f"mean of {', '.join(members)}"
            if params.combine == "mean"
            else f"median of {', '.join(members)}"
        )
        if params.policy == "select" and bt_scores:
            names = [k for k in full.points if k in bt_scores]
            table = np.stack([bt_scores[k][metric] for k in names], axis=1)
            has = np.isfinite(table).any(axis=1)
            best = np.argmin(np.where(np.isfinite(table), table, np.inf), axis=1)
            for j in range(n):
                if has[j]:
                    choice[j] = names[best[j]]
                    why[j] = (
                        f"lowest backtest {metric.upper()} ({table[j, best[j]]:.3g}) among {len(names)} candidates"
                    )
                else:
                    why[j] = f"combination ({desc}): history too short to backtest"
        else:
            why[:] = f"combination ({desc}), the always-combine policy"
    elif route == "intermittent":
        adi, cv2 = demand_stats(values[rows])
        names = [k for k in ("croston", "sba", "tsb") if k in bt_scores]
        if names:
            table = np.stack([bt_scores[k]["mase"] for k in names], axis=1)
            has = np.isfinite(table).any(axis=1)
            best = np.argmin(np.where(np.isfinite(table), table, np.inf), axis=1)
        for j in range(n):
            cls = f"{demand[rows[j]]} demand (ADI {adi[j]:.2f}, CV² {cv2[j]:.2f})"
            if names and has[j]:
                choice[j] = names[best[j]]
                why[j] = (
                    f"{cls}: lowest backtest MASE ({table[j, best[j]]:.3g}) in the Croston family"
                )
            else:
                why[j] = f"{cls}: SBA (history too short to backtest)"
    elif route == "new":
        choice[:] = np.where(full.seasonal, "family_profile", "naive")
        why[:] = [f"only {int(np.isfinite(v).sum())} observation(s)" for v in values[rows]]
    elif route == "zero":
        why[:] = "zero forecast"
    return choice, why


__all__ = [
    "EngineParams",
    "ForecastResult",
    "forecast_frame",
    "forecast_panel",
    "seasonal_profiles",
]
