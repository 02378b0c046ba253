"""Supply planning writes: plan runs (start, reconcile, store), alert lifecycle, capacity edits.

A plan run reads its inputs through ``sop.selectors``, computes with the pure
``sop.reconciliation`` / ``inventory.calculations`` / ``sop.alert_rules`` modules, then stores
the plan lines, loads and family plan set-based and upserts alerts by fingerprint.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pandas as pd
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from core import runs
from core.bulk.insert import insert_frame, stamps
from core.db import lock_for_transaction
from core.errors import ApplicationError
from core.models import Comment
from core.roles import has_role
from core.services import audit_record, comment_add, organisation_settings_get, planning_horizon
from forecasting import services as forecasting_services
from inventory.calculations import inventory_metrics
from inventory.models import Product, ProductFamily
from sop import extensions
from sop.alert_messages import alert_text
from sop.alert_rules import derive_alerts
from sop.demand_plan_store import demand_plan_feasible_store
from sop.models import (
    ALERT_HANDLERS,
    CapacityAlert,
    CapacityCalendar,
    FamilyPlan,
    PlanLine,
    PlanRun,
    WorkCenter,
    WorkCenterLoad,
)
from sop.reconciliation import reconcile
from sop.selectors import PlanInputs, plan_inputs
from territories.models import Territory
from webhooks.services import event_emit, events_emit

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------
# Starting runs
# ---------------------------------------------------------------------------------------


def plan_run_create(
    *, as_of: dt.date | None = None, trigger: str = PlanRun.Trigger.USER, user=None, parameters: dict | None = None
) -> PlanRun:
    as_of = as_of or timezone.localdate()
    return PlanRun.objects.create(
        as_of=as_of,
        horizon_start=as_of.replace(day=1),
        horizon_periods=planning_horizon(),
        trigger=trigger,
        triggered_by=user if getattr(user, "is_authenticated", False) else None,
        parameters=parameters or {},
    )


def plan_run_refuse_second(*, forecast: bool) -> None:
    """One active plan run at a time, and no second forecast run for one that forecasts
    first: 409 naming the active run. Call inside the transaction that creates the run."""
    lock_for_transaction("plan-run-start")
    active = PlanRun.objects.filter(status__in=PlanRun.ACTIVE_STATUSES).order_by("id").first()
    if active is not None:
        raise runs.run_in_progress(
            active,
            kind=_("plan run"),
            url=reverse("plan-runs-detail", args=[active.pk]),
            page_url=reverse("sop:run", args=[active.pk]),
        )
    if forecast:
        forecasting_services.forecast_run_refuse_second()


# The chain: a plan run that waits for its forecast run; the forecast run calls this
# follow-up when it ends (registered in SopConfig.ready), so forecasting never imports sop.
PLAN_RUN_FOLLOW_UP = "sop.plan_run"


def plan_chain_create(*, as_of: dt.date | None = None, trigger: str, user=None, forecast: bool = True) -> PlanRun:
    """Record the planning chain — the one chain of the nightly schedule, ``run_pipeline``
    (``make run``), the pages and the API: a plan run and, with ``forecast``, a forecast run
    over the same horizon that hands over to it when it ends. Call inside the transaction
    of :func:`plan_run_refuse_second`; the caller runs it on the workers or in-process."""
    run = plan_run_create(as_of=as_of, trigger=trigger, user=user, parameters={"forecast": forecast})
    if forecast:
        run.forecast_run = forecasting_services.forecast_run_create(
            as_of=run.as_of,
            trigger=trigger,
            user=user,
            horizon=run.horizon_periods,
            follow_up=(PLAN_RUN_FOLLOW_UP, run.pk),
        )
        run.save(update_fields=["forecast_run", "updated_at"])
    return run


def plan_run_after_forecast(forecast_run, plan_run_id: int) -> None:
    """The forecast run of a chain ended: reconcile on it, or fail the plan run with it."""
    if forecast_run.status == forecast_run.Status.FAILED:
        plan_run_fail(run_id=plan_run_id, error=f"Its forecast run {forecast_run.pk} failed: {forecast_run.error}")
        return
    # Here, not at the top: sop.tasks imports this module.
    from sop.tasks import plan_run_reconcile_task

    runs.send(plan_run_reconcile_task, plan_run_id)


def plan_run_start(
    *, as_of: dt.date | None = None, trigger: str = PlanRun.Trigger.USER, user=None, forecast: bool = True
) -> PlanRun:
    """Start the chain on the workers: a forecast run that hands over to this plan run, or the
    plan run alone. Refused with 503 while the task queue is down (nothing is recorded) and
    with 409 while a plan run (or, with ``forecast``, a forecast run) is active."""
    runs.require_queue()
    with transaction.atomic():
        plan_run_refuse_second(forecast=forecast)
        run = plan_chain_create(as_of=as_of, trigger=trigger, user=user, forecast=forecast)
        if run.forecast_run_id:
            forecasting_services.forecast_run_enqueue(run.forecast_run)
        else:
            plan_run_enqueue(run)
    return run


def plan_run_nightly() -> PlanRun | None:
    """The nightly chain (Celery beat): skipped, and logged, while a run is still active."""
    try:
        return plan_run_start(trigger=PlanRun.Trigger.SCHEDULE, forecast=True)
    except ApplicationError as exc:
        log.warning("nightly planning run not started: %s", exc.message)
        return None


def plan_chain_execute(
    *,
    as_of: dt.date | None = None,
    trigger: str = PlanRun.Trigger.PIPELINE,
    say: Callable[[str], None] = lambda _m: None,
) -> PlanRun:
    """The same chain as the nightly schedule, run in this process (``manage.py
    run_pipeline``, ``make run``): no workers needed. 409 while a run is active."""
    with transaction.atomic():
        plan_run_refuse_second(forecast=True)
        run = plan_chain_create(as_of=as_of, trigger=trigger, forecast=True)
    forecast_run = forecasting_services.forecast_run_execute(run.forecast_run, say=say)
    say(
        f"forecast run {forecast_run.pk} {forecast_run.status}: {forecast_run.series_done:,} series, "
        f"{forecast_run.series_failed:,} failed"
    )
    # The follow-up also sent the reconciliation to the workers; whoever comes first does it,
    # the other finds it done (plan_run_execute is idempotent).
    run = plan_run_execute(run_id=run.pk, say=say)
    say(
        f"plan run {run.pk} {run.status}: {run.plan_lines_count:,} plan lines, "
        f"{run.alerts_raised} alerts raised, {run.alerts_resolved} resolved"
    )
    return run


def plan_run_fail(*, run_id: int, error: str) -> None:
    """End an active plan run as failed, with ``error`` (its forecast run failed, no worker
    could finish it, ...)."""
    now = timezone.now()
    ended = PlanRun.objects.filter(pk=run_id, status__in=PlanRun.ACTIVE_STATUSES).update(
        status=PlanRun.Status.FAILED,
        percent=100,
        finished_at=now,
        updated_at=now,
        heartbeat_at=now,
        claimed_by="",
        error=error[:5000],
    )
    if ended:
        plan_run_announce(PlanRun.objects.get(pk=run_id))


def plan_run_enqueue(run: PlanRun) -> None:
    # Here, not at the top: sop.tasks imports this module.
    from sop.tasks import plan_run_reconcile_task

    runs.send_on_commit(plan_run_reconcile_task, run.pk)


# ---------------------------------------------------------------------------------------
# The reconciliation
# ---------------------------------------------------------------------------------------


def _progress(run: PlanRun, percent: float, **fields) -> None:
    now = timezone.now()
    PlanRun.objects.filter(pk=run.pk).update(percent=percent, updated_at=now, heartbeat_at=now, **fields)


def plan_run_execute(
    *, run_id: int, task_id: str | None = None, say: Callable[[str], None] = lambda _m: None
) -> PlanRun:
    """Reconcile a plan run (idempotent: a finished run is left alone, one whose worker was
    lost is redone). Any error but an outage fails the run with its message; an outage is
    raised for a retry, and after ``RUN_MAX_ATTEMPTS`` takes the run fails."""
    waiting = PlanRun.objects.filter(pk=run_id, forecast_run__status__in=PlanRun.ACTIVE_STATUSES).first()
    if waiting is not None:
        return waiting  # its forecast run hands over when it finishes
    token = runs.new_claim(task_id)
    claim = runs.claim_step(PlanRun, run_id, token=token, task_id=task_id, statuses=PlanRun.ACTIVE_STATUSES)
    if claim == runs.Claim.EXHAUSTED:
        run = PlanRun.objects.get(pk=run_id)
        plan_run_fail(
            run_id=run_id,
            error=_("No worker could finish the plan run in %(n)s attempts. %(last)s")
            % {"n": runs.max_attempts(), "last": run.error},
        )
    if claim != runs.Claim.CLAIMED:
        return PlanRun.objects.get(pk=run_id)
    run = PlanRun.objects.get(pk=run_id)
    if not run.started_at:
        _progress(run, 5, status=PlanRun.Status.RUNNING, started_at=timezone.now())
    else:
        _progress(run, 5, status=PlanRun.Status.RUNNING)
    try:
        with runs.heartbeat(PlanRun.objects.filter(pk=run_id, claimed_by=token)):
            inputs = plan_inputs(
                as_of=run.as_of,
                horizon=run.horizon_periods,
                forecast_run_id=run.forecast_run_id,
                cycle_id=(run.parameters or {}).get("cycle_id"),
            )
            _progress(run, 25, forecast_run_id=inputs.forecast_run_id)
            result, alerts = plan_calculate(inputs, as_of=run.as_of)
            alerts = extensions.with_extra_alerts(alerts, run=run, result=result)
            _progress(run, 55)
            with transaction.atomic():
                counts = plan_results_store(run=run, result=result)
                _progress(run, 80)
                alert_counts = alerts_sync(run=run, candidates=alerts)
                demand_plan_feasible_store(run=run, product_plan=result.product_plan)
            status = PlanRun.Status.COMPLETED_WITH_ERRORS if inputs.warnings else PlanRun.Status.COMPLETED
            _progress(
                run,
                100,
                status=status,
                finished_at=timezone.now(),
                warnings=inputs.warnings,
                claimed_by="",
                **counts,
                **alert_counts,
            )
        say(
            f"plan run {run.pk}: {counts['plan_lines_count']:,} plan lines, "
            f"{alert_counts['alerts_raised']} alerts raised, {alert_counts['alerts_updated']} updated, "
            f"{alert_counts['alerts_resolved']} resolved"
        )
    except Exception as exc:  # the run must end in a visible state, whatever broke
        runs.forget_broken_connection(exc)
        if isinstance(exc, runs.TRANSIENT_ERRORS):
            PlanRun.objects.filter(pk=run_id, claimed_by=token).update(error=runs.describe(exc), claimed_by="")
            raise
        log.exception("plan run %s failed", run_id)
        _progress(
            run,
            100,
            status=PlanRun.Status.FAILED,
            finished_at=timezone.now(),
            claimed_by="",
            error=runs.describe(exc, 5000),
        )
    run.refresh_from_db()
    plan_run_announce(run)
    return run


def plan_runs_reap(*, now: dt.datetime | None = None) -> Counter:
    """Active plan runs without a sign of life for ``RUN_STALE_SECONDS`` get their
    reconciliation sent again, unless they wait for a forecast run that is still active (the
    forecast reaper sees to that one); one whose forecast run failed is failed."""
    # Here, not at the top: sop.tasks imports this module.
    from sop.tasks import plan_run_reconcile_task

    now = now or timezone.now()
    stale = runs.stale_before(now)
    done = Counter()
    stalled = (
        PlanRun.objects.filter(status__in=PlanRun.ACTIVE_STATUSES)
        .filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, created_at__lt=stale))
        .values_list("pk", "heartbeat_at", "forecast_run__status", "forecast_run_id")
    )
    for run_id, heartbeat_at, forecast_status, forecast_run_id in list(stalled):
        if forecast_status in PlanRun.ACTIVE_STATUSES:
            continue
        if not PlanRun.objects.filter(pk=run_id, heartbeat_at=heartbeat_at).update(heartbeat_at=now, claimed_by=""):
            continue  # another reaper acted on it (the silent holder, if any, is presumed lost)
        if forecast_status == PlanRun.Status.FAILED:
            plan_run_fail(run_id=run_id, error=f"Its forecast run {forecast_run_id} failed.")
            done["plan_runs_failed"] += 1
            continue
        runs.send(plan_run_reconcile_task, run_id)
        done["plan_runs_resent"] += 1
    return done


def runs_reap() -> dict[str, int]:
    """The reaper (Celery beat, every ``RUN_REAPER_SECONDS``): forecast runs, then plan runs."""
    done = forecasting_services.forecast_runs_reap() + plan_runs_reap()
    if done:
        log.info("reaper: %s", dict(done))
    return dict(done)


def plan_run_announce(run: PlanRun) -> None:
    """Tell the webhook subscribers that a plan run ended (sent after the commit)."""
    event_emit(
        type="plan_run.finished",
        data={
            "id": run.pk,
            "status": run.status,
            "as_of": run.as_of.isoformat(),
            "cycle_id": (run.parameters or {}).get("cycle_id"),
            "plan_lines_count": run.plan_lines_count,
            "alerts_raised": run.alerts_raised,
            "alerts_resolved": run.alerts_resolved,
            "error": run.error,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "url": f"/api/v1/plan-runs/{run.pk}/",
        },
    )


def plan_calculate(inputs: PlanInputs, *, as_of: dt.date):
    """The pure part of a plan run: reconciliation, inventory metrics, alert candidates."""
    result = reconcile(
        periods=inputs.periods,
        products=inputs.products,
        demand=inputs.demand,
        opening_inventory=inputs.opening_inventory,
        routings=inputs.routings,
        capacity=inputs.capacity,
        family_quotas=inputs.family_quotas,
    )
    metrics = None
    if len(inputs.opening_inventory) or len(inputs.lots):
        metrics = inventory_metrics(
            snapshots=inputs.opening_inventory,
            lots=inputs.lots,
            forecast=inputs.forecast,
            products=inputs.products,
            as_of=as_of,
        )
    names = dict(zip(inputs.products["product_sku"], inputs.products["product_name"], strict=True))
    alerts = derive_alerts(
        result,
        inventory=metrics,
        work_center_names=inputs.work_center_names,
        product_names=names,
        currency=organisation_settings_get().currency,
    )
    return result, alerts


def _store(table: str, frame: pd.DataFrame) -> int:
    """Append a run's computed rows (the run's old rows were deleted first) with the stamps."""
    frame = frame.assign(period_start=pd.to_datetime(frame["period_start"]))
    return insert_frame(table, frame, constants=stamps())


PLAN_LINE_COLUMNS = [
    "demand_qty",
    "forecast_qty",
    "target_qty",
    "safety_stock",
    "projected_inventory_before",
    "production_required",
    "constrained_production",
    "prebuild_qty",
    "pulled_forward_qty",
    "shortfall_qty",
    "projected_inventory_after",
    "feasible_qty",
    "unserved_qty",
]
LOAD_COLUMNS = [
    "available_hours",
    "load_hours",
    "constrained_load_hours",
    "utilisation",
    "constrained_utilisation",
    "overload_hours",
    "prebuilt_hours",
    "shortfall_hours",
    "free_hours",
]
FAMILY_COLUMNS = [
    "demand_qty",
    "forecast_qty",
    "target_qty",
    "quota_qty",
    "feasible_qty",
    "unserved_qty",
    "buildability_gap",
    "not_buildable_qty",
]


def plan_results_store(*, run: PlanRun, result) -> dict[str, int]:
    """Write the plan lines, work-center loads and family plan of a run (replacing a partial one)."""
    for model in (PlanLine, WorkCenterLoad, FamilyPlan):
        model.objects.filter(run=run).delete()
    products = dict(Product.objects.values_list("sku", "id"))
    families = dict(ProductFamily.objects.values_list("code", "id"))
    work_centers = dict(WorkCenter.objects.values_list("code", "id"))

    plan = result.product_plan
    lines = pd.DataFrame(
        {"run_id": run.pk, "product_id": plan["product_sku"].map(products), "period_start": plan["period_start"]}
    )
    for column in PLAN_LINE_COLUMNS:
        lines[column] = plan[column].astype(float).round(4)
    n_lines = _store(PlanLine._meta.db_table, lines)

    load = result.capacity_load
    load = load[load["work_center_code"].isin(work_centers)]
    loads = pd.DataFrame(
        {
            "run_id": run.pk,
            "work_center_id": load["work_center_code"].map(work_centers),
            "period_start": load["period_start"],
        }
    )
    for column in LOAD_COLUMNS:
        loads[column] = load[column].astype(float).replace([np.inf, -np.inf], np.nan).round(4)
    _store(WorkCenterLoad._meta.db_table, loads)

    fam = result.family_plan
    fam = fam[fam["family_code"].isin(families)]
    fams = pd.DataFrame(
        {"run_id": run.pk, "family_id": fam["family_code"].map(families), "period_start": fam["period_start"]}
    )
    for column in FAMILY_COLUMNS:
        fams[column] = fam[column].astype(float).round(4)
    fams["buildability_gap"] = fams["buildability_gap"].where(fams["quota_qty"].notna())
    _store(FamilyPlan._meta.db_table, fams)
    return {
        "plan_lines_count": n_lines,
        "products_count": int(plan["product_sku"].nunique()),
        "work_centers_count": len(load["work_center_code"].unique()),
    }


# ---------------------------------------------------------------------------------------
# Alerts: upsert by fingerprint, resolve what is gone
# ---------------------------------------------------------------------------------------

ALERT_SYNC_LOCK = 5_301_001  # pg advisory lock key of the alert upsert
ALERT_CONTENT = (
    "severity",
    "work_center_id",
    "product_id",
    "family_id",
    "territory_id",
    "period_start",
    "amount",
    "unit",
    "value",
    "message",
    "suggestion",
    "message_key",
    "message_params",
    "suggestion_key",
    "suggestion_params",
)


def _money(value) -> Decimal | None:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    return Decimal(f"{float(value):.2f}")


def _text(value) -> str:
    """A rule's optional text: None and pandas' NaN (a missing suggestion after concat) are ''."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    return str(value)


def _params(value) -> dict:
    return value if isinstance(value, dict) else {}


def alerts_sync(*, run: PlanRun, candidates: pd.DataFrame) -> dict[str, int]:
    """Create new alerts, update the active ones still raised, resolve the active ones gone.

    Acknowledged alerts stay acknowledged while their cause remains (the lead is on it).
    A cause that comes back after its alert was resolved reopens that same alert, with its
    comments, and says so in a comment (its history) instead of raising a new one.
    Call inside a transaction.
    """
    if connection.vendor == "postgresql":
        # Two runs finishing at once would both insert the same new fingerprints: serialise
        # the alert upsert (the lock ends with the surrounding transaction).
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ALERT_SYNC_LOCK])
    now = timezone.now()
    ids = {
        "work_center_code": dict(WorkCenter.objects.values_list("code", "id")),
        "product_sku": dict(Product.objects.values_list("sku", "id")),
        "family_code": dict(ProductFamily.objects.values_list("code", "id")),
        "territory_code": dict(Territory.objects.values_list("code", "id")),
    }
    active = {a.fingerprint: a for a in CapacityAlert.objects.active().only("id", "fingerprint", *ALERT_CONTENT)}
    missing = set(candidates["fingerprint"]) - set(active) if len(candidates) else set()
    resolved_before: dict[str, CapacityAlert] = {}
    fingerprints = sorted(missing)
    for start in range(0, len(fingerprints), 5000):
        for alert in CapacityAlert.objects.filter(
            status=CapacityAlert.Status.RESOLVED, fingerprint__in=fingerprints[start : start + 5000]
        ).order_by("fingerprint", "-id"):
            resolved_before.setdefault(alert.fingerprint, alert)
    new, changed, kept_ids, reopened = [], [], [], []
    for row in candidates.itertuples(index=False):
        message_key, suggestion_key = _text(row.message_key), _text(row.suggestion_key)
        message_params, suggestion_params = _params(row.message_params), _params(row.suggestion_params)
        fields = {
            "severity": row.severity,
            "work_center_id": ids["work_center_code"].get(row.work_center_code),
            "product_id": ids["product_sku"].get(row.product_sku),
            "family_id": ids["family_code"].get(row.family_code),
            "territory_id": ids["territory_code"].get(row.territory_code),
            "period_start": row.period_start,
            "amount": _money(row.amount) or Decimal("0"),
            "unit": row.unit,
            "value": _money(row.value),
            # The stored texts are English (the API's words); pages word the keys per viewer.
            "message": alert_text(message_key, message_params),
            "suggestion": alert_text(suggestion_key, suggestion_params),
            "message_key": message_key,
            "message_params": message_params,
            "suggestion_key": suggestion_key,
            "suggestion_params": suggestion_params,
        }
        existing = active.get(row.fingerprint)
        if existing is None and row.fingerprint in resolved_before:
            alert = resolved_before.pop(row.fingerprint)
            # What ended it before: a person's note, or a run that found the cause gone.
            before = alert.resolution if alert.resolved_by_run_id is None else alert.resolved_by_run_id
            for k, v in fields.items():
                setattr(alert, k, v)
            alert.status, alert.run = CapacityAlert.Status.OPEN, run
            alert.acknowledged_by = alert.acknowledged_at = None
            alert.resolved_by = alert.resolved_by_run = alert.resolved_at = None
            alert.resolution, alert.updated_at = "", now
            reopened.append((alert, before))
            continue
        if existing is None:
            new.append(CapacityAlert(fingerprint=row.fingerprint, type=row.type, run=run, first_run=run, **fields))
            continue
        kept_ids.append(existing.pk)
        if any(getattr(existing, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(existing, k, v)
            existing.updated_at = now
            changed.append(existing)
    CapacityAlert.objects.bulk_create(new, batch_size=2000)
    CapacityAlert.objects.bulk_update(changed, [*ALERT_CONTENT, "updated_at"], batch_size=1000)
    if reopened:
        CapacityAlert.objects.bulk_update(
            [a for a, _ in reopened],
            [
                *ALERT_CONTENT,
                "status",
                "run",
                "acknowledged_by",
                "acknowledged_at",
                "resolved_by",
                "resolved_by_run",
                "resolved_at",
                "resolution",
                "updated_at",
            ],
            batch_size=1000,
        )
        alert_type = ContentType.objects.get_for_model(CapacityAlert)
        Comment.objects.bulk_create(
            [
                Comment(
                    content_type=alert_type,
                    object_id=str(a.pk),
                    author=None,
                    text=alert_text(key, params),
                    text_key=key,
                    text_params=params,
                )
                for a, before in reopened
                for key, params in [_reopened_message(run, before)]
            ],
            batch_size=2000,
        )
    for start in range(0, len(kept_ids), 5000):
        CapacityAlert.objects.filter(pk__in=kept_ids[start : start + 5000]).update(run=run)
    gone = list(CapacityAlert.objects.active().exclude(run=run).values_list("id", "type", "fingerprint"))
    resolved = CapacityAlert.objects.filter(pk__in=[g[0] for g in gone]).update(
        status=CapacityAlert.Status.RESOLVED,
        resolved_at=now,
        resolved_by_run=run,
        updated_at=now,
        resolution=f"Cause gone in plan run {run.pk} ({run.as_of:%Y-%m-%d}).",
    )
    events_emit(
        type="alert.created",
        items=[_alert_event(a) for a in new] + [{**_alert_event(a), "reopened": True} for a, _ in reopened],
        now=now,
    )
    events_emit(
        type="alert.resolved",
        items=[
            {"id": pk, "type": type_, "fingerprint": fp, "status": "resolved", "resolved_by_run_id": run.pk}
            for pk, type_, fp in gone
        ],
        now=now,
    )
    # A reopened alert is raised again by this run.
    return {"alerts_raised": len(new) + len(reopened), "alerts_updated": len(changed), "alerts_resolved": resolved}


def _reopened_message(run: PlanRun, before: str | int) -> tuple[str, dict]:
    """The key and parameters of the comment a rerun writes on an alert it reopens; ``before``
    is the resolution note of a person or the id of the run that had resolved it."""
    params = {"run_id": str(run.pk), "run_date": run.as_of.isoformat()}
    if isinstance(before, int):
        return "alert.reopened_after_run", params | {"resolved_run_id": str(before)}
    if before:
        return "alert.reopened_resolved", params | {"resolution": before}
    return "alert.reopened", params


def _alert_event(alert: CapacityAlert) -> dict:
    return {
        "id": alert.pk,
        "type": alert.type,
        "severity": alert.severity,
        "fingerprint": alert.fingerprint,
        "status": alert.status,
        "period_start": alert.period_start,
        "amount": str(alert.amount),
        "unit": alert.unit,
        "message": alert.message,
        "run_id": alert.run_id,
        "url": f"/api/v1/alerts/{alert.pk}/" if alert.pk else None,
    }


def _require_handler(user) -> None:
    # ERP clients reach here only through a token holding the alerts:write scope.
    if not has_role(user, *ALERT_HANDLERS, "erp"):
        raise ApplicationError(
            gettext("Only operations leads, planners and admins can change alerts."),
            code="permission_denied",
            status=403,
        )


def _alert_for_update(alert_id: int, user) -> CapacityAlert:
    alert = CapacityAlert.objects.for_user(user).select_for_update().filter(pk=alert_id).first()
    if alert is None:
        raise ApplicationError(gettext("No such alert."), code="not_found", status=404)
    return alert


@transaction.atomic
def alert_acknowledge(*, alert_id: int, user) -> CapacityAlert:
    _require_handler(user)
    alert = _alert_for_update(alert_id, user)
    if alert.status == CapacityAlert.Status.RESOLVED:
        raise ApplicationError(
            gettext("A resolved alert cannot be acknowledged."), code="invalid_transition", status=409
        )
    if alert.status == CapacityAlert.Status.OPEN:
        alert.status = CapacityAlert.Status.ACKNOWLEDGED
        alert.acknowledged_by, alert.acknowledged_at = user, timezone.now()
        if alert.assignee_id is None:
            alert.assignee = user
        alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "assignee", "updated_at"])
        audit_record(
            actor=user,
            action="alert.acknowledge",
            target=alert,
            before={"status": "open"},
            after={"status": alert.status},
        )
    return alert


@transaction.atomic
def alert_resolve(*, alert_id: int, user, note: str = "") -> CapacityAlert:
    _require_handler(user)
    alert = _alert_for_update(alert_id, user)
    if alert.status != CapacityAlert.Status.RESOLVED:
        before = alert.status
        alert.status = CapacityAlert.Status.RESOLVED
        alert.resolved_by, alert.resolved_at = user, timezone.now()
        alert.resolution = note.strip() or f"Resolved by {user.get_username()}."
        alert.save(update_fields=["status", "resolved_by", "resolved_at", "resolution", "updated_at"])
        audit_record(
            actor=user,
            action="alert.resolve",
            target=alert,
            before={"status": before},
            after={"status": alert.status, "resolution": alert.resolution},
        )
        event_emit(type="alert.resolved", data={**_alert_event(alert), "resolution": alert.resolution})
        if note.strip():
            comment_add(author=user, target=alert, text=note)
    return alert


@transaction.atomic
def alert_assign(*, alert_id: int, user, assignee) -> CapacityAlert:
    _require_handler(user)
    alert = _alert_for_update(alert_id, user)
    if assignee is not None and not has_role(assignee, *ALERT_HANDLERS):
        raise ApplicationError(
            gettext("Alerts can be assigned to operations leads, planners and admins only."), code="invalid_assignee"
        )
    before = alert.assignee_id
    alert.assignee = assignee
    alert.save(update_fields=["assignee", "updated_at"])
    audit_record(
        actor=user,
        action="alert.assign",
        target=alert,
        before={"assignee": before},
        after={"assignee": getattr(assignee, "pk", None)},
    )
    return alert


@transaction.atomic
def alert_comment(*, alert_id: int, user, text: str):
    _require_handler(user)
    alert = _alert_for_update(alert_id, user)
    return comment_add(author=user, target=alert, text=text)


# ---------------------------------------------------------------------------------------
# Capacity calendar (edited by the operations lead)
# ---------------------------------------------------------------------------------------


def capacity_hours(
    *, shifts: int, hours_per_shift: Decimal, working_days: int, efficiency: Decimal, downtime_hours: Decimal
) -> Decimal:
    """shifts × hours per shift × working days × efficiency − planned downtime (never below 0)."""
    gross = Decimal(shifts) * Decimal(hours_per_shift) * Decimal(working_days) * Decimal(efficiency)
    return max(Decimal("0"), gross - Decimal(downtime_hours)).quantize(Decimal("0.01"))


@transaction.atomic
def capacity_update(
    *,
    work_center: WorkCenter,
    period_start: dt.date,
    user,
    shifts: int,
    hours_per_shift: Decimal,
    working_days: int,
    efficiency: Decimal,
    downtime_hours: Decimal = Decimal("0"),
) -> CapacityCalendar:
    if not has_role(user, "admin", "ops_lead"):
        raise ApplicationError(
            gettext("Only operations leads and admins edit capacity."), code="permission_denied", status=403
        )
    if period_start.day != 1:
        raise ApplicationError(gettext("period_start must be the first day of a month."), code="invalid_period")
    if not (0 < efficiency <= Decimal("1.5")) or shifts < 0 or working_days > 31 or hours_per_shift > 24:
        raise ApplicationError(gettext("Shifts, hours, days or efficiency out of range."), code="invalid_capacity")
    hours = capacity_hours(
        shifts=shifts,
        hours_per_shift=hours_per_shift,
        working_days=working_days,
        efficiency=efficiency,
        downtime_hours=downtime_hours,
    )
    entry, _ = CapacityCalendar.objects.select_for_update().get_or_create(
        work_center=work_center, period_start=period_start, defaults={"available_hours": hours}
    )
    before = {"available_hours": str(entry.available_hours)}
    entry.available_hours, entry.shifts, entry.hours_per_shift = hours, shifts, hours_per_shift
    entry.working_days, entry.efficiency, entry.downtime_hours = working_days, efficiency, downtime_hours
    entry.save()
    audit_record(
        actor=user, action="capacity.update", target=entry, before=before, after={"available_hours": str(hours)}
    )
    return entry
