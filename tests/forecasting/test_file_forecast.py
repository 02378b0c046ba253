"""forecast_file core: validation messages name the series and the line; end-to-end CSV runs."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import file_forecast


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "in.csv"
    path.write_text(text)
    return path


def run(tmp_path: Path, text: str, *extra: str) -> tuple[int, str, Path]:
    path = write(tmp_path, text)
    out = tmp_path / "out.csv"
    err = io.StringIO()
    args = [
        str(path),
        "--horizon",
        "3",
        "--season-length",
        "12",
        "--output",
        str(out),
        "--quiet",
        *extra,
    ]
    parser = __import__("argparse").ArgumentParser()
    file_forecast.add_arguments(parser)
    code = file_forecast.run(vars(parser.parse_args(args)), stderr=err)
    return code, err.getvalue(), out


def test_missing_column_is_named(tmp_path):
    code, err, _ = run(tmp_path, "series_id,amount,period_index\nA,1,1\n")
    assert code == 2
    assert "missing column(s): value" in err and "found: series_id, amount, period_index" in err


def test_missing_time_column_is_named(tmp_path):
    code, err, _ = run(tmp_path, "series_id,value\nA,1\n")
    assert code == 2 and "date or period_index" in err


def test_non_numeric_value_names_series_and_line(tmp_path):
    text = "series_id,period_index,value\n" + "".join(f"A,{i},{i}\n" for i in range(1, 5))
    text += "B,1,3\nB,2,abc\nB,3,4\nB,4,\n"
    code, err, _ = run(tmp_path, text)
    assert code == 2
    assert "series 'B', line 7: value 'abc' is not a finite number" in err
    assert "series 'B', line 9: missing value" in err


def test_too_short_series_is_named_with_its_line(tmp_path):
    text = "series_id,period_index,value\nA,1,1\nA,2,2\nA,3,3\nB,1,5\n"
    code, err, _ = run(tmp_path, text)
    assert code == 2
    assert "series 'B' (starting line 5): too short, 1 observation(s); at least 3 needed" in err


def test_rows_out_of_time_order_are_named(tmp_path):
    text = "series_id,period_index,value\nA,1,1\nA,3,2\nA,2,3\nA,4,3\n"
    code, err, _ = run(tmp_path, text)
    assert code == 2
    assert "series 'A', line 4: period 2 comes before the previous row's period 3" in err


def test_bad_date_and_bad_period_are_named(tmp_path):
    code, err, _ = run(tmp_path, "series_id,date,value\nA,2021-01-01,1\nA,someday,2\nA,2021-03-01,3\n")
    assert code == 2 and "series 'A', line 3: date 'someday' is not a date" in err
    code, err, _ = run(tmp_path, "series_id,period_index,value\nA,1,1\nA,2.5,2\nA,3,3\n")
    assert code == 2 and "series 'A', line 3: period_index '2.5' is not an integer" in err


def test_missing_or_empty_file(tmp_path):
    err = io.StringIO()
    options = {
        "input": str(tmp_path / "nope.csv"),
        "horizon": 2,
        "season_length": 12,
        "output": str(tmp_path / "o.csv"),
        "workers": 1,
    }
    assert file_forecast.run(options, stderr=err) == 2
    assert "no such file" in err.getvalue()
    code, err, _ = run(tmp_path, "")
    assert code == 2 and "not a readable CSV" in err


def _history_csv(n_series: int, months: int, with_dates: bool) -> str:
    rng = np.random.default_rng(0)
    season = 1 + 0.3 * np.sin(np.arange(12) / 12 * 2 * np.pi)
    rows = []
    for s in range(n_series):
        level = 50 + 10 * s
        for t in range(months):
            value = level * season[t % 12] * rng.normal(1, 0.05)
            when = f"{2020 + t // 12}-{t % 12 + 1:02d}-01" if with_dates else str(t + 1)
            rows.append(f"S{s},{when},{value:.3f}")
    head = "series_id,date,value" if with_dates else "series_id,period_index,value"
    return head + "\n" + "\n".join(rows) + "\n"


@pytest.mark.parametrize("workers", ["1", "2"])
def test_end_to_end_writes_the_forecast_csv(tmp_path, workers):
    code, err, out = run(tmp_path, _history_csv(7, 36, with_dates=True), "--workers", workers)
    assert code == 0, err
    fc = pd.read_csv(out)
    assert list(fc.columns) == [
        "series_id",
        "step",
        "forecast",
        "lo80",
        "hi80",
        "lo95",
        "hi95",
        "model",
    ]
    assert len(fc) == 7 * 3
    assert list(fc["series_id"].unique()) == [f"S{s}" for s in range(7)]
    assert (fc["lo95"] <= fc["lo80"]).all() and (fc["lo80"] <= fc["forecast"]).all()
    assert (fc["forecast"] <= fc["hi80"]).all() and (fc["hi80"] <= fc["hi95"]).all()


def test_dates_become_monthly_periods():
    dates = pd.Series(pd.to_datetime(["2021-11-01", "2021-12-01", "2022-01-01"]))
    periods = file_forecast.date_ordinals(dates, np.array(["a", "a", "a"]))
    assert list(periods) == [2021 * 12 + 10, 2021 * 12 + 11, 2022 * 12]


def test_progress_bar_goes_to_stderr(tmp_path):
    path = write(tmp_path, _history_csv(3, 24, with_dates=False))
    err = io.StringIO()
    code = file_forecast.run(
        {
            "input": str(path),
            "horizon": 2,
            "season_length": 12,
            "output": str(tmp_path / "o.csv"),
            "workers": 1,
            "min_length": 3,
        },
        stderr=err,
    )
    assert code == 0
    assert "forecasting [" in err.getvalue() and "3/3 series" in err.getvalue()


def test_main_returns_exit_code(tmp_path):
    path = write(tmp_path, "series_id,value\n")
    assert (
        file_forecast.main(
            [
                str(path),
                "--horizon",
                "2",
                "--season-length",
                "12",
                "--output",
                str(tmp_path / "o.csv"),
            ]
        )
        == 2
    )


def test_management_command_is_thin_and_needs_no_database(tmp_path):
    # pytest-django refuses database access here: the command must not need it
    from django.core.management import CommandError, call_command

    path = write(tmp_path, _history_csv(2, 30, with_dates=False))
    out = tmp_path / "o.csv"
    call_command(
        "forecast_file",
        str(path),
        "--horizon",
        "4",
        "--season-length",
        "12",
        "--output",
        str(out),
        "--workers",
        "1",
        "--quiet",
    )
    assert len(pd.read_csv(out)) == 8
    bad = write(tmp_path, "series_id,value\nA,1\n")
    with pytest.raises(CommandError, match="exit code 2"):
        call_command(
            "forecast_file",
            str(bad),
            "--horizon",
            "4",
            "--season-length",
            "12",
            "--output",
            str(out),
            "--quiet",
        )


def _dated_csv(freq: str, periods: int, n_series: int = 2) -> str:
    rng = np.random.default_rng(4)
    dates = pd.date_range("2015-01-01", periods=periods, freq=freq)
    rows = [
        f"S{s},{d.date().isoformat()},{100 + 10 * s + rng.normal(0, 3):.3f}" for s in range(n_series) for d in dates
    ]
    return "series_id,date,value\n" + "\n".join(rows) + "\n"


def run_freq(tmp_path: Path, text: str, *extra: str) -> tuple[int, str, Path]:
    path = write(tmp_path, text)
    out = tmp_path / "out.csv"
    err = io.StringIO()
    parser = __import__("argparse").ArgumentParser()
    file_forecast.add_arguments(parser)
    args = [str(path), "--horizon", "4", "--output", str(out), "--quiet", "--workers", "1"]
    code = file_forecast.run(vars(parser.parse_args([*args, *extra])), stderr=err)
    return code, err.getvalue(), out


@pytest.mark.parametrize(
    "freq, name, season, periods",
    [
        ("YS", "yearly", 1, 9),
        ("QS", "quarterly", 4, 20),
        ("MS", "monthly", 12, 30),
        ("W-MON", "weekly", 52, 120),
        ("D", "daily", 7, 60),
    ],
)
def test_frequency_is_inferred_from_the_dates_and_said(tmp_path, freq, name, season, periods):
    code, err, out = run_freq(tmp_path, _dated_csv(freq, periods))
    assert code == 0, err
    assert f"frequency: {name} (inferred from the dates), season length {season}" in err
    fc = pd.read_csv(out)
    assert len(fc) == 2 * 4 and np.isfinite(fc["forecast"]).all()


def test_dates_become_periods_at_each_frequency():
    def periods(dates: list[str]) -> list[int]:
        d = pd.Series(pd.to_datetime(dates))
        return list(file_forecast.date_ordinals(d, np.array(["a"] * len(dates))))

    assert periods(["2020-01-01", "2021-01-01", "2022-01-01"]) == [2020, 2021, 2022]
    assert periods(["2020-10-01", "2021-01-01", "2021-04-01"]) == [2020 * 4 + 3, 2021 * 4, 2021 * 4 + 1]
    weekly = periods(["2024-01-01", "2024-01-08", "2024-01-15"])
    assert np.diff(weekly).tolist() == [1, 1]
    daily = periods(["2024-02-28", "2024-02-29", "2024-03-01"])
    assert np.diff(daily).tolist() == [1, 1]


def test_period_index_needs_a_frequency_or_a_season_length(tmp_path):
    text = "series_id,period_index,value\n" + "".join(f"A,{i},{10 + i}\n" for i in range(1, 13))
    code, err, _ = run_freq(tmp_path, text)
    assert code == 2 and "period_index input needs --frequency" in err
    code, err, _ = run_freq(tmp_path, text, "--frequency", "quarterly")
    assert code == 0 and "frequency: quarterly (as given), season length 4" in err


def test_season_length_overrides_the_inferred_frequency(tmp_path):
    code, err, _ = run_freq(tmp_path, _dated_csv("D", 60), "--season-length", "30")
    assert code == 0
    assert "frequency: daily (inferred from the dates), season length 30 as given" in err
