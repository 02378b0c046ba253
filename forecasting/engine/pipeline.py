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
    errors     series_id, error — series that could not be forecast; the rest still are
    backtest   series_id, step, actual, forecast — the chosen model at the latest backtest
               origin (for accuracy at aggregate levels and the global model's validation).

Routes (each series takes exactly one):
    zero          no demand at all in the history → 0
    new           fewer than 3 points, or fewer than ``min_fit`` with a family profile →
                  mean level × family profile (or the last value)
    intermittent  ADI ≥ 1.32 → zero, Croston, SBA, TSB, SES or the history mean, whichever
                  has the lowest backtest RMSSE (squared errors: forecasting zero does not
                  win by default, as it does under absolute errors)
    short         smooth/erratic, under two seasons → family profile + the combination of
                  the members that can fit the series
    continuous    smooth/erratic, two seasons or more → own seasonality if significant
                  (seasonality.py: 90 % test, classical decomposition) + the combination of
                  ``members`` (ensemble.default_members: both Theta forms, damped trend, SES,
                  Theta and damped trend at the next calendar level); with
                  ``policy="select"`` instead the candidate with the best backtest, with
                  ``combine="validated"`` weights by forward selection on the backtest
The season length sets the seasonality, the aggregation level and how much history is used
(:func:`history_limit`). The smoothing routes fit strictly positive series on the log scale
(``log_scale``) and give the mean (``point="mean"``, bias-adjusted back-transform: sums over
territories and products are unbiased) or the median (``point="median"``: what per-series
absolute and percentage errors reward). All series of a route are fitted together
(vectorised); the backtest reruns the same route from ``backtest_origins`` earlier origins
and gives the per-series sMAPE/MASE/WAPE/bias/RMSSE and the interval calibration per step
(intervals.py). Every chosen forecast passes the guards (guards.py); a failing one is
replaced by the route's fallback and the reason recorded.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from forecasting.engine import baselines, intermittent, intervals, metrics
from forecasting.engine.classify import (
    INTERMITTENT,
    LUMPY,
    SHORT,
    SIGNED,
    SMOOTH,
    ZERO,
    demand_class,
    demand_stats,
    history_class,
)
from forecasting.engine.ensemble import default_members, fit_member, member_pool
from forecasting.engine.guards import check_forecasts
from forecasting.engine.panel import Panel, panel_from_frame
from forecasting.engine.seasonality import (
    Z_90,
    Season,
    build_season,
    seasonal_indices,
    seasonal_test,
)
from forecasting.engine.selection import combine_votes, greedy_weights
from forecasting.engine.smoothing import left_align, ses

SHORT_MEMBERS = ("ses", "stm", "theta")

MIN_POINTS = 3  # fewer: the "new" route (family profile or the last value)

FORECAST_COLUMNS = ["series_id", "step", "forecast", "lo80", "hi80", "lo95", "hi95", "model"]
BACKTEST_COLUMNS = ["series_id", "step", "actual", "forecast"]
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
    # combination members of the continuous and short routes; None:
    # ensemble.default_members(season_length)
    members: tuple[str, ...] | None = None
    short_members: tuple[str, ...] | None = None
    # "mean" / "median" of the members, or "validated": weights by forward selection over
    # ensemble.member_pool on the rolling-origin backtest, starting from one vote for each
    # member (selection.py; measured not to help on the development sets, bench/README.md)
    combine: str = "mean"
    selection_t: float = 2.0  # "validated": t statistic a change of weights must reach
    policy: str = "combine"  # "combine": always the combination; "select": best backtest
    selection_metric: str = "mase"  # backtest metric of the "select" policy
    backtest_horizon: int | None = None  # default: the horizon
    backtest_origins: int = 3
    min_fit: int = 6  # fewer observations: a "new" series
    min_seasons: int = 2  # full seasons needed to estimate a series' own seasonality
    nonnegative: bool = True
    max_growth: float = 5.0  # guard: no forecast above this multiple of the history's max
    # keep only this many most recent periods; None: history_limit(season_length)
    max_history: int | None = None
    season_test_z: float = Z_90
    log_scale: bool = True  # fit strictly positive series on the log scale
    point: str = "mean"  # log-scale forecasts back-transformed to the "mean" or the "median"


@dataclass
class ForecastResult:
    forecasts: pd.DataFrame
    series: pd.DataFrame
    errors: pd.DataFrame
    # the most recent backtest origin of the chosen model: series_id, step, actual, forecast
    # (series too short to backtest are absent), for accuracy at aggregate levels
    backtest: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BACKTEST_COLUMNS))


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
    members: tuple[str, ...] = ()  # candidates the combination is made of

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
    members: tuple[str, ...] = ()
    short_members: tuple[str, ...] = ()


def _new_out(n: int, default: str, fallback: str) -> _RouteOut:
    return _RouteOut({}, {}, {}, default, fallback, np.full(n, "", object), np.zeros(n, bool))


# ----------------------------------------------------------------------------- routes


def _route_continuous(values, start, end_period, phase, ctx: _Context, rows) -> _RouteOut:
    m, h, p = ctx.m, ctx.horizon, ctx.params
    use = seasonal_test(values, m, z=p.season_test_z, phase=phase)
    season = build_season(values, phase, end_period, m, h, use=use)
    out = _ensemble(values, start, season, ctx.members, ctx)
    out.note = np.where(season.seasonal, f"seasonal: own indices (lag-{m} ACF test)", "no seasonality detected").astype(
        object
    )
    return out


def _route_short(values, start, end_period, phase, ctx: _Context, rows) -> _RouteOut:
    m, h = ctx.m, ctx.horizon
    prof = ctx.profiles[rows]
    season = build_season(values, phase, end_period, m, h, use=np.zeros(len(values), bool), profiles=prof)
    out = _ensemble(values, start, season, ctx.short_members, ctx)
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
    bands become multiplicative. The combination is formed later, once the backtest has
    said how much each member weighs."""
    h, p = ctx.horizon, ctx.params
    n = len(values)
    x = season.adjust(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.nanmin(np.where(np.isfinite(x), x, np.inf), axis=1)
        log = (low > 0) & np.isfinite(low) if p.log_scale else np.zeros(n, bool)
        z = np.where(log[:, None], np.log(np.where(log[:, None], x, 1.0)), x)
        z = np.where(np.isfinite(x), z, np.nan)
    out = _new_out(n, "combination", "naive2")
    for name in members:
        fit = fit_member(name, z, start, h, ctx.m)
        var = fit.sigma2[:, None] * fit.growth
        # exp of a log-scale forecast is the median; the lognormal mean adds half the noise
        # variance, so that forecasts summed over territories and products are not biased low
        shift = 0.5 * fit.sigma2[:, None] if p.point == "mean" else 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            pt = season.restore(np.where(log[:, None], np.exp(fit.forecast + shift), fit.forecast))
        # a demand-scale variance follows the seasonal factor; a log-scale one is unchanged
        var = np.where(log[:, None], var, var * season.mult_out**2)
        out.add(name, pt, var, log)
    out.members = tuple(members)
    n2p, n2v = baselines.naive(x, h)
    out.add("naive2", season.restore(n2p), n2v * season.mult_out**2)
    out.add("seasonal_naive", *baselines.seasonal_naive(values, h, ctx.m))
    out.seasonal = season.seasonal.copy()
    return out


INTERMITTENT_CANDIDATES = ("zero", "croston", "sba", "tsb", "ses", "mean")


def _route_intermittent(values, start, end_period, phase, ctx: _Context, rows) -> _RouteOut:
    """The Croston family, and the smooth alternatives judged on the same footing: no demand
    at all, simple exponential smoothing of the demand itself, the history's mean."""
    h = ctx.horizon
    xl, length = left_align(values, start)
    out = _new_out(len(values), "sba", "mean")
    zero = np.zeros((len(values), h))
    _, msq = baselines.naive(values, 1)
    out.add("zero", zero, np.repeat(msq, h, axis=1))
    for name, fit in (
        ("croston", intermittent.croston(xl, length, h)),
        ("sba", intermittent.croston(xl, length, h, sba=True)),
        ("tsb", intermittent.tsb(xl, length, h)),
        ("ses", ses(xl, length, h)),
    ):
        out.add(name, fit.forecast, fit.sigma2[:, None] * fit.growth)
    out.add("mean", *baselines.history_mean(values, h))
    return out


def _route_new(values, start, end_period, phase, ctx: _Context, rows) -> _RouteOut:
    m, h = ctx.m, ctx.horizon
    prof = ctx.profiles[rows]
    has = np.isfinite(prof).all(axis=1)
    season = build_season(values, phase, end_period, m, h, use=np.zeros(len(values), bool), profiles=prof)
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


def _route_constant(values, start, end_period, phase, ctx: _Context, rows) -> _RouteOut:
    """A history that never changed: its value, exactly (a model fitted to three equal
    points otherwise drifts in the sixth digit, and no model knows more than the data)."""
    level = np.nanmax(values, axis=1)
    point = np.repeat(level[:, None], ctx.horizon, axis=1)
    out = _new_out(len(values), "constant", "constant")
    out.add("constant", point, np.zeros_like(point))
    out.note[:] = "the same value in every period of the history"
    return out


ROUTES = {
    "zero": _route_zero,
    "constant": _route_constant,
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
    limit = params.max_history or history_limit(season_length)
    panel, errors = panel_from_frame(history, max_history=limit)
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


def history_limit(season_length: int) -> int:
    """Periods of history the models see: ten seasons, at least 200 periods. Older data
    rarely describes the next periods and costs time in every recursion (M4 weekly
    histories run to 2,600 weeks; their last ten years forecast better, bench/README.md)."""
    return max(10 * season_length, 200)


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
    chosen = params.members or default_members(m)
    fitted = member_pool(m) if params.combine == "validated" else chosen
    ctx = _Context(
        h,
        m,
        params,
        profiles,
        profile_note,
        members=fitted,
        short_members=params.short_members or fitted,
    )

    route = np.full(n, "continuous", dtype=object)
    sparse = np.isin(demand, [INTERMITTENT, LUMPY])
    route[(hist == SHORT) & ~sparse] = "short"
    route[sparse] = "intermittent"
    # fewer than min_fit points: the family profile at the mean level where the family has
    # one; otherwise the short route's members that can fit so few points (3 at least)
    has_profile = np.isfinite(profiles).all(axis=1) & (m >= 2)
    route[(length < MIN_POINTS) | ((length < params.min_fit) & has_profile)] = "new"
    with np.errstate(invalid="ignore"):
        flat = (np.nanmax(values, axis=1) == np.nanmin(values, axis=1)) if values.shape[1] else np.zeros(n, bool)
    route[flat & (demand == SMOOTH) & ~has_profile] = "constant"
    route[demand == ZERO] = "zero"
    phase = panel.phase(m) if m >= 2 else np.zeros(values.shape, dtype=int)
    bt_h = params.backtest_horizon or h

    acc = _Accumulator(n, h, bt_h)
    for name, fn in ROUTES.items():
        rows = np.flatnonzero(route == name)
        if len(rows):
            _forecast_route(name, fn, panel, phase, rows, ctx, bt_h, demand, acc)

    done = acc.model != ""
    k80, k95 = _band_multipliers(acc, route, h)
    # few points: parameter uncertainty the in-sample spread does not show (Student's t)
    t80, t95 = intervals.small_sample_quantiles(length)
    k80, k95 = np.maximum(k80, t80[:, None]), np.maximum(k95, t95[:, None])
    bands = intervals.bands(
        acc.point[done],
        acc.sd[done],
        acc.log[done],
        k80=k80[done],
        k95=k95[done],
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
    bt_rows = done & np.isfinite(acc.bt_actual).any(axis=1)
    bt_h = acc.bt_actual.shape[1]
    backtest = pd.DataFrame(
        {
            "series_id": np.repeat(panel.ids[bt_rows], bt_h),
            "step": np.tile(np.arange(1, bt_h + 1), int(bt_rows.sum())),
            "actual": acc.bt_actual[bt_rows].ravel(),
            "forecast": acc.bt_forecast[bt_rows].ravel(),
        }
    )
    backtest = backtest[np.isfinite(backtest["actual"]) & np.isfinite(backtest["forecast"])]
    return ForecastResult(forecasts, series, errors, backtest.reset_index(drop=True))


def _band_multipliers(acc: _Accumulator, route: np.ndarray, h: int):
    """Per series and step: the 80 % and 95 % multipliers of the forecast's sd, calibrated
    on the backtest errors of its own route (all routes pooled where a route has too few)."""
    pooled = [z for zs in acc.z.values() for z in zs]
    base80, base95 = intervals.calibrated_steps(_stack_z(pooled), h)
    k80 = np.repeat(base80[None, :], acc.n, axis=0)
    k95 = np.repeat(base95[None, :], acc.n, axis=0)
    for name, zs in acc.z.items():
        r80, r95 = intervals.calibrated_steps(_stack_z(zs), h, default=(base80, base95))
        rows = route == name
        k80[rows], k95[rows] = r80, r95
    return k80, k95


def _stack_z(parts: list[np.ndarray]) -> np.ndarray:
    if not parts:
        return np.zeros((0, 1))
    width = max(p.shape[1] for p in parts)
    padded = [np.pad(p, ((0, 0), (0, width - p.shape[1])), constant_values=np.nan) for p in parts]
    return np.concatenate(padded, axis=0)


@dataclass
class _Accumulator:
    """Per-series results filled route by route."""

    n: int
    h: int
    bt_h: int = 1

    def __post_init__(self) -> None:
        self.bt_actual = np.full((self.n, self.bt_h), np.nan)
        self.bt_forecast = np.full((self.n, self.bt_h), np.nan)
        self.point = np.full((self.n, self.h), np.nan)
        self.sd = np.full((self.n, self.h), np.nan)
        self.log = np.zeros(self.n, bool)
        self.model = np.full(self.n, "", dtype=object)
        self.reason = np.full(self.n, "", dtype=object)
        self.seasonal = np.zeros(self.n, bool)
        self.scores = {k: np.full(self.n, np.nan) for k in ("smape", "mase", "wape", "bias")}
        self.failed: dict[object, str] = {}
        self.z: dict[str, list[np.ndarray]] = {}  # route -> standardised backtest errors


@dataclass
class _Backtest:
    """Rolling-origin backtest of one route: origin k forecasts from ``h + k·step`` periods
    before the end. Arrays are (n, K, h) — NaN where the origin leaves the series too short."""

    actual: np.ndarray
    scale: np.ndarray  # (n, K) mean absolute seasonal-naive change before the origin (MASE)
    sq_scale: np.ndarray  # (n, K) mean squared one-step change before the origin (RMSSE)
    points: dict[str, np.ndarray]
    sd: dict[str, np.ndarray]
    log: dict[str, np.ndarray]  # (n, K) bool

    def add(self, name: str, point: np.ndarray, sd: np.ndarray, log: np.ndarray) -> None:
        self.points[name], self.sd[name], self.log[name] = point, sd, log

    def scores(self, name: str) -> dict[str, np.ndarray]:
        """Per series, averaged over its origins: sMAPE, MASE, WAPE, bias, RMSSE."""
        a, f = self.actual, self.points[name]
        n, k, h = a.shape
        a2, f2 = a.reshape(n * k, h), f.reshape(n * k, h)
        with np.errstate(invalid="ignore", divide="ignore"):
            per = {
                "smape": metrics.smape(a2, f2),
                "mase": metrics.mase(a2, f2, self.scale.ravel()),
                "wape": metrics.wape(a2, f2),
                "bias": metrics.bias(a2, f2),
                "rmsse": metrics.rmsse(a2, f2, self.sq_scale.ravel()),
            }
        out = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for key, v in per.items():
                out[key] = np.nanmean(v.reshape(n, k), axis=1)
        return out

    def z_scores(self, name: str, rows: np.ndarray) -> np.ndarray:
        """Standardised errors of ``name`` for ``rows``: (rows × origins, h)."""
        n, k, h = self.actual.shape
        a = self.actual[rows].reshape(-1, h)
        f = self.points[name][rows].reshape(-1, h)
        sd = self.sd[name][rows].reshape(-1, h)
        lg = self.log[name][rows].reshape(-1)
        return intervals.z_scores(a, f, sd, lg)


def _forecast_route(name, fn, panel: Panel, phase, rows, ctx: _Context, bt_h, demand, acc) -> None:
    params = ctx.params
    h = ctx.horizon
    full, bad = _run_route(fn, panel, phase, rows, 0, ctx)
    for r, msg in bad.items():
        acc.failed[panel.ids[r]] = msg
    rows = np.array([r for r in rows if r not in bad], dtype=int)
    if not len(rows):
        return
    bt = _backtest(fn, panel, phase, rows, ctx, bt_h)
    combo_note = ""
    if full.members:
        combo_note = _add_combination(full, bt, params, ctx.m)
    choice, why = _choose(name, full, bt, params, rows, demand, panel.values)
    if combo_note:
        why = np.array([w.replace("{combination}", combo_note) for w in why], dtype=object)
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

    for c in set(choice):
        if c not in bt.points:
            continue
        sel = np.flatnonzero(choice == c)
        sc = bt.scores(c)
        for k in acc.scores:
            acc.scores[k][rows[sel]] = sc[k][sel]
        z = bt.z_scores(c, sel)
        acc.z.setdefault(name, []).append(z[np.isfinite(z).any(axis=1)])
        acc.bt_actual[rows[sel]] = bt.actual[sel, 0]
        acc.bt_forecast[rows[sel]] = bt.points[c][sel, 0]
    acc.point[rows] = point
    acc.sd[rows] = np.sqrt(np.maximum(var, 0.0))
    acc.log[rows] = log
    acc.model[rows] = choice
    acc.reason[rows] = [w if not t else f"{w}; {t}" for w, t in zip(why, full.note)]
    acc.seasonal[rows] = full.seasonal


def _add_combination(full: _RouteOut, bt: _Backtest, params: EngineParams, m: int) -> str:
    """Add the "combination" candidate to the forecasts and the backtest; return its text.

    A series too short for every weighted member gets the mean of those that did fit."""
    members = [k for k in full.members if k in full.points]
    tested = all(k in bt.points for k in members)
    chosen = [k for k in (params.members or default_members(m)) if k in members] or members
    if params.combine == "validated" and tested:
        weights, info = greedy_weights(
            {k: bt.points[k] for k in members},
            bt.actual,
            bt.scale,
            {k: 1.0 for k in chosen},
            min_t=params.selection_t,
        )
        ranked = sorted(weights.items(), key=lambda x: -x[1])
        note = "weighted mean of " + ", ".join(f"{k} {w:.2f}" for k, w in ranked)
        if info["series"]:
            note += (
                f" (weights from the rolling-origin backtest of {info['series']} series: "
                f"scaled error {info['prior_error']:.3f} → {info['error']:.3f})"
            )
    else:
        weights = {k: 1.0 / len(chosen) for k in chosen}
        how = "median" if params.combine == "median" else "mean"
        note = f"{how} of " + ", ".join(chosen)
    every = {k: 1.0 for k in members}
    log = full.logvar[members[0]]

    def mix(points: dict[str, np.ndarray]) -> np.ndarray:
        if params.combine == "median":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                out = np.nanmedian(np.stack([points[k] for k in weights]), axis=0)
        else:
            out = combine_votes(points, weights)
        return np.where(np.isfinite(out), out, combine_votes(points, every))

    def mix_var(variances: dict[str, np.ndarray], points: dict[str, np.ndarray], lg) -> np.ndarray:
        """The members' mean variance plus their disagreement (the variance of a mixture),
        on the scale each row was fitted on."""
        within = combine_votes(variances, weights)
        within = np.where(np.isfinite(within), within, combine_votes(variances, every))
        used = [k for k in weights if np.isfinite(points[k]).any()]
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            stack = np.stack([points[k] for k in used]) if used else None
            if stack is None or len(used) < 2:
                return within
            lg = lg.reshape(lg.shape + (1,) * (stack.ndim - 1 - lg.ndim))
            scaled = np.where(lg, np.log(np.maximum(stack, 1e-12)), stack)
            between = np.nan_to_num(np.nanvar(scaled, axis=0))
        return within + between

    full.add("combination", mix(full.points), mix_var(full.variances, full.points, log), log)
    if tested:
        bt_log = bt.log[members[0]]
        bt_var = mix_var({k: bt.sd[k] ** 2 for k in members}, bt.points, bt_log)
        bt.add("combination", mix(bt.points), np.sqrt(bt_var), bt_log)
    return note


# ----------------------------------------------------------------------------- helpers


def _isna(x) -> bool:
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _groups_array(ids: np.ndarray, series_groups) -> np.ndarray:
    if series_groups is None:
        return np.full(len(ids), None, dtype=object)
    mapping = series_groups.to_dict() if isinstance(series_groups, pd.Series) else dict(series_groups)
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
        first.members,
    )


def _backtest(fn, panel: Panel, phase, rows, ctx: _Context, bt_h: int) -> _Backtest:
    """Rerun the route from ``backtest_origins`` earlier origins, ``bt_h // 2`` apart.

    A series is scored at an origin only where the history before it keeps ``min_fit``
    points (and at least 3). A failing route at an origin only leaves that origin unscored.
    """
    p = ctx.params
    n, k = len(rows), max(1, p.backtest_origins)
    step = max(1, bt_h // 2)
    w = panel.width
    actual = np.full((n, k, bt_h), np.nan)
    scale = np.full((n, k), np.nan)
    sq_scale = np.full((n, k), np.nan)
    bt = _Backtest(actual, scale, sq_scale, {}, {}, {})
    bt_ctx = replace(ctx, horizon=bt_h)
    for o in range(k):
        cut = bt_h + o * step
        eligible = panel.length[rows] - cut >= max(p.min_fit, 3)
        if not eligible.any():
            break
        sub = rows[eligible]
        try:
            out = fn(*_slice_inputs(panel, phase, sub, cut), bt_ctx, sub)
        except Exception:  # noqa: BLE001 - a failed origin only leaves its scores empty
            continue
        before = panel.values[sub][:, : w - cut]
        actual[eligible, o] = panel.values[sub][:, w - cut : w - cut + bt_h]
        scale[eligible, o] = metrics.naive_scale(before, ctx.m)
        sq_scale[eligible, o] = metrics.step_mse(before)
        for name, fc in out.points.items():
            fc = np.maximum(fc, 0.0) if p.nonnegative else fc
            if name not in bt.points:
                bt.add(
                    name,
                    np.full((n, k, bt_h), np.nan),
                    np.full((n, k, bt_h), np.nan),
                    np.zeros((n, k), bool),
                )
            bt.points[name][eligible, o] = fc
            bt.sd[name][eligible, o] = np.sqrt(np.maximum(out.variances[name], 0.0))
            bt.log[name][eligible, o] = out.logvar[name]
    return bt


def _best(bt: _Backtest, names: list[str], metric: str):
    """Per series: index of the candidate with the lowest backtest ``metric`` (and the
    table), or -1 where none was scored."""
    table = np.stack([bt.scores(k)[metric] for k in names], axis=1)
    has = np.isfinite(table).any(axis=1)
    best = np.argmin(np.where(np.isfinite(table), table, np.inf), axis=1)
    return np.where(has, best, -1), table


def _choose(route: str, full: _RouteOut, bt: _Backtest, params: EngineParams, rows, demand, values):
    n = len(rows)
    choice = np.full(n, full.default, dtype=object)
    why = np.full(n, "", dtype=object)
    metric = params.selection_metric
    if route == "continuous" or route == "short":
        if params.policy == "select":
            names = [k for k in full.points if k in bt.points]
            best, table = _best(bt, names, metric)
            for j in range(n):
                if best[j] >= 0:
                    choice[j] = names[best[j]]
                    why[j] = f"lowest backtest {metric.upper()} ({table[j, best[j]]:.3g}) among {len(names)} candidates"
                else:
                    why[j] = "{combination}: history too short to backtest"
        else:
            why[:] = "{combination}"
    elif route == "intermittent":
        adi, cv2 = demand_stats(values[rows])
        names = [k for k in INTERMITTENT_CANDIDATES if k in bt.points]
        best, table = _best(bt, names, "rmsse") if names else (np.full(n, -1), None)
        for j in range(n):
            cls = f"{demand[rows[j]]} demand (ADI {adi[j]:.2f}, CV² {cv2[j]:.2f})"
            if best[j] >= 0:
                choice[j] = names[best[j]]
                why[j] = f"{cls}: lowest backtest RMSSE ({table[j, best[j]]:.3g}) among " + ", ".join(names)
            else:
                why[j] = f"{cls}: SBA (history too short to backtest)"
    elif route == "new":
        choice[:] = np.where(full.seasonal, "family_profile", "naive")
        why[:] = [f"only {int(np.isfinite(v).sum())} observation(s)" for v in values[rows]]
    elif route == "zero":
        why[:] = "zero forecast"
    elif route == "constant":
        why[:] = "constant history"
    return choice, why


__all__ = [
    "EngineParams",
    "ForecastResult",
    "forecast_frame",
    "forecast_panel",
    "seasonal_profiles",
]
