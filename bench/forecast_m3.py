"""M3 monthly benchmark: accuracy and wall time of ``forecast_file`` against references.

Runs ``python -m forecasting.file_forecast`` as a subprocess (so interpreter start-up and
imports count in the wall time) on the TRAIN rows of the M3 monthly file, horizon 18, season
12, and scores the forecasts against the TEST rows with the sMAPE of
``../shared/data/m3/README.md``. In the same run it scores two references fitted here, per
series, on the same train rows: statsmodels ``ThetaModel(period=12)`` and Naïve2 (the last
seasonally adjusted value, classical multiplicative decomposition when the 90 % lag-12 ACF
test passes). Also reports the empirical coverage of the engine's 80 % and 95 % intervals.

Data: ``$M3_MONTHLY_CSV`` or ``../shared/data/m3/m3_monthly.csv`` from the repository root.

    .venv/bin/python bench/forecast_m3.py [--workers 2] [--skip-references]
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
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "m3" / "m3_monthly.csv"
HORIZON, SEASON = 18, 12


def smape_per_series(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """200/H · Σ |y − ŷ| / (|y| + |ŷ|), 0/0 counted as 0 (README definition), per series."""
    denom = np.abs(actual) + np.abs(forecast)
    with np.errstate(invalid="ignore", divide="ignore"):
        term = np.where(denom == 0, 0.0, 200.0 * np.abs(actual - forecast) / denom)
    return term.mean(axis=1)


def load(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = pd.read_csv(path)
    train = df[df["split"] == "train"].sort_values(["series_id", "period_index"])
    test = df[df["split"] == "test"].sort_values(["series_id", "period_index"])
    return train, test


def run_engine(train: pd.DataFrame, workers: int, out_dir: Path, extra: list[str]) -> tuple[pd.DataFrame, float, float]:
    """Forecast with the CLI in a subprocess; return forecasts, wall and CPU seconds."""
    inp = out_dir / "m3_monthly_train.csv"
    out = out_dir / "m3_monthly_forecast.csv"
    train[["series_id", "period_index", "value"]].to_csv(inp, index=False)
    cmd = [
        sys.executable,
        "-m",
        "forecasting.file_forecast",
        str(inp),
        "--horizon",
        str(HORIZON),
        "--season-length",
        str(SEASON),
        "--output",
        str(out),
        "--workers",
        str(workers),
        *extra,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"forecast_file failed (exit {proc.returncode}):\n{proc.stderr}")
    return pd.read_csv(out), wall, cpu


def naive2(y: np.ndarray) -> np.ndarray:
    from statsmodels.tsa.seasonal import seasonal_decompose
    from statsmodels.tsa.stattools import acf

    n = len(y)
    seasonal = False
    if n >= 3 * SEASON:
        r = acf(y, nlags=SEASON, fft=False)[1:]
        bound = 1.645 * np.sqrt((1 + 2 * np.sum(r[:-1] ** 2)) / n)
        seasonal = abs(r[-1]) > bound and y.min() > 0
    if not seasonal:
        return np.repeat(y[-1], HORIZON)
    idx = seasonal_decompose(y, model="multiplicative", period=SEASON).seasonal
    future = np.array([idx[n - SEASON + (h % SEASON)] for h in range(HORIZON)])
    return (y[-1] / idx[-1]) * future


def theta_reference(y: np.ndarray) -> np.ndarray:
    from statsmodels.tsa.forecasting.theta import ThetaModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(ThetaModel(y, period=SEASON).fit().forecast(HORIZON))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-references", action="store_true")
    parser.add_argument("--also-median", action="store_true", help="also run with --point median (sMAPE-optimal)")
    args = parser.parse_args()
    path = Path(os.environ.get("M3_MONTHLY_CSV", DEFAULT_DATA))
    if not path.exists():
        sys.exit(
            f"M3 data not found at {path}: set M3_MONTHLY_CSV or place the file at "
            "../shared/data/m3/m3_monthly.csv relative to the repository root"
        )
    train, test = load(path)
    ids = train["series_id"].unique()
    actual = np.stack([g["value"].to_numpy() for _, g in test.groupby("series_id", sort=False)])
    test_ids = test["series_id"].unique()
    if not np.array_equal(np.sort(ids), np.sort(test_ids)):
        sys.exit("train and test series differ")
    order = {s: i for i, s in enumerate(test_ids)}

    print(
        f"M3 monthly: {len(test_ids)} series, horizon {HORIZON}, season {SEASON}, "
        f"{args.workers} worker(s), {os.cpu_count()} core(s), load average "
        f"{os.getloadavg()[0]:.1f} before the run"
    )
    runs = [("forecast_file (engine)", [])]
    if args.also_median:
        runs.append(("forecast_file --point median", ["--point", "median"]))
    for label, extra in runs:
        with tempfile.TemporaryDirectory() as tmp:
            fc, wall, cpu = run_engine(train, args.workers, Path(tmp), extra)
        fc = fc.sort_values(["series_id", "step"], key=lambda s: s.map(order) if s.name == "series_id" else s)
        shape = (len(test_ids), HORIZON)
        engine = fc["forecast"].to_numpy().reshape(shape)
        lo80, hi80, lo95, hi95 = (fc[c].to_numpy().reshape(shape) for c in ("lo80", "hi80", "lo95", "hi95"))
        cov80 = ((actual >= lo80) & (actual <= hi80)).mean()
        cov95 = ((actual >= lo95) & (actual <= hi95)).mean()
        models = fc.drop_duplicates("series_id")["model"].value_counts().to_dict()
        print(
            f"{label:30s} sMAPE {smape_per_series(actual, engine).mean():6.2f}   wall {wall:5.1f} s "
            f"(process start included), CPU {cpu:5.1f} s"
        )
        print(f"  interval coverage: 80% -> {100 * cov80:.1f}%, 95% -> {100 * cov95:.1f}%; models {models}")
    if not args.skip_references:
        groups = {s: g["value"].to_numpy(dtype=float) for s, g in train.groupby("series_id", sort=False)}
        series = [groups[s] for s in test_ids]
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            t0 = time.perf_counter()
            theta = np.stack(list(pool.map(theta_reference, series, chunksize=50)))
            t_theta = time.perf_counter() - t0
            t0 = time.perf_counter()
            n2 = np.stack(list(pool.map(naive2, series, chunksize=50)))
            t_n2 = time.perf_counter() - t0
        print(
            f"{'statsmodels ThetaModel(12)':30s} sMAPE {smape_per_series(actual, theta).mean():6.2f}   "
            f"fit {t_theta:5.1f} s ({args.workers} processes, per-series statsmodels fits)"
        )
        print(f"{'Naive2':30s} sMAPE {smape_per_series(actual, n2).mean():6.2f}   fit {t_n2:5.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
