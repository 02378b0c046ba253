"""Forecast runs: create, plan into chunks, process chunks (any worker, any order, at most
once each), finish (hierarchy, accuracy, status) and hand over to the reconciliation.

Celery tasks call these one to one; ``forecast_run_execute`` runs the same steps in-process
(command line, ``make run``'s first pipeline, tests).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.bulk.insert import insert_frame
from core.errors import ApplicationError
from forecasting import levels
from forecasting.models import (
    Forecast,
    ForecastAccuracy,
    ForecastChunk,
    ForecastRun,
    ForecastSeries,
)
from forecasting.selectors import (
    demand_history_frame,
    family_history_frame,
    ordinal_month,
    series_universe,
)
from webhooks.services import event_emit

log = logging.getLogger(__name__)

DEFAULT_PARAMETERS = {"history_months": 36, "chunk_size": 500}


def forecast_run_create(*, as_of: dt.date | None = None, trigger: str = ForecastRun.Trigger.USER, user=None,
                        parameters: dict | None = None, horizon: int = 18, season_length: int = 12) -> ForecastRun:
    params = {**DEFAULT_PARAMETERS, **(parameters or {})}
    if not 1 <= horizon <= 60:
        raise ApplicationError("horizon must be between 1 and 60 months.", code="invalid_horizon")
    if int(params["chunk_size"]) < 1:
        raise ApplicationError("chunk_size must be positive.", code="invalid_chunk_size")
    return ForecastRun.objects.create(
        as_of=as_of or timezone.localdate(), trigger=trigger,
        triggered_by=user if getattr(user, "is_authenticated", False) else None,
        parameters=params, horizon=horizon, season_length=season_length,
    )


def forecast_run_enqueue(run: ForecastRun) -> None:
    """Start the run on the Celery workers once the surrounding transaction commits."""
    from forecasting.tasks import forecast_run_start_task

    transaction.on_commit(lambda: forecast_run_start_task.delay(run.pk))


def forecast_run_plan(*, run_id: int) -> list[int]:
    """Split the run's series into chunks (once: a redelivered start reuses them)."""
    with transaction.atomic():
        run = ForecastRun.objects.select_for_update().get(pk=run_id)
        existing = list(run.chunks.values_list("index", flat=True))
        if existing:
            return existing
        universe = series_universe(as_of=run.as_of, history_months=run.parameters["history_months"])
        size = int(run.parameters["chunk_size"])
        keys = universe[["product_id", "territory_id"]].to_numpy().tolist()
        chunks = [ForecastChunk(run=run, index=i, series_keys=part) for i, part in enumerate(_split(keys, size))]
        ForecastChunk.objects.bulk_create(chunks)
        run.parameters = {**run.parameters, "family_profiles": _family_profiles(run)}
        run.series_total = len(keys)
        run.chunks_total = len(chunks)
        run.status = ForecastRun.Status.RUNNING
        run.started_at = timezone.now()
        run.percent = 0 if chunks else 99
        run.save()
        return [c.index for c in chunks]


def _split(keys: list[list[int]], size: int) -> list[list[list[int]]]:
    """Chunks of about ``size`` series that never split a product: each chunk can then sum
    its products' forecasts over territories itself, in parallel with the others."""
    parts, current = [], []
    for i, key in enumerate(keys):
        current.append(key)
        next_product = keys[i + 1][0] if i + 1 < len(keys) else None
        if len(current) >= size and next_product != key[0]:
            parts.append(current)
            current = []
    if current:
        parts.append(current)
    return parts


def _family_profiles(run: ForecastRun) -> dict[str, list[float]]:
    """Seasonal profile of each family from its total demand, computed once per run so every
    chunk gives its new and short series the same, well-estimated profile."""
    from forecasting.engine import seasonal_profiles
    from forecasting.engine.panel import panel_from_frame

    history = family_history_frame(as_of=run.as_of, history_months=run.parameters["history_months"])
    if history.empty:
        return {}
    panel, _errors = panel_from_frame(history)
    profiles = seasonal_profiles(panel, np.asarray(panel.ids), run.season_length)
    return {str(k): [round(float(x), 6) for x in v] for k, v in profiles.items()}


def _family_groups(series: pd.DataFrame) -> pd.Series:
    """Series id → family: new products borrow the seasonal profile of their family."""
    ids = series["product_id"].astype(str) + ":" + series["territory_id"].astype(str)
    return pd.Series(series["family_id"].astype(str).to_numpy(), index=ids.to_numpy())


def forecast_chunk_process(*, run_id: int, index: int) -> bool:
    """Forecast one chunk and save it. Returns True when this call completed the run's last chunk."""
    from forecasting.engine import forecast_frame

    chunk = ForecastChunk.objects.select_related("run").get(run_id=run_id, index=index)
    if chunk.status != ForecastChunk.Status.PENDING:
        return False  # redelivered after success: nothing to do twice
    run = chunk.run
    started = time.monotonic()
    keys = pd.DataFrame(chunk.series_keys, columns=["product_id", "territory_id"])
    meta = _series_meta(keys)
    history = demand_history_frame(as_of=run.as_of, history_months=run.parameters["history_months"], series=meta)
    # Every series ends at the run's last complete month (a series without recent sales has
    # zero demand there, not an earlier end), so step 1 is the same month for all of them.
    last = _last_history_ordinal(run.as_of)
    ids = (meta["product_id"].astype(str) + ":" + meta["territory_id"].astype(str)).tolist()
    tail = pd.DataFrame({"series_id": ids, "period": last, "value": 0.0})
    history = pd.concat([history, tail], ignore_index=True).drop_duplicates(["series_id", "period"], keep="first")
    history = history.sort_values(["series_id", "period"], kind="stable")
    profiles = {k: np.asarray(v) for k, v in run.parameters.get("family_profiles", {}).items()}
    result = forecast_frame(history, horizon=run.horizon, season_length=run.season_length,
                            series_groups=_family_groups(meta), group_profiles=profiles or None)
    return _chunk_save(chunk, meta, result, seconds=time.monotonic() - started)


def _last_history_ordinal(as_of: dt.date) -> int:
    return as_of.year * 12 + as_of.month - 2  # the month before as_of's month


def _series_meta(keys: pd.DataFrame) -> pd.DataFrame:
    from inventory.models import Product
    from territories.models import Territory

    families = dict(Product.objects.filter(pk__in=keys["product_id"].unique().tolist()).values_list("id", "family_id"))
    meta = keys.copy()
    meta["family_id"] = meta["product_id"].map(families)
    region_of = {pk: path.split("/")[1] for pk, path in Territory.objects.values_list("id", "path")}
    meta["region_code"] = meta["territory_id"].map(region_of)
    return meta


SERIES_TEXT = ("status", "model", "demand_class", "history_class", "reason", "error")
FORECAST_TEXT = ("level", "series_key", "model")


def _chunk_save(chunk: ForecastChunk, meta: pd.DataFrame, result, *, seconds: float) -> bool:
    """Save a chunk's series and forecasts in one transaction, at most once per chunk."""
    run = chunk.run
    keys = meta[["product_id", "territory_id"]].copy()
    keys["series_id"] = keys["product_id"].astype(str) + ":" + keys["territory_id"].astype(str)
    errors = result.errors.drop_duplicates("series_id") if len(result.errors) else pd.DataFrame(
        columns=["series_id", "error"])
    chosen = result.series[~result.series["series_id"].isin(errors["series_id"])]

    series = keys.merge(chosen, on="series_id", how="left").merge(errors, on="series_id", how="left")
    missing = series["model"].isna() & series["error"].isna()
    series.loc[missing, "error"] = "no forecast produced"
    series["status"] = np.where(series["error"].notna(), "failed", "ok")
    series["history_periods"] = pd.to_numeric(series.get("n_obs"), errors="coerce").fillna(0).astype(int)
    series_rows = pd.DataFrame({
        "run_id": run.pk, "product_id": series["product_id"], "territory_id": series["territory_id"],
        "status": series["status"], "history_periods": series["history_periods"],
        **{c: series[c].fillna("").astype(str) for c in ("model", "demand_class", "history_class", "reason",
                                                         "error")},
        **{c: pd.to_numeric(series[c], errors="coerce").replace([np.inf, -np.inf], np.nan)
           for c in ("smape", "mase", "wape", "bias")},
    })
    series_rows.loc[series_rows["status"] == "failed", "model"] = ""

    first = _last_history_ordinal(run.as_of)
    forecasts = result.forecasts[result.forecasts["series_id"].isin(chosen["series_id"])].merge(
        keys, on="series_id", how="inner")
    periods = {step: ordinal_month(first + step) for step in range(1, run.horizon + 1)}
    forecast_rows = pd.DataFrame({
        "run_id": run.pk, "level": "product_territory", "series_key": forecasts["series_id"],
        "product_id": forecasts["product_id"], "family_id": None, "territory_id": forecasts["territory_id"],
        "period_start": forecasts["step"].astype(int).map(periods),
        **{c: forecasts[src].astype(float) for c, src in (("point", "forecast"), ("lo80", "lo80"),
                                                          ("hi80", "hi80"), ("lo95", "lo95"), ("hi95", "hi95"))},
        "model": forecasts["model"].astype(str),
    })
    product_rows, partials = _chunk_levels(run, forecast_rows, meta)
    failed = int((series_rows["status"] == "failed").sum())
    with transaction.atomic():
        locked = ForecastChunk.objects.select_for_update().get(pk=chunk.pk)
        if locked.status != ForecastChunk.Status.PENDING:
            return False  # another delivery of this chunk finished first
        # The chunk row is locked and still pending, so its series have no rows yet: a
        # redelivered chunk stops above and never writes twice (unique run × series too).
        insert_frame(ForecastSeries._meta.db_table, series_rows, text_columns=SERIES_TEXT, decimals=6)
        insert_frame(Forecast._meta.db_table, forecast_rows, text_columns=FORECAST_TEXT, decimals=4)
        insert_frame(Forecast._meta.db_table, product_rows, text_columns=FORECAST_TEXT, decimals=4)
        locked.status = ForecastChunk.Status.DONE
        locked.seconds = seconds
        locked.partials = partials
        locked.save(update_fields=["status", "seconds", "partials"])
        return _count_chunk(run.pk, done=len(series_rows) - failed, failed=failed)


def _num(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


def _count_chunk(run_id: int, *, done: int, failed: int) -> bool:
    """Add a finished chunk to the run's counters; True for the call that finished the last one."""
    ForecastRun.objects.filter(pk=run_id).update(
        chunks_done=F("chunks_done") + 1, series_done=F("series_done") + done,
        series_failed=F("series_failed") + failed)
    run = ForecastRun.objects.select_for_update().get(pk=run_id)
    run.percent = round(95 * run.chunks_done / max(run.chunks_total, 1), 1)
    run.save(update_fields=["percent", "updated_at"])
    return run.chunks_done == run.chunks_total


def forecast_chunk_fail(*, run_id: int, index: int, error: str) -> bool:
    """Give up on a chunk after its retries: its series are failed with the error; the run goes on."""
    with transaction.atomic():
        chunk = ForecastChunk.objects.select_for_update().select_related("run").get(run_id=run_id, index=index)
        if chunk.status != ForecastChunk.Status.PENDING:
            return False
        chunk.status = ForecastChunk.Status.FAILED
        chunk.error = error[:5000]
        chunk.save(update_fields=["status", "error"])
        ForecastSeries.objects.bulk_create(
            [ForecastSeries(run_id=run_id, product_id=p, territory_id=t, status="failed", error=error[:2000])
             for p, t in chunk.series_keys], ignore_conflicts=True)
        return _count_chunk(run_id, done=0, failed=len(chunk.series_keys))


def forecast_run_finish(*, run_id: int) -> ForecastRun:
    """Reconcile the hierarchy, record accuracy, mark the run done, start what follows."""
    run = ForecastRun.objects.get(pk=run_id)
    if run.status not in (ForecastRun.Status.RUNNING, ForecastRun.Status.QUEUED):
        return run  # finished already (a redelivered finish)
    try:
        with transaction.atomic():
            _write_levels(run)
            _write_backtest_accuracy(run)
            run.status = (ForecastRun.Status.COMPLETED_WITH_ERRORS if run.series_failed
                          else ForecastRun.Status.COMPLETED)
            if run.series_total == 0:
                run.error = "No demand history in the window: nothing to forecast."
    except Exception as exc:  # the run must end in a visible state, whatever broke
        log.exception("forecast run %s failed while finishing", run_id)
        run.status = ForecastRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
    ForecastRun.objects.filter(pk=run.pk).update(
        status=run.status, error=run.error, percent=100, finished_at=timezone.now(), updated_at=timezone.now())
    run.refresh_from_db()
    event_emit(type="forecast_run.finished", data={
        "id": run.pk, "status": run.status, "as_of": run.as_of.isoformat(), "series_total": run.series_total,
        "series_failed": run.series_failed, "error": run.error,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "url": f"/api/v1/forecast-runs/{run.pk}/"})
    then = run.parameters.get("then_plan_run_id")
    if then and run.status == ForecastRun.Status.FAILED:
        from sop.services import plan_run_fail

        plan_run_fail(run_id=then, error=f"Its forecast run {run.pk} failed: {run.error}")
    elif then:
        from sop.tasks import plan_run_reconcile_task

        transaction.on_commit(lambda: plan_run_reconcile_task.delay(then))
    return run


FORECAST_COLUMNS = ["run_id", "level", "series_key", "product_id", "family_id", "territory_id", "period_start",
                    "point", "lo80", "hi80", "lo95", "hi95", "model"]
UPPER_LEVELS = ("family", "region", "family_region", "total")


def _chunk_levels(run: ForecastRun, leaf: pd.DataFrame, meta: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """A chunk's product-level forecasts (its products are whole) and its partial sums for
    the levels above, which the finishing step adds up across chunks."""
    if leaf.empty:
        return pd.DataFrame(columns=FORECAST_COLUMNS), {}
    base = leaf.drop(columns=["family_id"]).merge(meta[["product_id", "territory_id", "family_id", "region_code"]],
                      on=["product_id", "territory_id"], how="left")
    sums = levels.level_sums(base)
    products = levels.level_bounds(sums["product"], "product")
    products["family_id"] = products["product_id"].map(dict(zip(meta["product_id"], meta["family_id"],
                                                                strict=True)))
    product_rows = _level_rows(run, "product", products, {}, {})
    partials = {}
    for level in UPPER_LEVELS:
        frame = sums[level].copy()
        frame["period_start"] = frame["period_start"].map(lambda d: d.isoformat() if hasattr(d, "isoformat") else d)
        partials[level] = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return product_rows, partials


def _level_rows(run: ForecastRun, level: str, frame: pd.DataFrame, family_codes: dict, region_ids: dict
                ) -> pd.DataFrame:
    out = pd.DataFrame({"period_start": frame["period_start"]})
    product = frame["product_id"] if "product_id" in frame else None
    family = frame["family_id"] if "family_id" in frame else None
    region = frame["region_code"] if "region_code" in frame else None
    out["product_id"] = product
    out["family_id"] = family
    out["territory_id"] = region.map(region_ids) if region is not None else None
    if level == "product":
        out["series_key"] = "p:" + product.astype(str)
    elif level == "family":
        out["series_key"] = "f:" + family.map(family_codes).astype(str)
    elif level == "region":
        out["series_key"] = "r:" + region.astype(str)
    elif level == "family_region":
        out["series_key"] = "f:" + family.map(family_codes).astype(str) + "|r:" + region.astype(str)
    else:
        out["series_key"] = "total"
    for column in ("point", "lo80", "hi80", "lo95", "hi95"):
        out[column] = frame[column].to_numpy()
    out["level"] = level
    out["run_id"] = run.pk
    out["model"] = "bottom-up"
    for column in ("product_id", "family_id", "territory_id"):
        out[column] = pd.array(out[column], dtype="Int64") if out[column].notna().any() else pd.array(
            [pd.NA] * len(out), dtype="Int64")
    return out[FORECAST_COLUMNS]


def _write_levels(run: ForecastRun) -> None:
    """Add up the chunks' partial sums into the family, region, family × region and total
    levels (the product level was written by each chunk)."""
    from inventory.models import ProductFamily
    from territories.models import Territory

    Forecast.objects.filter(run=run, level__in=UPPER_LEVELS).delete()
    partials = [p for p in run.chunks.filter(status=ForecastChunk.Status.DONE).values_list("partials", flat=True)
                if p]
    if not partials:
        return
    family_codes = dict(ProductFamily.objects.values_list("id", "code"))
    region_ids = dict(Territory.objects.filter(parent__isnull=True).values_list("code", "id"))
    rows = []
    for level in UPPER_LEVELS:
        parts = [pd.DataFrame.from_records(p[level]) for p in partials if p.get(level)]
        if not parts:
            continue
        sums = levels.add_sums(parts, level)
        sums["period_start"] = pd.to_datetime(sums["period_start"]).dt.date
        if "family_id" in sums:
            sums["family_id"] = sums["family_id"].astype("Int64")
        rows.append(_level_rows(run, level, levels.level_bounds(sums, level), family_codes, region_ids))
    insert_frame(Forecast._meta.db_table, pd.concat(rows, ignore_index=True), text_columns=FORECAST_TEXT,
                 decimals=4)


def _write_backtest_accuracy(run: ForecastRun) -> None:
    series = pd.DataFrame.from_records(
        ForecastSeries.objects.filter(run=run, status="ok").values_list("product_id", "territory_id", "smape",
                                                                         "mase", "wape", "bias"),
        columns=["product_id", "territory_id", "smape", "mase", "wape", "bias"])
    ForecastAccuracy.objects.filter(run=run, source="backtest").delete()
    if series.empty:
        return
    summary = series[["smape", "mase", "wape", "bias"]].astype(float).mean(skipna=True)
    ForecastAccuracy.objects.create(
        run=run, level="total", series_key="all series (mean of backtests)", source="backtest",
        n=len(series), smape=_num(summary["smape"]), mase=_num(summary["mase"]), wape=_num(summary["wape"]),
        bias=_num(summary["bias"]))


def forecast_run_execute(run: ForecastRun, *, say: Callable[[str], None] = lambda _m: None) -> ForecastRun:
    """All steps in this process, in order (no workers needed)."""
    indexes = forecast_run_plan(run_id=run.pk)
    run.refresh_from_db()
    say(f"forecast run {run.pk}: {run.series_total:,} series in {len(indexes)} chunks")
    for index in indexes:
        try:
            forecast_chunk_process(run_id=run.pk, index=index)
        except Exception as exc:
            log.exception("chunk %s of run %s failed", index, run.pk)
            forecast_chunk_fail(run_id=run.pk, index=index, error=f"{type(exc).__name__}: {exc}")
        run.refresh_from_db()
        say(f"  {run.percent:5.1f} %  {run.series_done:,} series done, {run.series_failed:,} failed")
    return forecast_run_finish(run_id=run.pk)
