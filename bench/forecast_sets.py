"""Every development set, scored in one run: the engine, statsmodels ``ThetaModel`` and Naïve2.

Sets (``../shared/data``, or ``$FORECAST_DATA``):
    m3-monthly    1,428 M3 monthly series, h = 18, season 12 (train/test as published)
    m3-quarterly  the same series summed into complete calendar quarters, h = 8, season 4
    m3-yearly     summed into complete calendar years (series with ≥ 8 of them), h = 4
    m4-weekly     the 359 M4 weekly series, h = 13, season 52 (train/test as published)
The quarterly and yearly sets follow ``../shared/data/m4-weekly/README.md`` ("Other
frequencies"): months summed per calendar quarter / year (the 29 undated series are taken to
start in January), incomplete quarters and years dropped, the last h points held out.

For each set and method: sMAPE (the M3/M4 formula), MASE (in-sample naive scale: lag 12 / 4
for monthly / quarterly, lag 1 for yearly and weekly as in M4), the share of test points
inside the 80 % and 95 % intervals, MSIS (the M4 scaled interval score of the 95 % interval)
and the wall time. The engine runs as ``python -m forecasting.file_forecast`` in a subprocess
(interpreter start, imports, CSV in and out inside the wall time) with ``--frequency``, so the
season length comes from the frequency as a user's file would give it.

``--split validation`` holds out the last h points of each TRAIN series instead (the test
rows are not read at all): every engine choice is made on that split, so the test figures
stay an honest check.

    .venv/bin/python bench/forecast_sets.py [--sets m3-monthly,m4-weekly] [--workers 2]
        [--split test|validation] [--skip-references] [--reference-cache DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent


def _data_dir() -> Path:
    if os.environ.get("FORECAST_DATA"):
        return Path(os.environ["FORECAST_DATA"])
    # shared/ sits beside the repository (a worktree one level further down finds it too)
    for base in (REPO.parent, REPO.parent.parent):
        if (base / "shared" / "data").is_dir():
            return base / "shared" / "data"
    return REPO.parent / "shared" / "data"


DATA = _data_dir()


@dataclass
class DevSet:
    name: str
    frequency: str
    horizon: int
    season: int  # season length of the references
    mase_lag: int
    ids: np.ndarray  # (n,)
    train: list[np.ndarray]  # n histories
    actual: np.ndarray  # (n, h)

    def long_frame(self) -> pd.DataFrame:
        lengths = np.array([len(y) for y in self.train])
        return pd.DataFrame(
            {
                "series_id": np.repeat(self.ids, lengths),
                "period_index": np.concatenate([np.arange(1, n + 1) for n in lengths]),
                "value": np.concatenate(self.train),
            }
        )


SETS = {
    # name: (frequency, horizon, reference season, MASE lag)
    "m3-monthly": ("monthly", 18, 12, 12),
    "m3-quarterly": ("quarterly", 8, 4, 4),
    "m3-yearly": ("yearly", 4, 1, 1),
    "m4-weekly": ("weekly", 13, 1, 1),
}
MIN_YEARS = 8


def _m3_full() -> pd.DataFrame:
    path = DATA / "m3" / "m3_monthly.csv"
    if not path.exists():
        sys.exit(f"M3 data not found at {path} (set FORECAST_DATA to the data folder)")
    return pd.read_csv(path).sort_values(["series_id", "period_index"])


def _summed(df: pd.DataFrame, months: int) -> dict[str, np.ndarray]:
    """Each series' values summed over complete calendar blocks of ``months``."""
    out = {}
    for sid, g in df.groupby("series_id", sort=True):
        first = g["date"].iloc[0]
        month = 1 if pd.isna(first) else pd.Timestamp(first).month
        skip = (-(month - 1)) % months  # months before the first block starts
        y = g["value"].to_numpy(dtype=float)[skip:]
        blocks = len(y) // months
        out[sid] = y[: blocks * months].reshape(blocks, months).sum(axis=1)
    return out


def load_set(name: str, split: str = "test") -> DevSet:
    frequency, h, season, lag = SETS[name]
    if name == "m3-monthly":
        df = _m3_full()
        series = {sid: g["value"].to_numpy(dtype=float) for sid, g in df.groupby("series_id", sort=True)}
        # the published split holds out the last 18 months: the same as cutting h here
    elif name in ("m3-quarterly", "m3-yearly"):
        series = _summed(_m3_full(), 3 if name == "m3-quarterly" else 12)
        if name == "m3-yearly":
            series = {k: v for k, v in series.items() if len(v) >= MIN_YEARS}
    else:
        series = {}
        train = pd.read_csv(DATA / "m4-weekly" / "Weekly-train.csv", index_col=0)
        test = pd.read_csv(DATA / "m4-weekly" / "Weekly-test.csv", index_col=0)
        for sid in train.index:
            tr = train.loc[sid].dropna().to_numpy(dtype=float)
            series[sid] = np.r_[tr, test.loc[sid].to_numpy(dtype=float)]
    ids = np.array(sorted(series), dtype=object)
    cut = 2 * h if split == "validation" else h
    train_parts = [series[s][: len(series[s]) - cut] for s in ids]
    actual = np.stack([series[s][len(series[s]) - cut : len(series[s]) - cut + h] for s in ids])
    return DevSet(name, frequency, h, season, lag, ids, train_parts, actual)


# ----------------------------------------------------------------------------- scores


def smape(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    denom = np.abs(actual) + np.abs(forecast)
    with np.errstate(invalid="ignore", divide="ignore"):
        term = np.where(denom == 0, 0.0, 200.0 * np.abs(actual - forecast) / denom)
    return term.mean(axis=1)


def naive_scales(train: list[np.ndarray], lag: int) -> np.ndarray:
    out = []
    for y in train:
        k = lag if len(y) > lag else 1
        d = np.abs(y[k:] - y[:-k]) if len(y) > k else np.array([np.nan])
        out.append(d.mean() if d.size else np.nan)
    return np.asarray(out)


def scores(ds: DevSet, point: np.ndarray, bands: dict[str, np.ndarray] | None) -> dict:
    scale = naive_scales(ds.train, ds.mase_lag)
    ok = scale > 0
    out = {
        "smape": float(np.mean(smape(ds.actual, point))),
        "mase": float(np.mean(np.abs(ds.actual - point).mean(axis=1)[ok] / scale[ok])),
    }
    if bands:
        y = ds.actual
        out["cov80"] = 100 * float(((y >= bands["lo80"]) & (y <= bands["hi80"])).mean())
        out["cov95"] = 100 * float(((y >= bands["lo95"]) & (y <= bands["hi95"])).mean())
        lo, hi, a = bands["lo95"], bands["hi95"], 0.05
        pen = (hi - lo) + 2 / a * (lo - y) * (y < lo) + 2 / a * (y - hi) * (y > hi)
        out["msis"] = float(np.mean(pen.mean(axis=1)[ok] / scale[ok]))
    return out


# ----------------------------------------------------------------------------- methods


def run_engine(ds: DevSet, workers: int, extra: list[str]) -> tuple[pd.DataFrame, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "train.csv", Path(tmp) / "forecast.csv"
        ds.long_frame().to_csv(inp, index=False)
        cmd = [
            sys.executable, "-m", "forecasting.file_forecast", str(inp),
            "--horizon", str(ds.horizon), "--frequency", ds.frequency, "--output", str(out),
            "--workers", str(workers), "--quiet", *extra,
        ]  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            sys.exit(f"forecast_file failed on {ds.name} (exit {proc.returncode}):\n{proc.stderr}")
        fc = pd.read_csv(out, dtype={"series_id": str})
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return fc, wall, cpu


def engine_arrays(ds: DevSet, fc: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    order = {s: i for i, s in enumerate(ds.ids)}
    fc = fc.assign(row=fc["series_id"].map(order)).sort_values(["row", "step"])
    if fc["row"].isna().any() or len(fc) != len(ds.ids) * ds.horizon:
        sys.exit(f"{ds.name}: the engine did not forecast every series and step")
    shape = (len(ds.ids), ds.horizon)
    bands = {c: fc[c].to_numpy().reshape(shape) for c in ("lo80", "hi80", "lo95", "hi95")}
    return fc["forecast"].to_numpy().reshape(shape), bands


def naive2(args: tuple[np.ndarray, int, int]) -> np.ndarray:
    """Seasonally adjusted naive: 90 % lag-m ACF test, classical multiplicative indices."""
    from statsmodels.tsa.seasonal import seasonal_decompose
    from statsmodels.tsa.stattools import acf

    y, m, h = args
    n = len(y)
    seasonal = False
    if m > 1 and n >= 3 * m:
        r = acf(y, nlags=m, fft=False)[1:]
        bound = 1.645 * np.sqrt((1 + 2 * np.sum(r[:-1] ** 2)) / n)
        seasonal = abs(r[-1]) > bound and y.min() > 0
    if not seasonal:
        return np.repeat(y[-1], h)
    idx = seasonal_decompose(y, model="multiplicative", period=m).seasonal
    future = np.array([idx[n - m + (k % m)] for k in range(h)])
    return (y[-1] / idx[-1]) * future


def theta(args: tuple[np.ndarray, int, int]) -> np.ndarray:
    from statsmodels.tsa.forecasting.theta import ThetaModel

    y, m, h = args
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if m > 1:
                model = ThetaModel(y, period=m)
            else:
                model = ThetaModel(y, period=1, deseasonalize=False)
            return np.asarray(model.fit().forecast(h))
        except Exception:  # noqa: BLE001 - a series statsmodels cannot fit: naive, counted
            return np.repeat(y[-1], h)


def run_reference(ds: DevSet, fn, workers: int, cache: Path | None, split: str):
    path = cache / f"{ds.name}-{split}-{fn.__name__}.npy" if cache else None
    if path and path.exists():
        return np.load(path), float("nan")
    t0 = time.perf_counter()
    jobs = [(y, ds.season, ds.horizon) for y in ds.train]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        point = np.stack(list(pool.map(fn, jobs, chunksize=20)))
    wall = time.perf_counter() - t0
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, point)
    return point, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated set names")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--split", choices=("test", "validation"), default="test")
    parser.add_argument("--skip-references", action="store_true")
    parser.add_argument("--reference-cache", type=Path, help="reuse reference forecasts saved here (dev only)")
    parser.add_argument("engine_args", nargs="*", help="extra forecast_file arguments (after --)")
    args = parser.parse_args()
    names = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in names if s not in SETS]
    if unknown:
        sys.exit(f"unknown set(s): {', '.join(unknown)} (known: {', '.join(SETS)})")
    print(
        f"split {args.split}; {args.workers} worker(s), {os.cpu_count()} core(s); load average "
        f"{os.getloadavg()[0]:.1f} at the start"
    )
    head = (
        f"{'set':13s} {'method':24s} {'sMAPE':>6s} {'MASE':>6s} {'cov80':>6s} {'cov95':>6s} {'MSIS':>7s} {'wall':>7s}"
    )
    print(head)
    for name in names:
        ds = load_set(name, args.split)
        load = os.getloadavg()[0]
        fc, wall, cpu = run_engine(ds, args.workers, args.engine_args)
        point, bands = engine_arrays(ds, fc)
        s = scores(ds, point, bands)
        print(
            f"{name:13s} {'engine':24s} {s['smape']:6.2f} {s['mase']:6.3f} {s['cov80']:6.1f} "
            f"{s['cov95']:6.1f} {s['msis']:7.2f} {wall:6.1f}s  (CPU {cpu:.1f} s, "
            f"load {load:.1f}, {len(ds.ids)} series, h={ds.horizon})"
        )
        mix = fc.drop_duplicates("series_id")["model"].value_counts().head(6).to_dict()
        print(f"{'':13s}   models: {mix}")
        if args.skip_references:
            continue
        for label, fn in (("statsmodels ThetaModel", theta), ("Naive2", naive2)):
            ref, rwall = run_reference(ds, fn, args.workers, args.reference_cache, args.split)
            s = scores(ds, ref, None)
            print(f"{name:13s} {label:24s} {s['smape']:6.2f} {s['mase']:6.3f} {'':6s} {'':6s} {'':7s} {rwall:6.1f}s")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
