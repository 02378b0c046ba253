"""Forecast runs: start, plan into chunks, process chunks (any worker, any order, each written
exactly once), finish (hierarchy, accuracy, status) and call the run's follow-up
(``forecasting.follow_ups``: sop's plan run waits on it); and the reaper's share for forecast
runs.

State lives in the database, not in the broker: the run's status and each chunk's
(pending → running → done | failed, attempts, heartbeat). Messages only nudge the workers
(``core/runs.py``): one lost with its worker or with Redis is sent again by
:func:`forecast_runs_reap`. Celery tasks call the ``*_step`` functions one to one;
``forecast_run_execute`` runs the same steps in-process (command line, ``make run``'s
nightly chain, tests).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from core import runs
from core.bulk.insert import insert_frame
from core.calendar import month_ordinal, ordinal_month
from core.db import lock_for_transaction
from core.errors import ApplicationError
from core.services import planning_horizon
from forecasting import follow_ups, levels
from forecasting.engine import forecast_frame, seasonal_profiles
from forecasting.engine.hierarchy import coherent_levels
from forecasting.engine.panel import panel_from_frame
from forecasting.models import (
    Forecast,
    ForecastAccuracy,
    ForecastChunk,
    ForecastRun,
    ForecastSeries,
)
from forecasting.selectors import (
    NO_TERRITORY,
    demand_history_frame,
    family_history_frame,
    run_leaf_forecasts_frame,
    series_ids,
    series_universe,
    territory_regions,
)
from inventory.models import Product, ProductFamily
from territories.models import Territory
from webhooks.services import event_emit

log = logging.getLogger(__name__)

DEFAULT_PARAMETERS = {"history_months": 36, "chunk_size": 500}
ACTIVE = ForecastRun.ACTIVE_STATUSES
Chunk = ForecastChunk.Status


# ---------------------------------------------------------------------------------------
# Starting a run
# ---------------------------------------------------------------------------------------


def forecast_run_create(
    *,
    as_of: dt.date | None = None,
    trigger: str = ForecastRun.Trigger.USER,
    user=None,
    parameters: dict | None = None,
    horizon: int | None = None,
    season_length: int = 12,
    follow_up: tuple[str, int] | None = None,
) -> ForecastRun:
    """A queued forecast run; ``horizon`` defaults to the organisation's planning horizon (the
    plan runs plan over the same months). ``follow_up`` = (registered name, target id): called
    once when the run ends (``forecasting.follow_ups``)."""
    params = {**DEFAULT_PARAMETERS, **(parameters or {}), **follow_ups.as_parameter(follow_up)}
    horizon = planning_horizon() if horizon is None else horizon
    if not 1 <= horizon <= 60:
        raise ApplicationError(gettext("horizon must be between 1 and 60 months."), code="invalid_horizon")
    if int(params["chunk_size"]) < 1:
        raise ApplicationError(gettext("chunk_size must be positive."), code="invalid_chunk_size")
    return ForecastRun.objects.create(
        as_of=as_of or timezone.localdate(),
        trigger=trigger,
        triggered_by=user if getattr(user, "is_authenticated", False) else None,
        parameters=params,
        horizon=horizon,
        season_length=season_length,
    )


def forecast_run_refuse_second() -> None:
    """One active forecast run at a time: 409 naming the active one. Call inside the
    transaction that creates the run (it holds the start lock until that commits)."""
    lock_for_transaction("forecast-run-start")
    active = ForecastRun.objects.filter(status__in=ACTIVE).order_by("id").first()
    if active is not None:
        raise runs.run_in_progress(
            active,
            kind=_("forecast run"),
            url=reverse("forecast-runs-detail", args=[active.pk]),
            page_url=reverse("forecasting:run", args=[active.pk]),
        )


def forecast_run_start(
    *,
    as_of: dt.date | None = None,
    trigger: str = ForecastRun.Trigger.USER,
    user=None,
    parameters: dict | None = None,
    horizon: int | None = None,
) -> ForecastRun:
    """Start a run on the workers (page, API): refused with 503 while the task queue is down
    (no run is recorded that no worker could hear of) and with 409 while another forecast run
    is active."""
    runs.require_queue()
    with transaction.atomic():
        forecast_run_refuse_second()
        run = forecast_run_create(as_of=as_of, trigger=trigger, user=user, parameters=parameters, horizon=horizon)
        forecast_run_enqueue(run)
    return run


def forecast_run_enqueue(run: ForecastRun) -> None:
    """Send the run's first step once the surrounding transaction commits (a lost message is
    sent again by the reaper: the run is recorded as queued)."""
    # Here, not at the top: forecasting.tasks imports this module.
    from forecasting.tasks import forecast_run_start_task

    runs.send_on_commit(forecast_run_start_task, run.pk)


def _announce_finished(run: ForecastRun) -> None:
    """Tell the subscribed ERP systems that the run ended (``forecast_run.finished``)."""
    event_emit(
        type="forecast_run.finished",
        data={
            "id": run.pk,
            "status": run.status,
            "as_of": run.as_of.isoformat(),
            "series_total": run.series_total,
            "series_failed": run.series_failed,
            "error": run.error,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "url": f"/api/v1/forecast-runs/{run.pk}/",
        },
    )


def forecast_run_fail(*, run_id: int, error: str) -> None:
    """End an active run as failed with ``error``, then call its follow-up."""
    now = timezone.now()
    ended = ForecastRun.objects.filter(pk=run_id, status__in=ACTIVE).update(
        status=ForecastRun.Status.FAILED,
        error=error[:5000],
        percent=100,
        finished_at=now,
        heartbeat_at=now,
        claimed_by="",
        updated_at=now,
    )
    run = ForecastRun.objects.get(pk=run_id)
    if ended:
        _announce_finished(run)
        follow_ups.call(run)


# ---------------------------------------------------------------------------------------
# Planning: the run's series in chunks
# ---------------------------------------------------------------------------------------


def forecast_run_plan(*, run_id: int, task_id: str | None = None) -> list[int] | None:
    """Split the run's series into chunks, once. Returns the new chunks' indexes (``[]``: no
    series, the run goes straight to its finishing step), or None when there is nothing for
    this delivery to do (planned already, taken by a live delivery, or ended). Any error but
    an outage ends the run failed with its message; an outage is raised for a retry."""
    token = runs.new_claim(task_id)
    claim = runs.claim_step(ForecastRun, run_id, token=token, task_id=task_id, statuses=(ForecastRun.Status.QUEUED,))
    if claim == runs.Claim.EXHAUSTED:
        forecast_run_fail(
            run_id=run_id,
            error=_("No worker could split the run into chunks in %(n)s attempts.") % {"n": runs.max_attempts()},
        )
    if claim != runs.Claim.CLAIMED:
        return None
    try:
        # The reads come first, beating, without holding the run's row (so the heartbeat lands).
        with runs.heartbeat(ForecastRun.objects.filter(pk=run_id, claimed_by=token)):
            run = ForecastRun.objects.get(pk=run_id)
            universe = series_universe(as_of=run.as_of, history_months=run.parameters["history_months"])
            keys = [
                [int(p), None if pd.isna(t) else int(t)]
                for p, t in zip(universe["product_id"], universe["territory_id"], strict=True)
            ]
            parts = _split(keys, int(run.parameters["chunk_size"]))
            profiles = _family_profiles(run)
        with transaction.atomic():
            run = ForecastRun.objects.select_for_update().get(pk=run_id)
            if run.status != ForecastRun.Status.QUEUED or run.claimed_by != token:
                return None  # taken back meanwhile: its new holder plans
            ForecastChunk.objects.bulk_create(
                [ForecastChunk(run=run, index=i, series_keys=part) for i, part in enumerate(parts)]
            )
            now = timezone.now()
            run.parameters = {**run.parameters, "family_profiles": profiles}
            run.series_total = len(keys)
            run.chunks_total = len(parts)
            run.status = ForecastRun.Status.RUNNING
            run.started_at = now
            run.heartbeat_at = now
            run.attempts = 0  # the next step (finishing) counts its own attempts
            run.claimed_by = ""
            run.percent = 0 if parts else 99
            run.save()
            return list(range(len(parts)))
    except Exception as exc:
        runs.forget_broken_connection(exc)
        if isinstance(exc, runs.TRANSIENT_ERRORS):
            runs.release_step(ForecastRun, run_id, token=token)
            raise
        log.exception("forecast run %s could not be planned", run_id)
        forecast_run_fail(
            run_id=run_id, error=_("Could not split the run into chunks: %(error)s") % {"error": runs.describe(exc)}
        )
        return None


def forecast_run_plan_step(*, run_id: int, task_id: str | None = None) -> None:
    """The workers' first step: plan, then send every chunk (or the finishing step)."""
    # Here, not at the top: forecasting.tasks imports this module.
    from forecasting.tasks import forecast_chunk_task, forecast_run_finish_task

    indexes = forecast_run_plan(run_id=run_id, task_id=task_id)
    if indexes is None:
        return
    if not indexes:
        runs.send(forecast_run_finish_task, run_id)
    for index in indexes:
        runs.send(forecast_chunk_task, run_id, index)


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
    history = family_history_frame(as_of=run.as_of, history_months=run.parameters["history_months"])
    if history.empty:
        return {}
    panel, _errors = panel_from_frame(history)
    profiles = seasonal_profiles(panel, np.asarray(panel.ids), run.season_length)
    return {str(k): [round(float(x), 6) for x in v] for k, v in profiles.items()}


def _family_groups(series: pd.DataFrame) -> pd.Series:
    """Series id → family: new products borrow the seasonal profile of their family."""
    return pd.Series(series["family_id"].astype(str).to_numpy(), index=series_ids(series).to_numpy())


# ---------------------------------------------------------------------------------------
# Chunks: claim, forecast and save (exactly once), release after a failure
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkOutcome:
    retry: bool = False  # released after a failure with attempts left: send it again
    last: bool = False  # this call ended the run's last chunk: send the finishing step


def _stale(heartbeat_at: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    return heartbeat_at is None or heartbeat_at < runs.stale_before(now)


def forecast_chunk_claim(*, run_id: int, index: int, task_id: str | None = None) -> tuple[str | None, bool]:
    """Take chunk ``index`` for this delivery: (claim token, False). (None, False) when there is
    nothing to do: done or failed already, held by a live delivery, the run ended. A running
    chunk whose worker went silent after its last attempt is failed here: (None, last)."""
    token = runs.new_claim(task_id)
    now = timezone.now()
    with transaction.atomic():
        chunk = (
            ForecastChunk.objects.select_for_update(of=("self",)).select_related("run").get(run_id=run_id, index=index)
        )
        if chunk.run.status not in ACTIVE or chunk.status in (Chunk.DONE, Chunk.FAILED):
            return None, False
        if chunk.status == Chunk.RUNNING and not (
            _stale(chunk.heartbeat_at, now) or runs.same_message(chunk.claimed_by, task_id)
        ):
            return None, False
        if chunk.attempts >= runs.max_attempts():
            return None, _chunk_fail(chunk, chunk.error or _("its worker was lost"))
        ForecastChunk.objects.filter(pk=chunk.pk).update(
            status=Chunk.RUNNING, claimed_by=token, attempts=F("attempts") + 1, heartbeat_at=now
        )
        ForecastRun.objects.filter(pk=run_id).update(heartbeat_at=now)
    return token, False


def forecast_chunk_process(*, run_id: int, index: int, token: str) -> bool:
    """Forecast a claimed chunk and save it. Returns True when this call completed the run's
    last chunk. A worker stamps its heartbeat meanwhile (``RUN_HEARTBEAT_SECONDS``)."""
    chunk = ForecastChunk.objects.select_related("run").get(run_id=run_id, index=index)
    run = chunk.run
    beating = (
        ForecastChunk.objects.filter(pk=chunk.pk, claimed_by=token, status=Chunk.RUNNING),
        ForecastRun.objects.filter(pk=run_id, status__in=ACTIVE),
    )
    with runs.heartbeat(*beating):
        started = time.monotonic()
        keys = pd.DataFrame(chunk.series_keys, columns=["product_id", "territory_id"])
        meta = _series_meta(keys)
        history = demand_history_frame(as_of=run.as_of, history_months=run.parameters["history_months"], series=meta)
        # Every series ends at the run's last complete month (a series without recent sales has
        # zero demand there, not an earlier end), so step 1 is the same month for all of them.
        last = _last_history_ordinal(run.as_of)
        tail = pd.DataFrame({"series_id": series_ids(meta).tolist(), "period": last, "value": 0.0})
        history = pd.concat([history, tail], ignore_index=True).drop_duplicates(["series_id", "period"], keep="first")
        history = history.sort_values(["series_id", "period"], kind="stable")
        profiles = {k: np.asarray(v) for k, v in run.parameters.get("family_profiles", {}).items()}
        result = forecast_frame(
            history,
            horizon=run.horizon,
            season_length=run.season_length,
            series_groups=_family_groups(meta),
            group_profiles=profiles or None,
        )
        return _chunk_save(chunk, meta, result, token=token, seconds=time.monotonic() - started)


def forecast_chunk_release(*, run_id: int, index: int, token: str, error: str) -> ChunkOutcome:
    """After a failed attempt: back to pending for another one, or failed (its series recorded
    as failed with ``error``) once its attempts are used up."""
    with transaction.atomic():
        chunk = ForecastChunk.objects.select_for_update().get(run_id=run_id, index=index)
        if chunk.status != Chunk.RUNNING or chunk.claimed_by != token:
            return ChunkOutcome()  # taken back meanwhile (the reaper): no longer ours to release
        if chunk.attempts < runs.max_attempts():
            chunk.status, chunk.claimed_by, chunk.error = Chunk.PENDING, "", error[:5000]
            chunk.save(update_fields=["status", "claimed_by", "error"])
            return ChunkOutcome(retry=True)
        return ChunkOutcome(last=_chunk_fail(chunk, error))


def forecast_chunk_attempt(*, run_id: int, index: int, task_id: str | None = None) -> ChunkOutcome:
    """One attempt at a chunk: claim, forecast, save; on an error, release it (an outage that
    keeps even the release from being written is raised, for the task to retry)."""
    token, last = forecast_chunk_claim(run_id=run_id, index=index, task_id=task_id)
    if token is None:
        return ChunkOutcome(last=last)
    try:
        return ChunkOutcome(last=forecast_chunk_process(run_id=run_id, index=index, token=token))
    except Exception as exc:
        runs.forget_broken_connection(exc)
        log.warning(
            "chunk %s of forecast run %s failed: %s",
            index,
            run_id,
            runs.describe(exc, 500),
            exc_info=not isinstance(exc, runs.TRANSIENT_ERRORS),
        )
        return forecast_chunk_release(run_id=run_id, index=index, token=token, error=runs.describe(exc))


def forecast_chunk_step(*, run_id: int, index: int, task_id: str | None = None) -> None:
    """A worker's chunk: one attempt, then send what follows (the chunk again after a pause,
    or the run's finishing step)."""
    # Here, not at the top: forecasting.tasks imports this module.
    from forecasting.tasks import forecast_chunk_task, forecast_run_finish_task

    outcome = forecast_chunk_attempt(run_id=run_id, index=index, task_id=task_id)
    if outcome.retry:
        attempts = ForecastChunk.objects.filter(run_id=run_id, index=index).values_list("attempts", flat=True)
        runs.send(forecast_chunk_task, run_id, index, countdown=min(2 ** (attempts.first() or 1), 30))
    if outcome.last:
        runs.send(forecast_run_finish_task, run_id)


def _last_history_ordinal(as_of: dt.date) -> int:
    return month_ordinal(as_of) - 1  # the month before as_of's month


def _series_meta(keys: pd.DataFrame) -> pd.DataFrame:
    meta = keys.astype({"product_id": "int64", "territory_id": "Int64"})
    families = dict(Product.objects.filter(pk__in=meta["product_id"].unique().tolist()).values_list("id", "family_id"))
    meta["family_id"] = meta["product_id"].map(families)
    meta["region_code"] = meta["territory_id"].map(territory_regions()).fillna(NO_TERRITORY).astype(object)
    return meta


SERIES_TEXT = ("status", "model", "demand_class", "history_class", "reason", "error")
FORECAST_TEXT = ("level", "series_key", "model")


def _chunk_save(chunk: ForecastChunk, meta: pd.DataFrame, result, *, token: str, seconds: float) -> bool:
    """Save a chunk's series and forecasts in one transaction, only while this delivery still
    holds the chunk: each series is written exactly once, whatever was redelivered."""
    run = chunk.run
    keys = meta[["product_id", "territory_id"]].copy()
    keys["series_id"] = series_ids(keys)
    errors = (
        result.errors.drop_duplicates("series_id")
        if len(result.errors)
        else pd.DataFrame(columns=["series_id", "error"])
    )
    chosen = result.series[~result.series["series_id"].isin(errors["series_id"])]

    series = keys.merge(chosen, on="series_id", how="left").merge(errors, on="series_id", how="left")
    missing = series["model"].isna() & series["error"].isna()
    series.loc[missing, "error"] = "no forecast produced"
    series["status"] = np.where(series["error"].notna(), "failed", "ok")
    series["history_periods"] = pd.to_numeric(series.get("n_obs"), errors="coerce").fillna(0).astype(int)
    series_rows = pd.DataFrame(
        {
            "run_id": run.pk,
            "product_id": series["product_id"],
            "territory_id": series["territory_id"],
            "status": series["status"],
            "history_periods": series["history_periods"],
            **{
                c: series[c].fillna("").astype(str)
                for c in ("model", "demand_class", "history_class", "reason", "error")
            },
            **{
                c: pd.to_numeric(series[c], errors="coerce").replace([np.inf, -np.inf], np.nan)
                for c in ("smape", "mase", "wape", "bias")
            },
        }
    )
    series_rows.loc[series_rows["status"] == "failed", "model"] = ""

    first = _last_history_ordinal(run.as_of)
    forecasts = result.forecasts[result.forecasts["series_id"].isin(chosen["series_id"])].merge(
        keys, on="series_id", how="inner"
    )
    periods = {step: ordinal_month(first + step) for step in range(1, run.horizon + 1)}
    forecast_rows = pd.DataFrame(
        {
            "run_id": run.pk,
            "level": "product_territory",
            "series_key": forecasts["series_id"],
            "product_id": forecasts["product_id"],
            "family_id": None,
            "territory_id": forecasts["territory_id"],
            "period_start": forecasts["step"].astype(int).map(periods),
            **{
                c: forecasts[src].astype(float)
                for c, src in (
                    ("point", "forecast"),
                    ("lo80", "lo80"),
                    ("hi80", "hi80"),
                    ("lo95", "lo95"),
                    ("hi95", "hi95"),
                )
            },
            "model": forecasts["model"].astype(str),
        }
    )
    product_rows, partials = _chunk_levels(run, forecast_rows, meta)
    partials["backtest"] = levels.backtest_sums(result.backtest, meta)
    failed = int((series_rows["status"] == "failed").sum())
    with transaction.atomic():
        locked = ForecastChunk.objects.select_for_update().get(pk=chunk.pk)
        if locked.status != Chunk.RUNNING or locked.claimed_by != token:
            return False  # taken back meanwhile (this worker was thought lost): the new holder writes
        # The chunk row is locked and held by this delivery, so its series have no rows yet:
        # every other delivery stops above (and the run × series keys are unique as well).
        insert_frame(ForecastSeries._meta.db_table, series_rows, text_columns=SERIES_TEXT, decimals=6)
        insert_frame(Forecast._meta.db_table, forecast_rows, text_columns=FORECAST_TEXT, decimals=4)
        insert_frame(Forecast._meta.db_table, product_rows, text_columns=FORECAST_TEXT, decimals=4)
        locked.status = Chunk.DONE
        locked.seconds = seconds
        locked.partials = partials
        locked.heartbeat_at = timezone.now()
        locked.save(update_fields=["status", "seconds", "partials", "heartbeat_at"])
        return _count_chunk(run.pk, done=len(series_rows) - failed, failed=failed)


def _num(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


def _count_chunk(run_id: int, *, done: int, failed: int) -> bool:
    """Add an ended chunk (done or failed) to the run's counters; True for the call that
    ended the last one."""
    now = timezone.now()
    ForecastRun.objects.filter(pk=run_id).update(
        chunks_done=F("chunks_done") + 1,
        series_done=F("series_done") + done,
        series_failed=F("series_failed") + failed,
        heartbeat_at=now,
    )
    run = ForecastRun.objects.select_for_update().get(pk=run_id)
    run.percent = round(95 * run.chunks_done / max(run.chunks_total, 1), 1)
    run.save(update_fields=["percent", "updated_at"])
    return run.chunks_done == run.chunks_total


def _chunk_fail(chunk: ForecastChunk, error: str) -> bool:
    """Fail a locked chunk for good: its series are recorded as failed with ``error``; the run
    goes on. Returns True when it was the run's last chunk. Never stopped by its own series:
    those whose product or territory was deleted meanwhile are counted, not recorded."""
    chunk.status, chunk.claimed_by, chunk.error = Chunk.FAILED, "", error[:5000]
    chunk.save(update_fields=["status", "claimed_by", "error"])
    keys = chunk.series_keys
    products = set(Product.objects.filter(pk__in={p for p, _t in keys}).values_list("id", flat=True))
    territories = set(Territory.objects.filter(pk__in={t for _p, t in keys if t}).values_list("id", flat=True))
    ForecastSeries.objects.bulk_create(
        [
            ForecastSeries(run_id=chunk.run_id, product_id=p, territory_id=t, status="failed", error=error[:2000])
            for p, t in keys
            if p in products and (t is None or t in territories)
        ],
        ignore_conflicts=True,
    )
    return _count_chunk(chunk.run_id, done=0, failed=len(chunk.series_keys))


# ---------------------------------------------------------------------------------------
# Finishing: the levels above the products, accuracy, the final status, the hand-over
# ---------------------------------------------------------------------------------------


def _failed_chunks_summary(run: ForecastRun) -> str:
    failed = list(
        run.chunks.filter(status=Chunk.FAILED).order_by("index").values("index", "series_keys", "error", "attempts")
    )
    if not failed:
        return ""
    first = failed[0]
    return _(
        "%(n)s of %(total)s chunks failed after %(attempts)s attempts (%(series)s series); chunk %(index)s: %(error)s"
    ) % {
        "n": len(failed),
        "total": run.chunks_total,
        "attempts": first["attempts"],
        "series": sum(len(c["series_keys"]) for c in failed),
        "index": first["index"],
        "error": first["error"],
    }


def forecast_run_finish(*, run_id: int, task_id: str | None = None) -> ForecastRun:
    """Reconcile the hierarchy, record accuracy, end the run (completed, completed with
    errors and why, or failed), then start the plan run waiting for it. Any error but an
    outage fails the run with its message; an outage is raised for a retry."""
    token = runs.new_claim(task_id)
    claim = runs.claim_step(ForecastRun, run_id, token=token, task_id=task_id, statuses=(ForecastRun.Status.RUNNING,))
    if claim == runs.Claim.EXHAUSTED:
        forecast_run_fail(
            run_id=run_id, error=_("No worker could finish the run in %(n)s attempts.") % {"n": runs.max_attempts()}
        )
    if claim != runs.Claim.CLAIMED:
        return ForecastRun.objects.get(pk=run_id)
    if ForecastChunk.objects.filter(run_id=run_id, status__in=[Chunk.PENDING, Chunk.RUNNING]).exists():
        runs.release_step(ForecastRun, run_id, token=token)  # sent too early: the last chunk sends it
        return ForecastRun.objects.get(pk=run_id)
    try:
        with runs.heartbeat(ForecastRun.objects.filter(pk=run_id, claimed_by=token)), transaction.atomic():
            run = ForecastRun.objects.select_for_update().get(pk=run_id)
            if run.status != ForecastRun.Status.RUNNING or run.claimed_by != token:
                return run
            write_coherent_levels(run)
            _write_backtest_accuracy(run)
            status = ForecastRun.Status.COMPLETED_WITH_ERRORS if run.series_failed else ForecastRun.Status.COMPLETED
            error = _failed_chunks_summary(run)
            if run.series_total == 0:
                error = "No demand history in the window: nothing to forecast."
            now = timezone.now()
            ForecastRun.objects.filter(pk=run.pk).update(
                status=status,
                error=error,
                percent=100,
                finished_at=now,
                heartbeat_at=now,
                claimed_by="",
                updated_at=now,
            )
    except Exception as exc:  # the run must end in a visible state, whatever broke
        runs.forget_broken_connection(exc)
        if isinstance(exc, runs.TRANSIENT_ERRORS):
            runs.release_step(ForecastRun, run_id, token=token)
            raise
        log.exception("forecast run %s failed while finishing", run_id)
        forecast_run_fail(run_id=run_id, error=runs.describe(exc, 5000))
        return ForecastRun.objects.get(pk=run_id)
    run = ForecastRun.objects.get(pk=run_id)
    _announce_finished(run)
    follow_ups.call(run)
    return run


# ---------------------------------------------------------------------------------------
# The reaper's share: take back what went silent, send again what was lost
# ---------------------------------------------------------------------------------------


def _chunk_take_back(chunk_pk: int, now: dt.datetime) -> tuple[str, bool]:
    """A running chunk whose worker went silent: back to pending, or failed after its last
    attempt. Returns (what happened, whether that ended the run's last chunk)."""
    with transaction.atomic():
        chunk = ForecastChunk.objects.select_for_update().get(pk=chunk_pk)
        if chunk.status != Chunk.RUNNING or not _stale(chunk.heartbeat_at, now):
            return "alive", False
        silent = _("its worker went silent (no heartbeat for %(s)s s)") % {"s": int(settings.RUN_STALE_SECONDS)}
        if chunk.attempts >= runs.max_attempts():
            return "failed", _chunk_fail(chunk, f"{silent}; {chunk.error}" if chunk.error else silent)
        chunk.status, chunk.claimed_by, chunk.error = Chunk.PENDING, "", silent
        chunk.save(update_fields=["status", "claimed_by", "error"])
        return "requeued", False


def forecast_runs_reap(*, now: dt.datetime | None = None) -> Counter:
    """Chunks whose worker went silent are taken back (sent again, or failed after their
    attempts); active runs without a sign of life for ``RUN_STALE_SECONDS`` get their
    current step sent again (planning, the pending chunks, or finishing). Safe to run
    concurrently and often: each stalled run is acted on once per stale period."""
    # Here, not at the top: forecasting.tasks imports this module.
    from forecasting.tasks import (
        forecast_chunk_task,
        forecast_run_finish_task,
        forecast_run_start_task,
    )

    now = now or timezone.now()
    stale = runs.stale_before(now)
    done = Counter()
    silent = (
        ForecastChunk.objects.filter(status=Chunk.RUNNING, run__status__in=ACTIVE)
        .filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True))
        .values_list("pk", "run_id", "index")
    )
    for pk, run_id, index in list(silent):
        what, last = _chunk_take_back(pk, now)
        done[f"chunks_{what}"] += 1
        if what == "requeued":
            runs.send(forecast_chunk_task, run_id, index)
        if last:
            runs.send(forecast_run_finish_task, run_id)
    stalled = (
        ForecastRun.objects.filter(status__in=ACTIVE)
        .filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, created_at__lt=stale))
        .values_list("pk", "status", "heartbeat_at")
    )
    for run_id, status, heartbeat_at in list(stalled):
        # Stamp first: of concurrent reapers, only the one whose stamp lands acts on the run; the
        # silent holder of its step (if any) is presumed lost, so the step is free to take.
        if not ForecastRun.objects.filter(pk=run_id, heartbeat_at=heartbeat_at).update(heartbeat_at=now, claimed_by=""):
            continue
        done["runs_resent"] += 1
        if status == ForecastRun.Status.QUEUED:
            runs.send(forecast_run_start_task, run_id)
            continue
        states = dict(ForecastChunk.objects.filter(run_id=run_id).values_list("index", "status"))
        pending = [i for i, state in sorted(states.items()) if state == Chunk.PENDING]
        for index in pending:
            runs.send(forecast_chunk_task, run_id, index)
        if not pending and Chunk.RUNNING not in states.values():
            runs.send(forecast_run_finish_task, run_id)
    return done


FORECAST_COLUMNS = [
    "run_id",
    "level",
    "series_key",
    "product_id",
    "family_id",
    "territory_id",
    "period_start",
    "point",
    "lo80",
    "hi80",
    "lo95",
    "hi95",
    "model",
]
UPPER_LEVELS = ("family", "region", "family_region", "total")


def _chunk_levels(run: ForecastRun, leaf: pd.DataFrame, meta: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """A chunk's product-level forecasts (its products are whole) and its partial sums for
    the levels above, which the finishing step adds up across chunks."""
    if leaf.empty:
        return pd.DataFrame(columns=FORECAST_COLUMNS), {}
    base = leaf.drop(columns=["family_id"]).merge(
        meta[["product_id", "territory_id", "family_id", "region_code"]], on=["product_id", "territory_id"], how="left"
    )
    sums = levels.level_sums(base)
    products = levels.level_bounds(sums["product"], "product")
    products["family_id"] = products["product_id"].map(dict(zip(meta["product_id"], meta["family_id"], strict=True)))
    product_rows = _level_rows(run, "product", products, {}, {})
    partials = {}
    for level in UPPER_LEVELS:
        frame = sums[level].copy()
        frame["period_start"] = frame["period_start"].map(lambda d: d.isoformat() if hasattr(d, "isoformat") else d)
        partials[level] = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return product_rows, partials


def _level_rows(
    run: ForecastRun, level: str, frame: pd.DataFrame, family_codes: dict, region_ids: dict
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
        out[column] = (
            pd.array(out[column], dtype="Int64")
            if out[column].notna().any()
            else pd.array([pd.NA] * len(out), dtype="Int64")
        )
    return out[FORECAST_COLUMNS]


def _write_levels(run: ForecastRun) -> None:
    """Add up the chunks' partial sums into the family, region, family × region and total
    levels (the product level was written by each chunk)."""
    Forecast.objects.filter(run=run, level__in=UPPER_LEVELS).delete()
    partials = [p for p in run.chunks.filter(status=ForecastChunk.Status.DONE).values_list("partials", flat=True) if p]
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
    insert_frame(Forecast._meta.db_table, pd.concat(rows, ignore_index=True), text_columns=FORECAST_TEXT, decimals=4)


def _write_backtest_accuracy_by_level(run: ForecastRun) -> None:
    """WAPE and bias of the backtest at product, family, region and total level (summed
    forecasts against summed actuals), from the chunks' partial sums."""
    parts = [
        p["backtest"]
        for p in run.chunks.filter(status=ForecastChunk.Status.DONE).values_list("partials", flat=True)
        if p and p.get("backtest")
    ]
    table = levels.level_accuracy(parts)
    family_codes = dict(ProductFamily.objects.values_list("id", "code"))
    rows = []
    for r in table.itertuples():
        if r.node is None:
            key = levels.BACKTEST_LEVEL_KEYS[r.level]
        elif r.level == "family":
            key = f"f:{family_codes.get(int(r.node), r.node)}"
        else:
            key = f"r:{r.node}"
        rows.append(
            ForecastAccuracy(
                run=run, level=r.level, series_key=key, source="backtest", n=r.n, wape=_num(r.wape), bias=_num(r.bias)
            )
        )
    ForecastAccuracy.objects.bulk_create(rows)


def _write_backtest_accuracy(run: ForecastRun) -> None:
    series = pd.DataFrame.from_records(
        ForecastSeries.objects.filter(run=run, status="ok").values_list(
            "product_id", "territory_id", "smape", "mase", "wape", "bias"
        ),
        columns=["product_id", "territory_id", "smape", "mase", "wape", "bias"],
    )
    ForecastAccuracy.objects.filter(run=run, source="backtest").delete()
    if series.empty:
        return
    _write_backtest_accuracy_by_level(run)
    summary = series[["smape", "mase", "wape", "bias"]].astype(float).mean(skipna=True)
    ForecastAccuracy.objects.create(
        run=run,
        level="total",
        series_key=levels.SERIES_MEAN_KEY,
        source="backtest",
        n=len(series),
        smape=_num(summary["smape"]),
        mase=_num(summary["mase"]),
        wape=_num(summary["wape"]),
        bias=_num(summary["bias"]),
    )


def forecast_run_execute(run: ForecastRun, *, say: Callable[[str], None] = lambda _m: None) -> ForecastRun:
    """All steps in this process, in order (no workers needed); a failing chunk is tried
    ``RUN_MAX_ATTEMPTS`` times, as on the workers."""
    indexes = forecast_run_plan(run_id=run.pk)
    run.refresh_from_db()
    if indexes is None:
        say(f"forecast run {run.pk}: {run.status} {run.error}")
        return run
    say(f"forecast run {run.pk}: {run.series_total:,} series in {len(indexes)} chunks")
    for index in indexes:
        while forecast_chunk_attempt(run_id=run.pk, index=index).retry:
            pass
        run.refresh_from_db()
        say(f"  {run.percent:5.1f} %  {run.series_done:,} series done, {run.series_failed:,} failed")
    return forecast_run_finish(run_id=run.pk)


# ----------------------------------------------------------------------------- coherent levels

RUN_LEVELS = {
    "product_territory": ["product_id", "territory_id"],
    "product": ["product_id"],
    "territory": ["territory_id"],
    "family": ["family_id"],
    "region": ["region_code"],
    "family_region": ["family_id", "region_code"],
    "total": [],
}
RECONCILIATION = "wls_var"  # bench/README.md: lower WAPE than bottom-up at every level


def write_coherent_levels(run: ForecastRun) -> None:
    """Replace the run's forecasts by coherent ones at every level: each aggregate node
    (product, territory, family, region, family × region, total) is forecast from its own
    history and all nodes are reconciled by weighted least squares
    (``forecasting.engine.hierarchy.coherent_levels``), so every level adds up exactly.
    Falls back to the bottom-up sums if the reconciliation cannot be done."""
    leaf = run_leaf_forecasts_frame(run=run)
    if leaf.empty:
        return _write_levels(run)
    meta = _series_meta(leaf[["product_id", "territory_id"]].drop_duplicates().reset_index(drop=True))
    history = demand_history_frame(as_of=run.as_of, history_months=run.parameters["history_months"], series=meta)
    last = _last_history_ordinal(run.as_of)
    ids = meta["product_id"].astype(str) + ":" + meta["territory_id"].astype(str)
    tail = pd.DataFrame({"series_id": ids, "period": last, "value": 0.0})
    history = pd.concat([history, tail], ignore_index=True).drop_duplicates(["series_id", "period"], keep="first")
    keys = meta.assign(series_id=ids)
    leaf = leaf.assign(
        series_id=leaf["product_id"].astype(str) + ":" + leaf["territory_id"].astype(str),
        step=[month_ordinal(d) - last for d in leaf["period_start"]],
    )
    forecasts = leaf.rename(columns={"point": "forecast"})
    try:
        out = coherent_levels(
            forecasts,
            history,
            keys,
            horizon=run.horizon,
            season_length=run.season_length,
            levels=RUN_LEVELS,
            method=RECONCILIATION,
        )
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
        log.warning("forecast run %s: reconciliation failed (%s); levels are bottom-up sums", run.pk, exc)
        return _write_levels(run)
    rows = _coherent_rows(run, out, leaf, meta)
    with transaction.atomic():
        Forecast.objects.filter(run=run).delete()
        insert_frame(Forecast._meta.db_table, rows, text_columns=FORECAST_TEXT, decimals=4)


def _coherent_rows(run: ForecastRun, out: pd.DataFrame, leaf: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    family_codes = dict(ProductFamily.objects.values_list("id", "code"))
    territories = dict(Territory.objects.values_list("id", "code"))
    region_ids = dict(Territory.objects.filter(parent__isnull=True).values_list("code", "id"))
    family_of = dict(zip(meta["product_id"], meta["family_id"], strict=False))
    first = _last_history_ordinal(run.as_of)
    models_by_series = dict(zip(zip(leaf["product_id"], leaf["territory_id"], strict=True), leaf["model"], strict=True))
    frame = out.copy()
    level = frame["level"]
    product = frame["product_id"]
    territory = frame["territory_id"]
    family = frame["family_id"].where(level != "product", product.map(family_of))
    region = frame["region_code"]
    key = pd.Series("total", index=frame.index, dtype=object)
    key[level == "product_territory"] = (
        product.astype("Int64").astype(str) + ":" + territory.astype("Int64").astype(str)
    )
    key[level == "product"] = "p:" + product.astype("Int64").astype(str)
    key[level == "territory"] = "t:" + territory.map(territories).astype(str)
    key[level == "family"] = "f:" + frame["family_id"].map(family_codes).astype(str)
    key[level == "region"] = "r:" + region.astype(str)
    key[level == "family_region"] = "f:" + frame["family_id"].map(family_codes).astype(str) + "|r:" + region.astype(str)
    territory_id = territory.where(level.isin(["product_territory", "territory"]), region.map(region_ids))
    model = pd.Series(f"reconciled ({RECONCILIATION})", index=frame.index, dtype=object)
    bottom = level == "product_territory"
    model[bottom] = [models_by_series.get((p, t), "") for p, t in zip(product[bottom], territory[bottom], strict=True)]
    periods = {step: ordinal_month(first + step) for step in range(1, run.horizon + 1)}
    rows = pd.DataFrame(
        {
            "run_id": run.pk,
            "level": level,
            "series_key": key,
            "product_id": pd.array(product, dtype="Int64"),
            "family_id": pd.array(
                family.where(~level.isin(["product_territory", "territory", "region", "total"])), dtype="Int64"
            ),
            "territory_id": pd.array(territory_id, dtype="Int64"),
            "period_start": frame["step"].astype(int).map(periods),
            "point": frame["forecast"].astype(float),
            **{c: frame[c].astype(float) for c in ("lo80", "hi80", "lo95", "hi95")},
            "model": model,
        }
    )
    return rows[FORECAST_COLUMNS]
