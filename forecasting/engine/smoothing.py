"""Exponential smoothing (SES, Holt, damped trend) fitted to many series at once.

Input: a left-aligned block ``x`` (n, T) — series i occupies columns ``0 .. length[i] - 1``,
anything after is ignored — usually seasonally adjusted demand.
Output: a :class:`Fit` per model with the point forecast (n, H), the one-step in-sample error
variance and the h-step variance growth used for intervals, and the chosen parameters.

Why this shape: statsmodels fits one series at a time with a numerical optimiser (tens of ms
per series per model). Here the smoothing parameters come from a grid evaluated for every
series in one pass of numpy operations over time, and the initial states (level, trend) are not
searched at all: for fixed smoothing parameters the one-step errors are *linear* in the initial
state, ``e_k = e0_k − c_k · s0`` with ``c_k = w' D^k`` (D the discount matrix), so the
least-squares initial state of every series and grid point follows from a few running sums.
That is the same fit the ETS likelihood gives for additive errors, without an optimiser.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SES_ALPHAS = np.linspace(0.02, 1.0, 50)
DAMPED_ALPHAS = np.array([0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.65, 0.8, 1.0])
DAMPED_BETA_SHARES = np.array([0.01, 0.05, 0.1, 0.25, 0.5, 1.0])  # beta = share * alpha
DAMPED_PHIS = np.array([0.8, 0.88, 0.94, 0.98])
# A weak pull of the initial state towards (first value, no trend) keeps the least-squares
# solve well posed when the data barely identify it (alpha near 1: the start is forgotten).
RIDGE = 1e-4
INIT_POINTS = 12  # points of the straight line that starts a trend fitted on multi-step errors


@dataclass
class Fit:
    forecast: np.ndarray  # (n, H)
    sigma2: np.ndarray  # (n,) one-step in-sample error variance
    growth: np.ndarray  # (n, H) h-step variance / one-step variance
    params: dict[str, np.ndarray] = field(default_factory=dict)


def left_align(values: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Right-aligned (NaN-padded) panel → left-aligned block padded with 0, and lengths."""
    n, width = values.shape
    length = width - start
    cols = (np.arange(width)[None, :] + start[:, None]) % width
    x = np.take_along_axis(values, cols, axis=1)
    x = np.where(np.arange(width)[None, :] < length[:, None], x, 0.0)
    return x, length


def flat_variance(alpha: np.ndarray, horizon: int) -> np.ndarray:
    """SES variance growth: 1 + (h − 1) α²."""
    h = np.arange(1, horizon + 1)[None, :]
    return 1.0 + (h - 1) * np.asarray(alpha)[:, None] ** 2


def damped_variance(alpha: np.ndarray, beta: np.ndarray, phi: np.ndarray, horizon: int) -> np.ndarray:
    """ETS(A,Ad,N) growth: 1 + Σ_{j<h} (α + β φ(1−φ^j)/(1−φ))²."""
    j = np.arange(1, horizon)[None, :]
    phi = np.asarray(phi)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        damp = np.where(np.isclose(phi, 1.0), j, phi * (1 - phi**j) / (1 - phi))
    c = np.asarray(alpha)[:, None] + np.asarray(beta)[:, None] * damp
    return np.concatenate([np.ones((len(phi), 1)), 1.0 + np.cumsum(c**2, axis=1)], axis=1)


def _end_rows(length: np.ndarray, width: int) -> list[np.ndarray]:
    """Rows whose last observation is column t, for every t (captures end states cheaply)."""
    order = np.argsort(length, kind="stable")
    bounds = np.searchsorted(length[order], np.arange(1, width + 2))
    return [order[bounds[t] : bounds[t + 1]] for t in range(width)]


def ses(x: np.ndarray, length: np.ndarray, horizon: int, alphas: np.ndarray = SES_ALPHAS) -> Fit:
    n, width = x.shape
    a = alphas[None, :]
    g = len(alphas)
    level = np.zeros((n, g))
    end_level = np.zeros((n, g))
    s_ee = np.zeros((n, g))
    s_ec = np.zeros((n, g))
    ends = _end_rows(length, width)
    with np.errstate(all="ignore"):
        for t in range(width):
            e = x[:, t : t + 1] - level
            e = np.where((t < length)[:, None], e, 0.0)
            c = (1 - a) ** t
            s_ee += e * e
            s_ec += e * c
            level = level + a * e
            if len(ends[t]):
                end_level[ends[t]] = level[ends[t]]
        # sum of c_k^2 for k < L: geometric series
        q = (1 - a) ** 2
        s_cc = np.where(q < 1, (1 - q ** length[:, None]) / (1 - q), length[:, None])
        y0 = x[:, :1]
        l0 = (s_ec + RIDGE * y0) / (s_cc + RIDGE)
        sse = s_ee - 2 * l0 * s_ec + l0 * l0 * s_cc
    best = np.argmin(np.where(np.isfinite(sse), sse, np.inf), axis=1)
    r = np.arange(n)
    alpha = alphas[best]
    final = end_level[r, best] + (1 - alpha) ** length * l0[r, best]
    sigma2 = np.maximum(sse[r, best], 0) / np.maximum(length - 1, 1)
    return Fit(
        np.repeat(final[:, None], horizon, 1),
        sigma2,
        flat_variance(alpha, horizon),
        {"alpha": alpha},
    )


def _damped_tables(A: np.ndarray, B: np.ndarray, P: np.ndarray, width: int):
    """``c`` (G, T, 2) with c[g, t] = w' D^t (w = (1, φ)): the initial state's weight in the
    one-step prediction at t; and ``powers`` (G, T + 1, 2, 2) = D^t, its weight in the state."""
    g = len(A)
    D = np.empty((g, 2, 2))
    D[:, 0, 0] = 1 - A
    D[:, 0, 1] = P * (1 - A)
    D[:, 1, 0] = -B
    D[:, 1, 1] = P * (1 - B)
    powers = np.empty((g, width + 1, 2, 2))
    powers[:, 0] = np.eye(2)
    for k in range(width):
        powers[:, k + 1] = D @ powers[:, k]
    w = np.stack([np.ones(g), P], axis=1)
    c = np.einsum("gi,gkij->gkj", w, powers[:, :width])
    return c, powers


def _grid(alphas, beta_shares, phis):
    # phi varies fastest, so an (n, G) array reshapes to (n, alpha×beta, phi)
    A, S, P = (v.ravel() for v in np.meshgrid(alphas, beta_shares, phis, indexing="ij"))
    return A, S * A, P


def damped(
    x: np.ndarray,
    length: np.ndarray,
    horizon: int,
    *,
    alphas: np.ndarray = DAMPED_ALPHAS,
    beta_shares: np.ndarray = DAMPED_BETA_SHARES,
    phis: np.ndarray = DAMPED_PHIS,
    fit_steps: int = 1,
) -> Fit:
    """Additive damped trend (phi = 1 gives Holt's linear trend).

    ``fit_steps == 1``: parameters by one-step squared error, initial (level, trend) by least
    squares. ``fit_steps > 1``: the trend starts from a straight line through the first
    ``INIT_POINTS`` points and the parameters minimise the squared 1..k-step-ahead in-sample
    errors — a trend chosen for how it extrapolates, which over long horizons is steadier
    than one chosen for the next period only (measured in bench/README.md).
    """
    if fit_steps > 1:
        return _damped_multistep(x, length, horizon, _grid(alphas, beta_shares, phis), phis, fit_steps)
    n, width = x.shape
    A, B, P = _grid(alphas, beta_shares, phis)
    a, b_, p = A[None, :], B[None, :], P[None, :]
    g = len(A)
    c, powers = _damped_tables(A, B, P, width)
    level = np.zeros((n, g))
    trend = np.zeros((n, g))
    end_level = np.zeros((n, g))
    end_trend = np.zeros((n, g))
    s_ee = np.zeros((n, g))
    s_e1 = np.zeros((n, g))
    s_e2 = np.zeros((n, g))
    ends = _end_rows(length, width)
    with np.errstate(all="ignore"):
        for t in range(width):
            pred = level + p * trend
            e = np.where((t < length)[:, None], x[:, t : t + 1] - pred, 0.0)
            s_ee += e * e
            s_e1 += e * c[None, :, t, 0]
            s_e2 += e * c[None, :, t, 1]
            level = pred + a * e
            trend = p * trend + b_ * e
            if len(ends[t]):
                end_level[ends[t]] = level[ends[t]]
                end_trend[ends[t]] = trend[ends[t]]
        # sums of c c' over k < L depend only on (grid point, length): cumulative tables
        prods = np.stack([c[..., 0] ** 2, c[..., 0] * c[..., 1], c[..., 1] ** 2], 0)
        cum = np.concatenate([np.zeros((3, g, 1)), np.cumsum(prods, axis=2)], axis=2)
        s_cc = cum[:, :, length].transpose(0, 2, 1)  # (3, n, G)
        l0, b0 = _solve_initial(s_e1, s_e2, s_cc, x[:, :1])
        sse = _quad(s_ee, s_e1, s_e2, s_cc, l0, b0)
    best = np.argmin(np.where(np.isfinite(sse), sse, np.inf), axis=1)
    r = np.arange(n)
    shift = np.einsum("nij,nj->ni", powers[best, length], np.stack([l0[r, best], b0[r, best]], 1))
    lvl = end_level[r, best] + shift[:, 0]
    trd = end_trend[r, best] + shift[:, 1]
    sigma2 = np.maximum(sse[r, best], 0) / np.maximum(length - 2, 1)
    return _damped_fit(lvl, trd, A[best], B[best], P[best], sigma2, horizon)


def _damped_fit(lvl, trd, alpha, beta, phi, sigma2, horizon) -> Fit:
    steps = np.cumsum(phi[:, None] ** np.arange(1, horizon + 1)[None, :], axis=1)
    return Fit(
        lvl[:, None] + steps * trd[:, None],
        sigma2,
        damped_variance(alpha, beta, phi, horizon),
        {"alpha": alpha, "beta": beta, "phi": phi},
    )


def _damped_multistep(x, length, horizon, grid, phis, k_steps) -> Fit:
    """Damped trend fitted to the sum of squared 1..K-step-ahead in-sample errors.

    With the state (l, b) at origin t the h-step prediction is ``l + d_h b``, d_h = φ+…+φ^h, so
    Σ_h (x_{t+h−1} − l − d_h b)² expands into sums of the data that depend on the series and φ
    only (precomputed once), leaving a handful of array operations per period instead of K.
    The recursion runs in float32 on each series standardised to mean 0, sd 1 (the model is
    shift- and scale-equivariant, so nothing changes but the memory traffic, which halves).
    """
    n, width = x.shape
    A, B, P = grid
    g = len(A)
    nf = len(phis)
    f32 = np.float32
    inside = np.arange(width)[None, :] < length[:, None]
    mu = np.where(inside, x, 0).sum(1) / length
    sdev = np.sqrt(np.where(inside, (x - mu[:, None]) ** 2, 0).sum(1) / length)
    sdev = np.where(sdev > 0, sdev, 1.0)
    x = np.where(inside, (x - mu[:, None]) / sdev[:, None], 0.0)
    a = A.reshape(1, -1, nf).astype(f32)
    b_ = B.reshape(1, -1, nf).astype(f32)
    p = P.reshape(1, -1, nf).astype(f32)
    K = max(1, min(k_steps, width))
    d = np.cumsum(phis[:, None] ** np.arange(1, K + 1)[None, :], axis=1)  # (F, K)
    # per origin t: the valid steps are those with t + h - 1 < L
    xs = np.zeros((n, K, width))
    for h in range(K):
        xs[:, h, : width - h] = x[:, h:]
    kv = np.clip(length[:, None] - np.arange(width)[None, :], 0, K)  # (n, T) valid steps
    xs = np.where(np.arange(K)[None, :, None] < kv[:, None, :], xs, 0.0)
    sd1 = np.concatenate([np.zeros((nf, 1)), np.cumsum(d, 1)], 1)  # (F, K+1) by #valid
    sd2 = np.concatenate([np.zeros((nf, 1)), np.cumsum(d**2, 1)], 1)
    # time-major coefficient arrays so each step reads one contiguous slice
    m2sx = np.ascontiguousarray((-2 * xs.sum(1)).T[:, :, None, None], dtype=f32)  # (T, n, 1, 1)
    kt = np.ascontiguousarray(kv.T[:, :, None, None], dtype=f32)
    m2sdx = np.ascontiguousarray((-2 * np.einsum("fh,nht->tnf", d, xs))[:, :, None, :], dtype=f32)
    sdt2 = np.ascontiguousarray((2 * sd1[:, kv]).transpose(2, 1, 0)[:, :, None, :], dtype=f32)
    sd2t = np.ascontiguousarray(sd2[:, kv].transpose(2, 1, 0)[:, :, None, :], dtype=f32)
    xt = np.ascontiguousarray(x.T[:, :, None, None], dtype=f32)
    mask = np.ascontiguousarray(inside.T[:, :, None, None], dtype=f32)
    icpt, slope = _start_line(x, length, INIT_POINTS)
    shape = (n, g // nf, nf)
    level = np.broadcast_to((icpt - slope).astype(f32)[:, None, None], shape).copy()
    trend = np.broadcast_to(slope.astype(f32)[:, None, None], shape).copy()
    loss = np.zeros(shape, f32)
    s1 = np.zeros(shape, f32)
    end_level = np.zeros_like(level)
    end_trend = np.zeros_like(trend)
    ends = _end_rows(length, width)
    with np.errstate(all="ignore"):
        for t in range(width):
            # Σ_h e² minus the constant Σ_h x² (it does not change the argmin)
            loss += level * (kt[t] * level + m2sx[t] + trend * sdt2[t]) + trend * (trend * sd2t[t] + m2sdx[t])
            pred = level + p * trend
            e = (xt[t] - pred) * mask[t]
            s1 += e * e
            level = pred + a * e
            trend = p * trend + b_ * e
            if len(ends[t]):
                end_level[ends[t]] = level[ends[t]]
                end_trend[ends[t]] = trend[ends[t]]
    loss = loss.reshape(n, g)
    best = np.argmin(np.where(np.isfinite(loss), loss, np.inf), axis=1)
    r = np.arange(n)
    sigma2 = np.maximum(s1.reshape(n, g)[r, best], 0) / np.maximum(length - 2, 1) * sdev**2
    lvl = end_level.reshape(n, g)[r, best].astype(float) * sdev + mu
    trd = end_trend.reshape(n, g)[r, best].astype(float) * sdev
    return _damped_fit(lvl, trd, A[best], B[best], P[best], sigma2, horizon)


def _start_line(x: np.ndarray, length: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Intercept (at t = 0) and slope of a straight line through the first k points."""
    t = np.arange(x.shape[1])[None, :]
    inside = t < np.minimum(length, k)[:, None]
    cnt = inside.sum(1)
    mt = np.where(inside, t, 0).sum(1) / cnt
    mx = np.where(inside, x, 0).sum(1) / cnt
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(inside, (t - mt[:, None]) * (x - mx[:, None]), 0).sum(1) / np.where(
            inside, (t - mt[:, None]) ** 2, 0
        ).sum(1)
    slope = np.nan_to_num(slope)
    return mx - slope * mt, slope


def _solve_initial(s_e1, s_e2, s_cc, y0):
    """Least-squares (level, trend) at the start, ridged towards (first value, 0)."""
    s11 = s_cc[0] + RIDGE
    s12 = s_cc[1]
    s22 = s_cc[2] + RIDGE
    r1 = s_e1 + RIDGE * y0
    det = s11 * s22 - s12 * s12
    return (s22 * r1 - s12 * s_e2) / det, (s11 * s_e2 - s12 * r1) / det


def _quad(s_ee, s_e1, s_e2, s_cc, l0, b0):
    """Sum of squared errors after subtracting the initial state's contribution."""
    return s_ee - 2 * (l0 * s_e1 + b0 * s_e2) + l0 * l0 * s_cc[0] + 2 * l0 * b0 * s_cc[1] + b0 * b0 * s_cc[2]
