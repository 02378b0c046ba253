"""Writes and workflows of what-if scenarios: create (checked changes), run (the plan run's
inputs → the deltas in memory → the same ``sop`` calculation → KPIs), compare, promote.

Who may do what: every role of the S&OP cycle (and ERP clients with ``cycles:write``) creates
and runs scenarios; planners and admins promote one into its cycle (its demand changes become
consensus edits, which only they may make).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from decimal import Decimal

import pandas as pd
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import memo, runs
from core.errors import ApplicationError
from core.roles import ADMIN, ERP, EXECUTIVE, OPS_LEAD, PLANNER, SALES_MANAGER, has_role
from core.services import audit_record
from inventory.models import ProductFamily
from scenarios import selectors
from scenarios.accuracy import forecast_value_added
from scenarios.deltas import ChangeError, ScenarioInputs, apply_changes, check_changes
from scenarios.kpis import (
    COUNT_KEYS,
    KPI_KEYS,
    MONEY_KEYS,
    RATIO_KEYS,
    alert_counts,
    family_months,
    kpi_delta,
    plan_kpis,
)
from scenarios.models import QuotaChangeRequest, Scenario, ScenarioBase
from sop import cycle_selectors, cycle_services
from sop.models import CycleStage, DemandPlanActual, PlanCycle
from sop.selectors import PlanInputs
from sop.services import plan_calculate
from territories.models import Territory

log = logging.getLogger(__name__)

SCENARIO_WRITERS = (ADMIN, PLANNER, OPS_LEAD, EXECUTIVE, SALES_MANAGER, ERP)
MAX_CHANGES = 200
#: the status of a scenario that has not run yet (then queued → running → completed/failed)
DRAFT = "draft"


# ---------------------------------------------------------------------------------------
# Create
# ---------------------------------------------------------------------------------------


def change_error_message(error: ChangeError) -> str:
    messages = {
        "not_a_list": _("changes must be a list of objects."),
        "not_an_object": _("Each change is an object with a type."),
        "bad_type": _("Unknown type; choose one of: %(choices)s."),
        "required": _("Required."),
        "unknown": _("Unknown code '%(value)s'."),
        "one_key": _("Name exactly one of: %(keys)s."),
        "needs_cycle": _(
            "Territory and region changes need a scenario on a cycle (its demand plan holds the territories)."
        ),
        "bad_period": _("A month start, YYYY-MM-01."),
        "period_order": _("period_to is before period_from."),
        "bad_factor": _("A factor above 0 (1.15 = +15 %%)."),
        "pct_or_hours": _("Give change_pct or change_hours, not both."),
        "bad_pct": _("A percentage from -100 up."),
        "bad_number": _("A number."),
        "new_work_center": _(
            "Work center '%(value)s' does not exist; a new one needs a capacity change in hours in the same scenario."
        ),
        "bad_hours": _("Hours per unit from 0 up."),
        "exists": _("Product '%(value)s' already exists; a new product needs a new SKU."),
        "bad_quantities": _("An object of month (YYYY-MM-01) → units."),
        "bad_quantity": _("Month %(period)s: a month start and units from 0 up."),
        "policy_required": _("Give safety_stock or max_build_ahead_periods."),
        "bad_whole": _("A whole number from 0 up."),
    }
    return messages.get(error.code, error.code) % error.params


def _changes_error(errors: list[ChangeError]) -> ApplicationError:
    details = [{"index": e.index, "field": e.field, "message": change_error_message(e)} for e in errors]
    first = details[0]
    if first["index"] < 0:
        summary = first["message"]
    else:
        summary = _("Change %(index)s, field %(field)s: %(message)s") % first
    return ApplicationError(summary, code="validation_error", details={"changes": details})


def scenario_changes_check(*, changes, has_cycle: bool) -> list[dict]:
    """The changes, checked against the codes that exist, or 400 naming each index and field."""
    if isinstance(changes, list) and len(changes) > MAX_CHANGES:
        raise ApplicationError(
            _("At most %(n)s changes per scenario.") % {"n": MAX_CHANGES},
            code="validation_error",
            details={"changes": [{"index": MAX_CHANGES, "field": "type", "message": ""}]},
        )
    errors = check_changes(changes, selectors.known_codes(has_cycle=has_cycle))
    if errors:
        raise _changes_error(errors)
    return [dict(c) for c in changes]


def _require_writer(user) -> None:
    if not has_role(user, *SCENARIO_WRITERS):
        raise ApplicationError(
            _("Your role does not take part in the S&OP cycle."), code="permission_denied", status=403
        )


@transaction.atomic
def scenario_create(*, name: str, cycle: PlanCycle | None, changes, user) -> Scenario:
    _require_writer(user)
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("A scenario needs a name."), code="validation_error", details={"name": _("Required.")})
    checked = scenario_changes_check(changes=changes, has_cycle=cycle is not None)
    scenario = Scenario.objects.create(
        name=name[:200],
        cycle=cycle,
        changes=checked,
        status=DRAFT,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    audit_record(actor=user, action="scenario.create", target=scenario, after={"name": name, "changes": checked})
    return scenario


# ---------------------------------------------------------------------------------------
# Run
# ---------------------------------------------------------------------------------------


def scenario_run_start(*, scenario: Scenario, user) -> Scenario:
    """Queue a run of the scenario (202): refused with 503 while the task queue is down and
    with 409 while this scenario is already running."""
    _require_writer(user)
    runs.require_queue()
    with transaction.atomic():
        current = Scenario.objects.select_for_update().get(pk=scenario.pk)
        if current.status in Scenario.ACTIVE_STATUSES and not current.is_stalled:
            raise runs.run_in_progress(
                current,
                kind=_("scenario run"),
                url=reverse("scenarios-detail", args=[current.pk]),
                page_url=reverse("scenarios:detail", args=[current.pk]),
            )
        now = timezone.now()
        Scenario.objects.filter(pk=current.pk).update(
            status=Scenario.Status.QUEUED,
            percent=0,
            error="",
            started_at=None,
            finished_at=None,
            attempts=0,
            claimed_by="",
            heartbeat_at=now,
            updated_at=now,
            trigger=Scenario.Trigger.USER,
        )
        # Here, not at the top: scenarios.tasks imports this module.
        from scenarios.tasks import scenario_run_task

        runs.send_on_commit(scenario_run_task, current.pk)
    current.refresh_from_db()
    return current


def _progress(scenario_id: int, percent: float, **fields) -> None:
    now = timezone.now()
    Scenario.objects.filter(pk=scenario_id).update(percent=percent, updated_at=now, heartbeat_at=now, **fields)


def _rounded(kpis: dict) -> dict:
    """KPIs as stored and shown: money in Decimal cents (as strings), ratios to 6 places."""
    out = {}
    for key in KPI_KEYS:
        value = kpis[key]
        if key in MONEY_KEYS:
            out[key] = str(Decimal(f"{value:.2f}"))
        elif key in COUNT_KEYS:
            out[key] = int(value)
        elif key in RATIO_KEYS:
            out[key] = round(float(value), 6)
        else:
            out[key] = round(float(value), 4)
    return out


def _family_rows(months: pd.DataFrame) -> list[dict]:
    rows = []
    for row in months.itertuples(index=False):
        rows.append(
            {
                "family_code": row.family_code,
                "period_start": row.period_start.isoformat(),
                "demand_qty": round(float(row.demand_qty), 4),
                "feasible_qty": round(float(row.feasible_qty), 4),
                "shortfall_qty": round(float(row.shortfall_qty), 4),
                "shortfall_value": str(Decimal(f"{row.shortfall_value:.2f}")),
                "revenue": str(Decimal(f"{row.revenue:.2f}")),
                "not_buildable_qty": round(float(row.not_buildable_qty), 4),
            }
        )
    return rows


def plan_results(inputs: PlanInputs, *, as_of: dt.date) -> tuple[dict, dict, list[dict]]:
    """KPIs (rounded), alerts by type and family × month rows of one set of plan inputs,
    through the plan run's own calculation (``sop.services.plan_calculate``)."""
    result, alerts = plan_calculate(inputs, as_of=as_of)
    aged = selectors.aged_stock(lots=inputs.lots, opening_inventory=inputs.opening_inventory, as_of=as_of)
    kpis = plan_kpis(
        product_plan=result.product_plan,
        capacity_load=result.capacity_load,
        family_plan=result.family_plan,
        aged_stock=aged,
    )
    return _rounded(kpis), alert_counts(alerts), _family_rows(family_months(result.product_plan, result.family_plan))


def scenario_inputs(*, scenario: Scenario, inputs: PlanInputs) -> PlanInputs:
    """The plan inputs with the scenario's changes applied (in memory)."""
    needs_detail = any(
        c["type"] == "demand" and (c.get("territory_code") or c.get("region_code")) for c in scenario.changes
    )
    needs_paths = needs_detail or any(c["type"] == "target" and c.get("territory_code") for c in scenario.changes)
    frames = ScenarioInputs(
        products=inputs.products,
        demand=inputs.demand,
        routings=inputs.routings,
        capacity=inputs.capacity,
        family_quotas=inputs.family_quotas,
        demand_detail=selectors.demand_detail(cycle=scenario.cycle, periods=inputs.periods)
        if needs_detail and scenario.cycle is not None
        else None,
        territory_paths=selectors.territory_paths() if needs_paths else {},
    )
    changed = apply_changes(frames, scenario.changes, periods=inputs.periods)
    return dataclasses.replace(
        inputs,
        products=changed.products,
        demand=changed.demand,
        routings=changed.routings,
        capacity=changed.capacity,
        family_quotas=changed.family_quotas,
    )


def scenario_base_get(*, cycle: PlanCycle | None, as_of: dt.date, inputs: PlanInputs) -> ScenarioBase:
    """The stored base of these inputs, computed and stored the first time."""
    fingerprint = selectors.inputs_fingerprint(cycle=cycle, as_of=as_of, inputs=inputs)
    base = selectors.base_for(fingerprint)
    if base is not None:
        return base
    kpis, alerts, months = plan_results(inputs, as_of=as_of)
    base, _created = ScenarioBase.objects.get_or_create(
        fingerprint=fingerprint,
        defaults={"cycle": cycle, "as_of": as_of, "kpis": kpis, "alerts": alerts, "family_months": months},
    )
    return base


def scenario_run_execute(*, scenario_id: int, task_id: str | None = None) -> Scenario:
    """Run a scenario (idempotent: a finished run is left alone, a lost one is redone)."""
    token = runs.new_claim(task_id)
    claim = runs.claim_step(Scenario, scenario_id, token=token, task_id=task_id, statuses=Scenario.ACTIVE_STATUSES)
    if claim == runs.Claim.EXHAUSTED:
        _progress(
            scenario_id,
            100,
            status=Scenario.Status.FAILED,
            finished_at=timezone.now(),
            claimed_by="",
            error=_("No worker could finish the scenario run in %(n)s attempts.") % {"n": runs.max_attempts()},
        )
    if claim != runs.Claim.CLAIMED:
        return Scenario.objects.get(pk=scenario_id)
    scenario = Scenario.objects.select_related("cycle").get(pk=scenario_id)
    _progress(scenario_id, 5, status=Scenario.Status.RUNNING, started_at=timezone.now())
    try:
        with runs.heartbeat(Scenario.objects.filter(pk=scenario_id, claimed_by=token)):
            as_of, inputs = selectors.scenario_plan_inputs(cycle=scenario.cycle)
            _progress(scenario_id, 30)
            base = scenario_base_get(cycle=scenario.cycle, as_of=as_of, inputs=inputs)
            _progress(scenario_id, 55)
            kpis, alerts, months = plan_results(scenario_inputs(scenario=scenario, inputs=inputs), as_of=as_of)
            status = Scenario.Status.COMPLETED_WITH_ERRORS if inputs.warnings else Scenario.Status.COMPLETED
            done = Scenario.objects.filter(pk=scenario_id, claimed_by=token).update(
                status=status,
                percent=100,
                finished_at=timezone.now(),
                updated_at=timezone.now(),
                claimed_by="",
                as_of=as_of,
                base=base,
                kpis=kpis,
                alerts=alerts,
                family_months=months,
                warnings=inputs.warnings,
            )
            if not done:
                log.warning("scenario %s: lost its claim before storing its results", scenario_id)
    except Exception as exc:  # the run must end in a visible state, whatever broke
        runs.forget_broken_connection(exc)
        if isinstance(exc, runs.TRANSIENT_ERRORS):
            runs.release_step(Scenario, scenario_id, token=token)
            raise
        log.exception("scenario %s failed", scenario_id)
        _progress(
            scenario_id,
            100,
            status=Scenario.Status.FAILED,
            finished_at=timezone.now(),
            claimed_by="",
            error=runs.describe(exc, 5000),
        )
    return Scenario.objects.get(pk=scenario_id)


def scenarios_reap(*, now: dt.datetime | None = None) -> int:
    """Scenario runs without a sign of life for ``RUN_STALE_SECONDS`` are sent again (beat,
    every ``RUN_REAPER_SECONDS``); the claim counts attempts, so one that keeps failing ends
    ``failed``. Returns how many were sent."""
    # Here, not at the top: scenarios.tasks imports this module.
    from scenarios.tasks import scenario_run_task

    now = now or timezone.now()
    stale = runs.stale_before(now)
    sent = 0
    stalled = (
        Scenario.objects.filter(status__in=Scenario.ACTIVE_STATUSES)
        .filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, updated_at__lt=stale))
        .values_list("pk", "heartbeat_at")
    )
    for pk, heartbeat_at in list(stalled):
        if Scenario.objects.filter(pk=pk, heartbeat_at=heartbeat_at).update(heartbeat_at=now, claimed_by=""):
            runs.send(scenario_run_task, pk)
            sent += 1
    if sent:
        log.info("scenario reaper: %s runs sent again", sent)
    return sent


# ---------------------------------------------------------------------------------------
# Compare
# ---------------------------------------------------------------------------------------


def ordered_kpis(kpis: dict) -> dict:
    """KPIs in ``KPI_KEYS`` order (PostgreSQL's jsonb keeps its own key order)."""
    return {key: kpis[key] for key in KPI_KEYS if key in kpis}


def comparison_delta(scenario: dict, base: dict) -> dict:
    """Scenario − base of rounded KPIs (money exact in Decimal)."""
    money = {k: str(Decimal(scenario[k]) - Decimal(base[k])) for k in MONEY_KEYS if k in scenario and k in base}
    plain = kpi_delta(
        {k: v for k, v in scenario.items() if k not in MONEY_KEYS},
        {k: v for k, v in base.items() if k not in MONEY_KEYS},
    )
    out = {}
    for key in KPI_KEYS:
        if key in money:
            out[key] = money[key]
        elif key in plain:
            out[key] = plain[key] if key in COUNT_KEYS else round(plain[key], 6)
    return out


def comparison(*, user, ids: list[int]) -> dict:
    """``{"base", "scenarios": [{"id", "name", "kpis", "delta", ...}]}`` of finished scenarios
    on one cycle (400 otherwise). The base is the stored base of the latest run among them;
    each delta is against the scenario's own base (the same one while the inputs are
    unchanged)."""
    errors = {}
    if len(ids) < 1:
        errors["ids"] = _("Give one or more scenario ids, e.g. ids=3,5.")
    chosen = selectors.scenarios_to_compare(user=user, ids=ids)
    missing = [i for i in ids if i not in {s.pk for s in chosen}]
    if missing:
        raise ApplicationError(
            _("No scenario %(ids)s.") % {"ids": ", ".join(map(str, missing))},
            code="not_found",
            status=404,
            details={"ids": missing},
        )
    not_run = [s.pk for s in chosen if not s.kpis or s.base_id is None]
    if not_run:
        errors["ids"] = _("Scenario(s) %(ids)s have no results yet: run them first.") % {
            "ids": ", ".join(map(str, not_run))
        }
    if len({s.cycle_id for s in chosen}) > 1:
        errors["ids"] = _("Compare scenarios of one cycle at a time.")
    if errors:
        raise ApplicationError(next(iter(errors.values())), code="validation_error", details=errors)
    latest = max(chosen, key=lambda s: (s.finished_at or timezone.now(), s.pk))
    base = latest.base
    return {
        "base": ordered_kpis(base.kpis),
        "base_alerts": base.alerts,
        "base_family_months": base.family_months,
        "cycle": chosen[0].cycle.month.isoformat() if chosen[0].cycle else None,
        "scenarios": [
            {
                "id": s.pk,
                "name": s.name,
                "kpis": ordered_kpis(s.kpis),
                "delta": comparison_delta(s.kpis, s.base.kpis),
                "alerts": s.alerts,
                "family_months": s.family_months,
                "finished_at": s.finished_at.isoformat() if s.finished_at else None,
            }
            for s in chosen
        ],
    }


# ---------------------------------------------------------------------------------------
# Promote into the cycle
# ---------------------------------------------------------------------------------------

PROMOTERS = (ADMIN, PLANNER)
DEMAND_LEVEL = {
    "product_sku": "product",
    "family_code": "family",
    "territory_code": "territory",
    "region_code": "region",
}


def _change_topic(scenario: Scenario, change: dict) -> str:
    kind = change["type"]
    if kind == "capacity":
        amount = (
            f"{float(change['change_pct']):+g} %"
            if change.get("change_pct") is not None
            else _("%(hours)+g hours") % {"hours": float(change["change_hours"])}
        )
        text = _("Capacity of %(wc)s %(amount)s from %(start)s to %(end)s") % {
            "wc": change["work_center_code"],
            "amount": amount,
            "start": change["period_from"][:7],
            "end": change["period_to"][:7],
        }
    elif kind == "routing":
        text = _("Routing of %(sku)s on %(wc)s: %(hours)s hours per unit") % {
            "sku": change["product_sku"],
            "wc": change["work_center_code"],
            "hours": change["hours_per_unit"],
        }
    elif kind == "new_product":
        text = _("New product %(sku)s in family %(family)s") % {
            "sku": change["product_sku"],
            "family": change["family_code"],
        }
    else:
        text = _("Inventory policy of %(sku)s") % {"sku": change["product_sku"]}
    return (_("%(text)s (scenario '%(name)s')") % {"text": text, "name": scenario.name})[:200]


def _months(change: dict, periods: list[dt.date]) -> list[dt.date]:
    start, end = dt.date.fromisoformat(change["period_from"]), dt.date.fromisoformat(change["period_to"])
    return [p for p in periods if start <= p <= end]


def scenario_promote(*, scenario: Scenario, user, comment: str = "") -> dict:
    """Turn a finished scenario's changes into the cycle's own records, once:

    - ``capacity`` (and ``routing``, ``new_product``, ``inventory_policy``) → a decision each in
      the decision log, owned by the supply review's owner (else the caller), due on its date;
    - ``demand`` → consensus edits (audited as edits, reason naming the scenario) of each month
      of its range in the cycle: the row's consensus × factor, rounded to whole units;
    - ``target`` → a quota change request.

    ``comment`` (the meeting's note, optional) is added to every decision's text and every
    edit's reason. A second promote answers 409; a scenario without a cycle, not run, or on a
    published cycle is refused. Returns what it created (also stored on the scenario)."""
    note = f" {comment.strip()}" if comment and comment.strip() else ""

    if not has_role(user, *PROMOTERS):
        raise ApplicationError(
            _("Only planners and admins promote a scenario into the cycle."), code="permission_denied", status=403
        )
    with transaction.atomic():
        scenario = Scenario.objects.select_for_update(of=("self",)).select_related("cycle").get(pk=scenario.pk)
        if scenario.promoted_at is not None:
            raise ApplicationError(
                _("This scenario was already promoted on %(at)s.")
                % {"at": timezone.localtime(scenario.promoted_at).strftime("%Y-%m-%d %H:%M")},
                code="already_promoted",
                status=409,
                details=scenario.promotion,
            )
        cycle = scenario.cycle
        if cycle is None:
            raise ApplicationError(
                _("Only a scenario on a cycle can be promoted into it."), code="no_cycle", status=409
            )
        if not scenario.kpis or scenario.status not in (
            Scenario.Status.COMPLETED,
            Scenario.Status.COMPLETED_WITH_ERRORS,
        ):
            raise ApplicationError(_("Run the scenario before promoting it."), code="not_run", status=409)
        if cycle.is_published:
            raise ApplicationError(
                _("The %(month)s plan is published and frozen; changes go into the next cycle.")
                % {"month": cycle.month.strftime("%Y-%m")},
                code="cycle_published",
                status=409,
            )
        stage = CycleStage.objects.filter(cycle=cycle, code="supply_review").first()
        owner_id = (
            (stage.owner_id if stage and stage.owner_id else user.pk)
            if getattr(user, "is_authenticated", False)
            else None
        )
        due = stage.due_date if stage else None
        periods = cycle_selectors.cycle_periods(cycle)
        created: dict[str, list] = {"decisions": [], "consensus_edits": [], "quota_change_requests": []}
        for change in scenario.changes:
            kind = change["type"]
            if kind in ("capacity", "routing", "new_product", "inventory_policy"):
                item = cycle_services.decision_create(
                    cycle=cycle,
                    user=user,
                    topic=_change_topic(scenario, change),
                    decision=_("From scenario #%(id)s.") % {"id": scenario.pk} + note,
                    owner_id=owner_id,
                    due_date=due,
                    work_center_code=change.get("work_center_code", "") if kind != "new_product" else "",
                    product_sku=change.get("product_sku", "") if kind in ("routing", "inventory_policy") else "",
                    family_code=change.get("family_code", "") if kind == "new_product" else "",
                )
                created["decisions"].append(
                    {
                        "id": item.pk,
                        "topic": item.topic,
                        "owner_id": item.owner_id,
                        "due_date": item.due_date.isoformat() if item.due_date else None,
                    }
                )
            elif kind == "demand":
                key = next(k for k in DEMAND_LEVEL if change.get(k))
                level, keys = DEMAND_LEVEL[key], {key: change[key]}
                for month in _months(change, periods):
                    row = cycle_selectors.demand_plan_row(
                        cycle=cycle, user=user, level=level, keys=keys, period_start=month
                    )
                    if row is None:
                        continue
                    value = int(round(float(row["consensus"] or 0) * float(change["factor"])))
                    if value == int(row["consensus"] or 0):
                        continue  # nothing to change (a zero row, or a factor too small to move it)
                    cycle_services.demand_plan_edit(
                        cycle=cycle,
                        user=user,
                        level=level,
                        keys=keys,
                        period_start=month,
                        measure="consensus",
                        value=value,
                        etag=row["etag"],
                        reason=_("Scenario '%(name)s' (#%(id)s): demand × %(factor)s")
                        % {"name": scenario.name, "id": scenario.pk, "factor": change["factor"]}
                        + note,
                    )
                    created["consensus_edits"].append(
                        {
                            "level": level,
                            "keys": keys,
                            "period_start": month.isoformat(),
                            "before": row["consensus"],
                            "after": value,
                        }
                    )
            elif kind == "target":
                request = QuotaChangeRequest.objects.create(
                    cycle=cycle,
                    scenario=scenario,
                    family=ProductFamily.objects.get(code=change["family_code"]),
                    territory=Territory.objects.get(code=change["territory_code"])
                    if change.get("territory_code")
                    else None,
                    period_from=dt.date.fromisoformat(change["period_from"]),
                    period_to=dt.date.fromisoformat(change["period_to"]),
                    factor=Decimal(str(change["factor"])).quantize(Decimal("0.0001")),
                    requested_by=user if getattr(user, "is_authenticated", False) else None,
                )
                audit_record(
                    actor=user,
                    action="scenario.quota_change_request",
                    target=request,
                    after={
                        "family_code": change["family_code"],
                        "factor": change["factor"],
                        "territory_code": change.get("territory_code"),
                    },
                )
                created["quota_change_requests"].append(
                    {
                        "id": request.pk,
                        "family_code": change["family_code"],
                        "territory_code": change.get("territory_code") or None,
                        "factor": str(request.factor),
                        "period_from": change["period_from"],
                        "period_to": change["period_to"],
                    }
                )
        now = timezone.now()
        Scenario.objects.filter(pk=scenario.pk).update(
            promoted_at=now,
            promoted_by=user if getattr(user, "is_authenticated", False) else None,
            promotion=created,
            updated_at=now,
        )
        audit_record(actor=user, action="scenario.promote", target=scenario, after=created)
    return created


# ---------------------------------------------------------------------------------------
# Forecast value added
# ---------------------------------------------------------------------------------------

ACCURACY_LEVEL_FIELD = {
    "family": "family_code",
    "region": "region_code",
    "planner": "planner",
    "sales_manager": "sales_manager",
    "total": "key",
}


def forecast_accuracy(*, user, lag: int, level: str, months: int) -> dict:
    """FVA by ``level`` at ``lag`` over the last ``months`` months (``scenarios.accuracy``)."""
    forecasts, actuals, through = selectors.accuracy_inputs(user=user, lag=lag)
    result = forecast_value_added(forecasts, actuals, lag=lag, level=level, months=months, actuals_through=through)
    field = ACCURACY_LEVEL_FIELD[level]
    rows = [{field: row["key"], **{k: v for k, v in row.items() if k != "key"}} for row in result["rows"]]
    return {
        "lag": lag,
        "level": level,
        "months": months,
        "actuals_through": through.isoformat() if through else None,
        "results": rows,
        "trend": [{**t, "period_start": t["period_start"].isoformat()} for t in result["trend"]],
    }


def accuracy_chart(result: dict) -> dict:
    """Chart.js data of ``forecast_accuracy``'s trend: each step's WAPE by month."""
    labels = {
        "naive": gettext_lazy("Seasonal naive"),
        "statistical": gettext_lazy("Statistical"),
        "sales_override": gettext_lazy("Sales input"),
        "consensus": gettext_lazy("Consensus"),
    }
    return {
        "labels": [t["period_start"][:7] for t in result["trend"]],
        "y_title": str(gettext_lazy("WAPE %")),
        "datasets": [
            {"label": str(label), "data": [t[f"{step}_wape"] for t in result["trend"]]}
            for step, label in labels.items()
        ],
    }


def planner_accuracy_trend(*, user) -> dict | None:
    """The planner's home page chart: total WAPE per step at lag 1 over the last 12 months
    (None when nothing is measured yet)."""
    # Published cycles' plans are frozen and the actuals are stored with the latest cycle: the
    # figures change only with the cycles, their stored sales or the territories (the scope).
    result = memo.by_tables(
        f"planner-fva:{user.pk}",
        (PlanCycle, DemandPlanActual, Territory),
        lambda: forecast_accuracy(user=user, lag=1, level="total", months=12),
    )
    return accuracy_chart(result) if result["trend"] else None
