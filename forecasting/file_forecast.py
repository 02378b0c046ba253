"""Bring-your-own-data forecasting: a CSV of history in, a CSV of forecasts out (no database).

Input CSV columns: ``series_id``, ``value`` and either ``period_index`` (integer, consecutive
periods differ by 1; give ``--frequency``) or ``date`` (the frequency — daily, weekly,
monthly, quarterly, yearly — is inferred from the spacing of the dates and reported);
optionally ``group`` (e.g. product family: short series borrow their group's seasonal
profile). Rows are in time order within each series. The season length follows from the
frequency (yearly 1, quarterly 4, monthly 12, weekly 52, daily 7); ``--season-length``
overrides it.

Output CSV columns: ``series_id, step, forecast, lo80, hi80, lo95, hi95, model``; with
``--series-report`` a second CSV with the chosen model, demand and history class, backtest
sMAPE/MASE/WAPE/bias and the reason per series.

Run as ``python -m forecasting.file_forecast INPUT.csv --horizon H [--frequency F]
[--season-length S] --output OUT.csv [--workers N]`` or ``python manage.py forecast_file …``
(same arguments).
Exit codes: 0 done; 1 done, but some series could not be forecast (listed on stderr);
2 bad input or arguments (every problem found is listed on stderr, naming series and line).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np
import pandas as pd

from forecasting.engine import EngineParams, forecast_frame, global_model
from forecasting.engine.panel import panel_from_frame
from forecasting.engine.pipeline import FORECAST_COLUMNS, history_limit, seasonal_profiles

MAX_REPORTED = 20  # problems listed before "… and N more"
SEASON_LENGTHS = {"yearly": 1, "quarterly": 4, "monthly": 12, "weekly": 52, "daily": 7}
MIN_LENGTH = 3
CHUNK_MIN, CHUNK_MAX = 50, 500


class InputError(Exception):
    """Bad input: the message lists every problem found."""


@dataclass
class LoadedInput:
    history: pd.DataFrame  # series_id, period, value
    groups: dict[object, object] = field(default_factory=dict)
    n_series: int = 0
    frequency: str | None = None  # inferred from the dates; None for period indexes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by ``python -m forecasting.file_forecast`` and ``manage.py``."""
    parser.add_argument("input", help="history CSV: series_id, value and date or period_index")
    parser.add_argument("--horizon", type=int, required=True, help="periods to forecast")
    parser.add_argument(
        "--frequency",
        choices=tuple(SEASON_LENGTHS),
        help="frequency of period_index input (with dates it is inferred; this overrides it)",
    )
    parser.add_argument(
        "--season-length",
        type=int,
        help="periods per season, overriding the frequency's (yearly 1, quarterly 4, monthly 12, weekly 52, daily 7)",
    )
    parser.add_argument("--output", required=True, help="forecast CSV to write")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: all cores)",
    )
    parser.add_argument(
        "--min-length",
        type=int,
        default=MIN_LENGTH,
        help=f"reject series with fewer observations (default {MIN_LENGTH})",
    )
    parser.add_argument(
        "--point",
        choices=("median", "mean"),
        default="median",
        help="point forecast of series fitted on the log scale: the median (default; what "
        "per-series accuracy measures such as sMAPE, MASE and MAE reward) or the mean (when "
        "the forecasts will be summed: sums of means are unbiased)",
    )
    parser.add_argument(
        "--no-global",
        action="store_true",
        help="statistical members only: no global model across series (it is blended in "
        "only where its validation on the last periods of the series says it helps)",
    )
    parser.add_argument("--series-report", help="also write the per-series model/accuracy CSV here")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forecasting.file_forecast", description=__doc__.split("\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run(vars(args), stderr=sys.stderr)


def run(options: dict, *, stderr: TextIO) -> int:
    """Validate, forecast and write; return the exit code (messages go to ``stderr``)."""
    try:
        horizon, season, workers = options["horizon"], options.get("season_length"), options["workers"]
        frequency = options.get("frequency")
        if horizon < 1:
            raise InputError("--horizon must be at least 1")
        if season is not None and season < 1:
            raise InputError("--season-length must be at least 1")
        if workers < 1:
            raise InputError("--workers must be at least 1")
        loaded = load_history(options["input"], min_length=options.get("min_length", MIN_LENGTH), frequency=frequency)
        season, note = season_from(loaded.frequency, frequency, season)
    except InputError as exc:
        print(f"error: {exc}", file=stderr)
        return 2
    print(note, file=stderr)
    progress = None if options.get("quiet") else Progress(loaded.n_series, stderr)
    params = EngineParams(point=options.get("point") or "median")
    forecasts, series, errors = forecast_history(
        loaded,
        horizon=horizon,
        season_length=season,
        workers=workers,
        progress=progress,
        params=params,
        use_global=not options.get("no_global"),
    )
    forecasts.to_csv(options["output"], index=False, float_format="%.10g")
    if options.get("series_report"):
        series.to_csv(options["series_report"], index=False, float_format="%.6g")
    if len(errors):
        print(f"error: {len(errors)} series could not be forecast:", file=stderr)
        for sid, msg in list(zip(errors["series_id"], errors["error"]))[:MAX_REPORTED]:
            print(f"  series {sid!r}: {msg}", file=stderr)
        if len(errors) > MAX_REPORTED:
            print(f"  … and {len(errors) - MAX_REPORTED} more", file=stderr)
        return 1
    return 0


# ----------------------------------------------------------------------------- input


def season_from(inferred: str | None, given: str | None, season: int | None) -> tuple[int, str]:
    """The season length to use and the line that tells the user where it came from."""
    if given:
        frequency, source = given, "as given"
    elif inferred:
        frequency, source = inferred, "inferred from the dates"
    elif season is None:
        raise InputError(
            "period_index input needs --frequency (yearly, quarterly, monthly, weekly, daily) or --season-length"
        )
    else:
        return season, f"season length {season} as given (frequency not known)"
    if season is None:
        return SEASON_LENGTHS[frequency], (
            f"frequency: {frequency} ({source}), season length {SEASON_LENGTHS[frequency]}"
        )
    return season, f"frequency: {frequency} ({source}), season length {season} as given"


def load_history(path: str, *, min_length: int = MIN_LENGTH, frequency: str | None = None) -> LoadedInput:
    """Read and validate the CSV; raise :class:`InputError` listing the problems."""
    try:
        # blank lines are kept (then dropped below) so that row k is always file line k + 2
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, skip_blank_lines=False)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV ({exc})") from None
    raw.columns = [c.strip() for c in raw.columns]
    found = ", ".join(raw.columns) or "none"
    missing = [c for c in ("series_id", "value") if c not in raw.columns]
    if "date" not in raw.columns and "period_index" not in raw.columns:
        missing.append("date or period_index")
    if missing:
        raise InputError(f"{path}: missing column(s): {', '.join(missing)} (found: {found})")
    if raw.empty:
        raise InputError(f"{path}: no data rows")

    problems: list[str] = []
    inferred = None
    line = np.arange(len(raw)) + 2  # 1-based file lines; line 1 is the header
    blank = (raw == "").all(axis=1).to_numpy()
    raw, line = raw[~blank].reset_index(drop=True), line[~blank]
    if raw.empty:
        raise InputError(f"{path}: no data rows")
    sid = raw["series_id"].str.strip()
    empty_id = (sid == "").to_numpy()
    for ln in line[empty_id][:MAX_REPORTED]:
        problems.append(f"line {ln}: empty series_id")

    text = raw["value"].str.strip()
    value = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad_value = ~np.isfinite(value) & ~empty_id
    for i in np.flatnonzero(bad_value)[:MAX_REPORTED]:
        shown = text.iat[i]
        what = "missing value" if shown == "" else f"value {shown!r} is not a finite number"
        problems.append(f"series {sid.iat[i]!r}, line {line[i]}: {what}")

    if "period_index" in raw.columns:
        ptext = raw["period_index"].str.strip()
        pnum = pd.to_numeric(ptext, errors="coerce").to_numpy(dtype=float)
        bad_period = ~(np.isfinite(pnum) & (pnum == np.round(pnum))) & ~empty_id
        for i in np.flatnonzero(bad_period)[:MAX_REPORTED]:
            problems.append(f"series {sid.iat[i]!r}, line {line[i]}: period_index {ptext.iat[i]!r} is not an integer")
        period = np.where(bad_period, 0, np.nan_to_num(pnum)).astype(np.int64)
    else:
        dtext = raw["date"].str.strip()
        dates = pd.to_datetime(dtext, errors="coerce", format="mixed")
        bad_period = dates.isna().to_numpy() & ~empty_id
        for i in np.flatnonzero(bad_period)[:MAX_REPORTED]:
            problems.append(f"series {sid.iat[i]!r}, line {line[i]}: date {dtext.iat[i]!r} is not a date")
        period = np.zeros(len(raw), dtype=np.int64)
        ok = ~bad_period & ~empty_id
        if ok.any():
            inferred = infer_frequency(dates[ok], sid[ok].to_numpy())
            period[ok] = date_ordinals(dates[ok], sid[ok].to_numpy(), frequency or inferred)

    frame = pd.DataFrame({"series_id": sid, "period": period, "value": value, "line": line})
    valid = ~(empty_id | bad_value | bad_period)
    frame = frame[valid]
    # time order within a series: each period must be after the previous row's
    prev = frame.groupby("series_id", sort=False)["period"].shift()
    disorder = frame[prev.notna() & (frame["period"] <= prev)]
    for r in disorder.head(MAX_REPORTED).itertuples():
        earlier = int(prev.loc[r.Index])
        kind = "repeats" if r.period == earlier else "comes before"
        problems.append(
            f"series {r.series_id!r}, line {r.line}: period {r.period} {kind} the previous "
            f"row's period {earlier} (rows must be in time order within a series)"
        )
    counts = pd.Series(sid[~empty_id]).value_counts(sort=False)
    first_line = pd.Series(line[~empty_id], index=sid[~empty_id].to_numpy()).groupby(level=0).first()
    short = counts[counts < min_length]
    for name, cnt in short.head(MAX_REPORTED).items():
        problems.append(
            f"series {name!r} (starting line {first_line[name]}): too short, {cnt} observation(s); "
            f"at least {min_length} needed"
        )
    n_problems = int(empty_id.sum()) + int(bad_value.sum()) + int(bad_period.sum()) + len(disorder) + len(short)
    if problems:
        more = n_problems - len(problems)
        tail = f"\n  … and {more} more" if more > 0 else ""
        raise InputError(f"{path}: {n_problems} problem(s):\n  " + "\n  ".join(problems) + tail)

    groups: dict[object, object] = {}
    if "group" in raw.columns:
        g = raw.loc[valid, ["series_id", "group"]].assign(series_id=frame["series_id"])
        groups = {k: v for k, v in zip(g["series_id"], g["group"].str.strip()) if v != ""}
    history = frame[["series_id", "period", "value"]].reset_index(drop=True)
    return LoadedInput(history, groups, int(history["series_id"].nunique()), inferred)


def infer_frequency(dates: pd.Series, series: np.ndarray) -> str:
    """yearly, quarterly, monthly, weekly or daily from the median spacing of consecutive
    dates within a series (monthly when no series has two dates)."""
    days = dates.to_numpy().astype("datetime64[D]").astype(np.int64)
    codes = pd.factorize(series)[0]
    order = np.lexsort((days, codes))
    gaps = np.diff(days[order])[np.diff(codes[order]) == 0]
    gaps = gaps[gaps > 0]
    step = float(np.median(gaps)) if gaps.size else 30.0
    if step >= 300:
        return "yearly"
    if step >= 80:
        return "quarterly"
    if step >= 25:
        return "monthly"
    if step >= 6:
        return "weekly"
    return "daily"


def date_ordinals(dates: pd.Series, series: np.ndarray, frequency: str | None = None) -> np.ndarray:
    """Integer periods from dates at the given (or inferred) frequency, so that consecutive
    periods differ by 1 and period % season_length is the calendar phase."""
    frequency = frequency or infer_frequency(dates, series)
    days = dates.to_numpy().astype("datetime64[D]").astype(np.int64)
    years = dates.dt.year.to_numpy().astype(np.int64)
    months = dates.dt.month.to_numpy().astype(np.int64)
    if frequency == "yearly":
        return years
    if frequency == "quarterly":
        return years * 4 + (months - 1) // 3
    if frequency == "monthly":
        return years * 12 + months - 1
    if frequency == "weekly":
        return (days + 3) // 7  # weeks since the Monday before the epoch
    return days


# ----------------------------------------------------------------------------- forecasting


class Progress:
    """A one-line progress bar on stderr (a line per 10 % when stderr is not a terminal)."""

    def __init__(self, total: int, stream: TextIO, width: int = 30) -> None:
        self.total, self.stream, self.width = max(total, 1), stream, width
        self.done = 0
        self.start = time.monotonic()
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.last_decile = -1

    def update(self, n: int) -> None:
        self.done += n
        frac = min(self.done / self.total, 1.0)
        fill = int(frac * self.width)
        bar = "#" * fill + "." * (self.width - fill)
        text = f"forecasting [{bar}] {self.done}/{self.total} series {time.monotonic() - self.start:5.1f} s"
        if self.tty:
            self.stream.write("\r" + text + ("\n" if self.done >= self.total else ""))
        elif int(frac * 10) > self.last_decile:
            self.last_decile = int(frac * 10)
            self.stream.write(text + "\n")
        self.stream.flush()


def _chunks(ids: np.ndarray, workers: int) -> list[np.ndarray]:
    # several chunks per worker keeps both cores busy to the end and the bar moving
    size = int(np.clip(math.ceil(len(ids) / (workers * 4)), CHUNK_MIN, CHUNK_MAX))
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _forecast_chunk(history: pd.DataFrame, horizon: int, season_length: int, groups, profiles, params):
    res = forecast_frame(
        history,
        horizon=horizon,
        season_length=season_length,
        params=params,
        series_groups=groups or None,
        group_profiles=profiles,
    )
    return res.forecasts, res.series, res.errors, res.backtest


def _global_inputs(history: pd.DataFrame, season_length: int, limit: int):
    """Histories the global model may learn from: strictly positive, no missing periods."""
    ids, series, ends = [], [], []
    for sid, g in history.groupby("series_id", sort=False):
        period = g["period"].to_numpy()
        y = g["value"].to_numpy(dtype=float)[-limit:]
        if len(period) > 1 and (np.diff(period) != 1).any():
            continue
        if global_model.eligible(y, season_length):
            ids.append(sid)
            series.append(y)
            ends.append(int(period[-1]))
    return ids, series, np.asarray(ends, dtype=np.int64)


def forecast_history(
    loaded: LoadedInput,
    *,
    horizon: int,
    season_length: int,
    workers: int,
    progress: Progress | None = None,
    params: EngineParams | None = None,
    use_global: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Run the engine over every series in chunks on ``workers`` processes; with
    ``use_global`` (and LightGBM installed) also the global model across the file's series,
    blended in where its validation says it helps (``forecasting/engine/global_model.py``)."""
    params = params or EngineParams()
    history = loaded.history
    profiles = None
    if loaded.groups:
        # group profiles from the whole file, not from whichever chunk a series lands in
        panel, _ = panel_from_frame(history)
        groups = np.array([loaded.groups.get(i) for i in panel.ids], dtype=object)
        profiles = seasonal_profiles(panel, groups, season_length)
    codes, ids = pd.factorize(history["series_id"], sort=False)
    # rows grouped by series (stable: time order kept), then cut at series boundaries
    order = np.argsort(codes, kind="stable")
    history = history.iloc[order]
    bounds = np.searchsorted(codes[order], [c[0] for c in _chunks(np.arange(len(ids)), workers)] + [len(ids)])
    parts = [history.iloc[bounds[k] : bounds[k + 1]] for k in range(len(bounds) - 1)]
    glob_ids, glob_series, glob_ends = [], [], np.zeros(0, dtype=np.int64)
    if use_global and global_model.available():
        limit = params.max_history or history_limit(season_length)
        glob_ids, glob_series, glob_ends = _global_inputs(history, season_length, limit)
    jobs = (
        [
            (global_model.validation_forecast, glob_series, glob_ends, season_length, horizon),
            (global_model.fit_predict, glob_series, glob_ends, season_length, horizon),
        ]
        if len(glob_ids) >= 30
        else []
    )
    results, glob_out = [], []
    if workers == 1 or len(parts) == 1:
        for part in parts:
            results.append(_forecast_chunk(part, horizon, season_length, loaded.groups, profiles, params))
            if progress:
                progress.update(int(part["series_id"].nunique()))
        glob_out = [fn(*args) for fn, *args in jobs]
    else:
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            # the global model's two fits first: they are the longest single jobs
            glob_futures = [pool.submit(fn, *args) for fn, *args in jobs]
            futures = {
                pool.submit(_forecast_chunk, part, horizon, season_length, loaded.groups, profiles, params): part
                for part in parts
            }
            for fut in as_completed(futures):
                results.append(fut.result())
                if progress:
                    progress.update(int(futures[fut]["series_id"].nunique()))
            glob_out = [f.result() for f in glob_futures]
    order = {sid: k for k, sid in enumerate(ids)}
    forecasts = pd.concat([r[0] for r in results], ignore_index=True)
    forecasts = forecasts.sort_values(
        ["series_id", "step"],
        key=lambda s: s.map(order) if s.name == "series_id" else s,
        kind="stable",
    )[FORECAST_COLUMNS].reset_index(drop=True)
    series = pd.concat([r[1] for r in results], ignore_index=True)
    series = series.sort_values("series_id", key=lambda s: s.map(order), kind="stable")
    series = series.reset_index(drop=True)
    errors = pd.concat([r[2] for r in results], ignore_index=True)
    if glob_out:
        backtest = pd.concat([r[3] for r in results], ignore_index=True)
        _blend_global(forecasts, series, backtest, glob_ids, glob_series, glob_out, season_length, horizon)
    return forecasts, series, errors


def _blend_global(forecasts, series, backtest, glob_ids, glob_series, glob_out, m, horizon):
    """Blend the global model into the combination forecasts where validation says so."""
    held_out, final = glob_out
    n = len(glob_ids)
    stat = np.full((n, horizon), np.nan)
    bt = backtest[backtest["step"] <= horizon]
    pos = {sid: i for i, sid in enumerate(glob_ids)}
    rows = bt["series_id"].map(pos)
    ok = rows.notna().to_numpy()
    stat[rows[ok].astype(int).to_numpy(), bt["step"].to_numpy()[ok] - 1] = bt["forecast"].to_numpy()[ok]
    actual = np.stack([y[-horizon:] if len(y) >= horizon else np.full(horizon, np.nan) for y in glob_series])
    scale = np.array([_naive_mae(y[:-horizon], m) for y in glob_series])
    choice = global_model.choose_weight(actual, stat, held_out, scale)
    if choice.weight == 0:
        return
    blended = set(series.loc[series["model"] == "combination", "series_id"]) & set(glob_ids)
    target = forecasts["series_id"].isin(blended).to_numpy()
    gi = forecasts.loc[target, "series_id"].map(pos).to_numpy()
    g = final[gi, forecasts.loc[target, "step"].to_numpy() - 1]
    old = forecasts.loc[target, "forecast"].to_numpy()
    new = np.where(np.isfinite(g), (1 - choice.weight) * old + choice.weight * g, old)
    forecasts.loc[target, "forecast"] = new
    # the band moves with the point and narrows (or widens) as the blend's errors did
    # against the statistical forecasts' on the validation window, step by step
    step = forecasts.loc[target, "step"].to_numpy() - 1
    for c, ratio in (("80", choice.ratio80), ("95", choice.ratio95)):
        r = ratio[np.minimum(step, len(ratio) - 1)]
        lo = old - forecasts.loc[target, "lo" + c].to_numpy()
        hi = forecasts.loc[target, "hi" + c].to_numpy() - old
        forecasts.loc[target, "lo" + c] = np.maximum(new - r * lo, 0.0)
        forecasts.loc[target, "hi" + c] = new + r * hi
    forecasts.loc[target, "model"] = "combination+global"
    mark = series["series_id"].isin(blended)
    series.loc[mark, "model"] = "combination+global"
    series.loc[mark, "reason"] = series.loc[mark, "reason"] + "; " + choice.note()


def _naive_mae(y: np.ndarray, m: int) -> float:
    k = m if len(y) > m else 1
    return float(np.abs(y[k:] - y[:-k]).mean()) if len(y) > k else float("nan")


if __name__ == "__main__":
    sys.exit(main())
