"""Writes of the S&OP cycle: create a cycle (its stages and demand plan), advance or send
back a stage, edit the demand plan (spread, etag, audit), decisions, the cycle's plan run.

Who may do what (roles of ``core.roles``; ERP clients act with the ``erp`` role):

- create a cycle: planner, admin (and an ERP client holding ``cycles:write``);
- advance or send back a stage: its owner role (or the person named owner), admin;
- edit ``consensus``: planner, admin; edit ``sales_override``: sales manager (rows of the
  territories they manage only), admin;
- record and update decisions: everyone who takes part in the cycle;
- start the cycle's plan run: planner, operations lead, admin.

A published cycle is frozen: every edit answers 409.
"""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core.calendar import months_between
from core.errors import ApplicationError
from core.roles import ADMIN, ERP, EXECUTIVE, OPS_LEAD, PLANNER, SALES_MANAGER, has_role
from core.services import audit_record, planning_horizon
from inventory.models import Product, ProductFamily
from sop import cycle_calendar, cycle_selectors
from sop.cycle_calendar import CalendarError
from sop.demand_plan import seasonal_naive, spread_targets, starting_consensus
from sop.demand_plan_store import actuals_insert, lines_delete, lines_insert, measure_write
from sop.models import (
    CapacityAlert,
    CycleCalendarDay,
    CycleStage,
    Decision,
    DemandPlanEdit,
    PlanCycle,
    PlanRun,
    WorkCenter,
)
from sop.services import plan_run_create, plan_run_enqueue
from sop.spread import spread_total
from webhooks.services import event_emit

log = logging.getLogger(__name__)

MAX_UNITS = 10**12


def stage_label(code: str) -> str:
    return {
        "data": _("Data"),
        "demand_review": _("Demand review"),
        "supply_review": _("Supply review"),
        "executive_review": _("Executive review"),
        "published": _("Published"),
    }.get(code, code)


def _calendar_message(exc: CalendarError) -> str:
    params = {k: stage_label(v) for k, v in exc.params.items()}
    return {
        "unknown_stage": _("The cycle calendar names an unknown stage '%(stage)s'."),
        "bad_working_day": _(
            "Stage '%(stage)s' of the cycle calendar: the working day must be a whole number from 1 to 40."
        ),
        "out_of_order": _(
            "Stage '%(stage)s' of the cycle calendar is due before the stage before it ('%(previous)s')."
        ),
    }.get(exc.code, str(exc)) % params


def _frozen(cycle: PlanCycle) -> None:
    if cycle.is_published:
        raise ApplicationError(
            _("The %(month)s plan is published and frozen; changes go into the next cycle.")
            % {"month": cycle.month.strftime("%Y-%m")},
            code="cycle_published",
            status=409,
        )


def _locked(cycle: PlanCycle) -> PlanCycle:
    return PlanCycle.objects.select_for_update().get(pk=cycle.pk)


# ---------------------------------------------------------------------------------------
# Creating a cycle
# ---------------------------------------------------------------------------------------


def cycle_calendar_get() -> dict[str, int]:
    """The organisation's cycle calendar (working day per stage), validated."""
    try:
        return cycle_calendar.validate_calendar(dict(CycleCalendarDay.objects.values_list("stage", "working_day")))
    except CalendarError as exc:
        raise ApplicationError(_calendar_message(exc), code="invalid_calendar") from exc


@transaction.atomic
def cycle_calendar_set(*, calendar: dict[str, int], user) -> dict[str, int]:
    if not has_role(user, ADMIN, PLANNER):
        raise ApplicationError(
            _("Only planners and admins edit the cycle calendar."), code="permission_denied", status=403
        )
    try:
        valid = cycle_calendar.validate_calendar(calendar)
    except CalendarError as exc:
        raise ApplicationError(_calendar_message(exc), code="invalid_calendar") from exc
    for stage, day in valid.items():
        CycleCalendarDay.objects.update_or_create(stage=stage, defaults={"working_day": day})
    audit_record(actor=user, action="cycle.calendar", after=valid)
    return valid


def cycle_create(*, month: dt.date, user) -> PlanCycle:
    """Open the cycle for ``month``: its stages with due dates, and its demand plan copied
    from the latest finished forecast run (409 when the cycle exists or there is no run)."""
    if not has_role(user, ADMIN, PLANNER, ERP):
        raise ApplicationError(_("Only planners and admins open a cycle."), code="permission_denied", status=403)
    if month.day != 1:
        raise ApplicationError(
            _("month must be the first day of a month (YYYY-MM-01)."),
            code="invalid_month",
            details={"month": month.isoformat()},
        )
    calendar = cycle_calendar_get()
    with transaction.atomic():
        if PlanCycle.objects.select_for_update().filter(month=month).exists():
            raise ApplicationError(
                _("The %(month)s cycle exists already.") % {"month": month.strftime("%Y-%m")},
                code="cycle_exists",
                status=409,
            )
        run = cycle_selectors.latest_forecast_run()
        if run is None:
            raise ApplicationError(
                _(
                    "There is no finished forecast run to start the demand plan from: run the "
                    "forecast first (the data stage)."
                ),
                code="no_forecast",
                status=409,
            )
        horizon = planning_horizon()
        previous = cycle_selectors.latest_published(before=month)
        cycle = PlanCycle.objects.create(
            month=month,
            stage=cycle_calendar.STAGE_CODES[0],
            horizon_periods=horizon,
            forecast_run=run,
            previous_cycle=previous,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        due = cycle_calendar.stage_due_dates(month, calendar)
        now = timezone.now()
        CycleStage.objects.bulk_create(
            [
                CycleStage(
                    cycle=cycle,
                    code=s.code,
                    position=i,
                    owner_role=s.owner_role,
                    due_date=due[s.code],
                    status=CycleStage.Status.ACTIVE if i == 0 else CycleStage.Status.PENDING,
                    started_at=now if i == 0 else None,
                )
                for i, s in enumerate(cycle_calendar.STAGES)
            ]
        )
        count, warnings, history_through = _demand_plan_build(cycle=cycle, run=run, previous=previous)
        PlanCycle.objects.filter(pk=cycle.pk).update(
            lines_count=count, warnings=warnings, history_through=history_through
        )
        audit_record(
            actor=user,
            action="cycle.create",
            target=cycle,
            after={"month": month.isoformat(), "forecast_run": run.pk, "lines": count},
        )
    cycle.refresh_from_db()
    return cycle


def _demand_plan_build(*, cycle: PlanCycle, run, previous: PlanCycle | None) -> tuple[int, list[str], dt.date | None]:
    """Write the cycle's demand plan rows and the sales history its demand review charts;
    returns the row count, warnings and the last month of stored history."""
    periods = cycle_selectors.cycle_periods(cycle)
    inputs = cycle_selectors.cycle_inputs(run=run, periods=periods, previous=previous)
    actuals_insert(inputs.actuals.assign(cycle_id=cycle.pk))
    grid = inputs.grid
    warnings = []
    if inputs.forecast_last_month is None or inputs.forecast_last_month < periods[-1]:
        warnings.append(
            _(
                "Forecast run %(run)s ends before the cycle's last month (%(month)s): the months after "
                "it have no statistical forecast."
            )
            % {"run": run.pk, "month": periods[-1].strftime("%Y-%m")}
        )
    if grid.empty:
        warnings.append(
            _("Forecast run %(run)s has no product × territory series: the demand plan is empty.") % {"run": run.pk}
        )
        return 0, warnings, inputs.actuals_through
    grid["naive"] = seasonal_naive(grid, inputs.history, last_history_month=inputs.last_history_month)
    grid["target"], missing = spread_targets(grid, inputs.quotas)
    if len(missing):
        warnings.append(
            _(
                "%(n)s quota rows (%(units)s units) have no forecast series in their family and "
                "territory: they are not in the targets."
            )
            % {"n": len(missing), "units": f"{missing['quota_qty'].sum():,.0f}"}
        )
    grid["consensus"] = starting_consensus(grid, inputs.previous)
    grid["cycle_id"] = cycle.pk
    grid["sales_override"] = None
    grid["feasible"] = None
    grid["revision"] = 0
    grid["statistical"] = grid["statistical"].round(4)
    return lines_insert(grid), warnings, inputs.actuals_through


@transaction.atomic
def cycle_delete(*, cycle: PlanCycle) -> None:
    """Remove a cycle and its rows (demo reloads, tests); published cycles stay."""
    lines_delete(cycle_id=cycle.pk)
    cycle.delete()


# ---------------------------------------------------------------------------------------
# Stages
# ---------------------------------------------------------------------------------------


def _owns(user, stage: CycleStage) -> bool:
    return has_role(user, ADMIN, stage.owner_role) or (stage.owner_id is not None and stage.owner_id == user.pk)


def _require_owner(user, stage: CycleStage, action: str) -> None:
    if not _owns(user, stage):
        raise ApplicationError(
            _("Only the owner of the %(stage)s stage (%(role)s) or an admin can %(action)s it.")
            % {"stage": stage_label(stage.code), "role": stage.owner_role, "action": action},
            code="permission_denied",
            status=403,
        )


def cycle_advance(*, cycle: PlanCycle, user, comment: str = "") -> PlanCycle:
    """Complete the current stage and start the next; completing the executive review
    publishes the plan. Entering the supply review starts the cycle's plan run."""
    with transaction.atomic():
        cycle = _locked(cycle)
        _frozen(cycle)
        stages = {s.code: s for s in cycle.stages.select_for_update()}
        current = stages[cycle.stage]
        _require_owner(user, current, _("complete"))
        now = timezone.now()
        current.status, current.completed_at, current.completed_by = CycleStage.Status.DONE, now, user
        current.comment = comment.strip()
        current.save(update_fields=["status", "completed_at", "completed_by", "comment", "updated_at"])
        following = cycle_calendar.next_stage(cycle.stage)
        nxt = stages[following]
        nxt.status, nxt.started_at = CycleStage.Status.ACTIVE, now
        nxt.completed_at, nxt.completed_by = None, None
        fields = ["stage", "updated_at"]
        cycle.stage = following
        if following == "published":
            nxt.status, nxt.completed_at, nxt.completed_by = CycleStage.Status.DONE, now, user
            cycle.status, cycle.published_at, cycle.published_by = PlanCycle.Status.PUBLISHED, now, user
            fields += ["status", "published_at", "published_by"]
        nxt.save(update_fields=["status", "started_at", "completed_at", "completed_by", "updated_at"])
        cycle.save(update_fields=fields)
        audit_record(
            actor=user,
            action="cycle.advance",
            target=cycle,
            before={"stage": current.code},
            after={"stage": following, "comment": comment.strip()},
        )
        if following == "supply_review":
            _plan_run_start(cycle=cycle, user=user)
        if cycle.is_published:
            event_emit(type="plan.published", data=_published_event(cycle))
    return cycle


def _published_event(cycle: PlanCycle) -> dict:
    periods = cycle_selectors.cycle_periods(cycle)
    return {
        "month": cycle.month.isoformat(),
        "published_at": cycle.published_at.isoformat(),
        "published_by": getattr(cycle.published_by, "username", None),
        "horizon_start": periods[0].isoformat(),
        "horizon_end": periods[-1].isoformat(),
        "plan_run_id": cycle.plan_run_id,
        "plan_url": f"/api/v1/plan-cycles/{cycle.month.isoformat()}/plan/",
    }


def cycle_send_back(*, cycle: PlanCycle, user, comment: str) -> PlanCycle:
    """Return the cycle to the stage before the current one, with the reason."""
    comment = (comment or "").strip()
    if not comment:
        raise ApplicationError(
            _("Say why the stage goes back: a comment is required."),
            code="comment_required",
            details={"comment": "required"},
        )
    with transaction.atomic():
        cycle = _locked(cycle)
        _frozen(cycle)
        stages = {s.code: s for s in cycle.stages.select_for_update()}
        current = stages[cycle.stage]
        _require_owner(user, current, _("send back"))
        previous = cycle_calendar.previous_stage(cycle.stage)
        if previous is None:
            raise ApplicationError(
                _("The data stage is the first one: there is no stage to go back to."),
                code="invalid_transition",
                status=409,
            )
        now = timezone.now()
        current.status, current.started_at, current.comment = CycleStage.Status.PENDING, None, comment
        current.save(update_fields=["status", "started_at", "comment", "updated_at"])
        back = stages[previous]
        back.status, back.started_at, back.completed_at, back.completed_by = CycleStage.Status.ACTIVE, now, None, None
        back.comment = comment
        back.save(update_fields=["status", "started_at", "completed_at", "completed_by", "comment", "updated_at"])
        cycle.stage = previous
        cycle.save(update_fields=["stage", "updated_at"])
        audit_record(
            actor=user,
            action="cycle.send_back",
            target=cycle,
            before={"stage": current.code},
            after={"stage": previous, "comment": comment},
        )
    return cycle


@transaction.atomic
def cycle_stage_assign(*, cycle: PlanCycle, code: str, owner_id: int | None, user) -> CycleStage:
    """Name (or clear) the person who owns a stage."""
    if not has_role(user, ADMIN, PLANNER):
        raise ApplicationError(_("Only planners and admins assign stage owners."), code="permission_denied", status=403)
    _frozen(cycle)
    stage = CycleStage.objects.filter(cycle=cycle, code=code).first()
    if stage is None:
        raise ApplicationError(_("No stage '%(code)s'.") % {"code": code}, code="not_found", status=404)
    owner = get_user_model().objects.filter(pk=owner_id, is_active=True).first() if owner_id else None
    if owner_id and (owner is None or not has_role(owner, stage.owner_role, ADMIN)):
        raise ApplicationError(
            _("The owner of this stage must hold the %(role)s role.") % {"role": stage.owner_role}, code="invalid_owner"
        )
    stage.owner = owner
    stage.save(update_fields=["owner", "updated_at"])
    audit_record(actor=user, action="cycle.stage_assign", target=cycle, after={"stage": code, "owner": owner_id})
    return stage


# ---------------------------------------------------------------------------------------
# Editing the demand plan
# ---------------------------------------------------------------------------------------

MEASURE_ROLES = {"consensus": (ADMIN, PLANNER), "sales_override": (ADMIN, SALES_MANAGER)}


def _measure_label(measure: str) -> str:
    return {"consensus": _("the consensus"), "sales_override": _("the sales input")}.get(measure, measure)


def _clean_edit(*, level: str, keys: dict, measure: str, value, reason: str, etag: str | None) -> tuple[dict, int]:
    errors = {}
    if level not in cycle_selectors.LEVELS:
        errors["level"] = _("Choose one of: %(levels)s.") % {"levels": ", ".join(cycle_selectors.LEVELS)}
    else:
        key = cycle_selectors.LEVEL_KEY[level]
        no_territory = key in cycle_selectors.NO_TERRITORY_KEYS and key in keys and keys[key] is None
        if key and not keys.get(key) and not no_territory:
            errors[key] = (
                _("Required at the %(level)s level (null: the rows of no territory).")
                if key in cycle_selectors.NO_TERRITORY_KEYS
                else _("Required at the %(level)s level.")
            ) % {"level": level}
    if measure not in cycle_selectors.EDITABLE_MEASURES:
        errors["measure"] = _("Only sales_override and consensus can be edited.")
    units = None
    try:
        units = int(value)
        if units != value and str(units) != str(value).strip():
            raise ValueError
        if not 0 <= units <= MAX_UNITS:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        errors["value"] = _("A whole number of units from 0 up.")
    if not (reason or "").strip():
        errors["reason"] = _("Say why: a reason is required for every edit.")
    if errors:
        raise ApplicationError(_("The edit is not valid."), code="validation_error", details=errors)
    if not etag:
        raise ApplicationError(
            _("Send the row's etag (in the body or an If-Match header) so that no one else's change is overwritten."),
            code="precondition_required",
            status=428,
        )
    return {
        k: v
        for k, v in keys.items()
        if k in cycle_selectors.KEY_FIELDS and (v or (v is None and k in cycle_selectors.NO_TERRITORY_KEYS))
    }, units


def demand_plan_edit(
    *,
    cycle: PlanCycle,
    user,
    level: str,
    keys: dict,
    period_start: dt.date,
    measure: str,
    value,
    reason: str,
    etag: str | None,
) -> dict:
    """Set one measure of one aggregate row (level, keys, month) to ``value`` whole units,
    spread to its grain rows (``sop.spread``), if ``etag`` is still the row's etag. Returns
    the edited row with its new etag. 412 when the row changed since it was read.
    ``keys`` with ``territory_code`` (or ``region_code``) None edit the rows of no territory.

    The row is the one the caller sees: a sales manager's family row is the family in the
    territories they manage, and their edit spreads over those rows only; keys naming a
    territory or region outside them answer 403."""
    keys, units = _clean_edit(level=level, keys=keys, measure=measure, value=value, reason=reason, etag=etag)
    if not has_role(user, *MEASURE_ROLES[measure]):
        raise ApplicationError(
            _("Your role cannot edit %(measure)s.") % {"measure": _measure_label(measure)},
            code="permission_denied",
            status=403,
        )
    etag = etag.strip().removeprefix("W/").strip('"')
    with transaction.atomic():
        cycle = _locked(cycle)
        _frozen(cycle)
        if period_start not in cycle_selectors.cycle_periods(cycle):
            raise ApplicationError(
                _("%(month)s is not a month of this cycle.") % {"month": period_start.isoformat()},
                code="not_found",
                status=404,
            )
        every = cycle_selectors.grain_rows(cycle=cycle, keys=keys, period_start=period_start)
        mine = cycle_selectors.grain_rows(cycle=cycle, keys=keys, period_start=period_start, user=user)
        seen = mine.aggregate(revision=Max("revision"), rows=Count("id"))
        if not seen["rows"]:
            if every.exists():
                raise ApplicationError(
                    _("These rows are outside your territories."), code="permission_denied", status=403
                )
            raise ApplicationError(_("No demand plan row matches these keys."), code="not_found", status=404)
        current_etag = cycle_selectors.etag_of(seen["revision"], seen["rows"])
        if etag != current_etag:
            raise ApplicationError(
                _(
                    "Someone changed this row since you loaded it; nothing was saved. Reload to see their "
                    "change, then edit again."
                ),
                code="precondition_failed",
                status=412,
                details={"etag": current_etag},
            )
        rows = pd.DataFrame.from_records(
            # One row order on every database (it breaks the spread's ties): no territory last.
            list(
                mine.order_by("product_id", F("territory_id").asc(nulls_last=True)).values_list(
                    "id", measure, "statistical"
                )
            ),
            columns=["id", "current", "statistical"],
        )
        current = pd.to_numeric(rows["current"], errors="coerce")
        shares = spread_total(units, current=current.fillna(0).to_numpy(), fallback=rows["statistical"].to_numpy())
        changed = current.isna().to_numpy() | (current.fillna(-1).to_numpy() != shares)
        before = None if current.isna().all() else float(current.sum())
        cycle.revision += 1
        cycle.save(update_fields=["revision", "updated_at"])
        measure_write(
            measure=measure, ids=rows["id"].to_numpy()[changed], values=shares[changed], revision=cycle.revision
        )
        DemandPlanEdit.objects.create(
            cycle=cycle,
            revision=cycle.revision,
            user=user if getattr(user, "is_authenticated", False) else None,
            level=level,
            keys=keys,
            period_start=period_start,
            measure=measure,
            before=before,
            after=units,
            reason=reason.strip(),
            rows_changed=int(changed.sum()),
        )
    return cycle_selectors.demand_plan_row(cycle=cycle, user=user, level=level, keys=keys, period_start=period_start)


# ---------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------


def _decision_links(
    *, family_code: str = "", product_sku: str = "", work_center_code: str = "", alert_id: int | None = None
) -> dict:
    links, errors = {}, {}
    for field, model, lookup, value, missing in (
        ("family", ProductFamily, "code", family_code, _("No product family '%(value)s'.")),
        ("product", Product, "sku", product_sku, _("No product '%(value)s'.")),
        ("work_center", WorkCenter, "code", work_center_code, _("No work center '%(value)s'.")),
        ("alert", CapacityAlert, "pk", alert_id, _("No alert '%(value)s'.")),
    ):
        if value in (None, ""):
            continue
        obj = model.objects.filter(**{lookup: value}).first()
        if obj is None:
            errors[field] = missing % {"value": value}
        links[field] = obj
    if errors:
        raise ApplicationError(
            _("The decision names something that does not exist."), code="validation_error", details=errors
        )
    return links


@transaction.atomic
def decision_create(
    *,
    cycle: PlanCycle,
    user,
    topic: str,
    decision: str = "",
    owner_id: int | None = None,
    due_date: dt.date | None = None,
    family_code: str = "",
    product_sku: str = "",
    work_center_code: str = "",
    alert_id: int | None = None,
) -> Decision:
    if not has_role(user, ADMIN, PLANNER, OPS_LEAD, EXECUTIVE, SALES_MANAGER, ERP):
        raise ApplicationError(
            _("Your role does not take part in the S&OP cycle."), code="permission_denied", status=403
        )
    topic = (topic or "").strip()
    if not topic:
        raise ApplicationError(
            _("A decision needs a topic."), code="validation_error", details={"topic": _("Required.")}
        )
    owner = None
    if owner_id:
        owner = get_user_model().objects.filter(pk=owner_id, is_active=True).first()
        if owner is None:
            raise ApplicationError(_("No such owner."), code="validation_error", details={"owner": owner_id})
    links = _decision_links(
        family_code=family_code, product_sku=product_sku, work_center_code=work_center_code, alert_id=alert_id
    )
    item = Decision.objects.create(
        cycle=cycle,
        topic=topic[:200],
        decision=(decision or "").strip(),
        owner=owner,
        due_date=due_date,
        created_by=user,
        **links,
    )
    audit_record(actor=user, action="cycle.decision", target=item, after={"topic": item.topic})
    return item


@transaction.atomic
def decision_update(*, item: Decision, user, status: str | None = None, decision: str | None = None) -> Decision:
    if not has_role(user, ADMIN, PLANNER, OPS_LEAD, EXECUTIVE, SALES_MANAGER):
        raise ApplicationError(
            _("Your role does not take part in the S&OP cycle."), code="permission_denied", status=403
        )
    before = {"status": item.status, "decision": item.decision}
    if status is not None:
        if status not in Decision.Status.values:
            raise ApplicationError(_("Unknown status."), code="validation_error", details={"status": status})
        item.status = status
    if decision is not None:
        item.decision = decision.strip()
    item.save(update_fields=["status", "decision", "updated_at"])
    audit_record(
        actor=user,
        action="cycle.decision_update",
        target=item,
        before=before,
        after={"status": item.status, "decision": item.decision},
    )
    return item


# ---------------------------------------------------------------------------------------
# The cycle's plan run
# ---------------------------------------------------------------------------------------


def _plan_run_start(*, cycle: PlanCycle, user, as_of: dt.date | None = None) -> PlanRun:
    as_of = as_of or timezone.localdate()
    periods = cycle_selectors.cycle_periods(cycle)
    months = months_between(as_of, periods[-1]) + 1
    run = plan_run_create(
        as_of=as_of,
        trigger=PlanRun.Trigger.USER,
        user=user,
        parameters={"forecast": False, "cycle_id": cycle.pk, "cycle_month": cycle.month.isoformat()},
    )
    run.horizon_periods = max(1, months)
    run.forecast_run_id = cycle.forecast_run_id
    run.save(update_fields=["horizon_periods", "forecast_run", "updated_at"])
    cycle.plan_run = run
    PlanCycle.objects.filter(pk=cycle.pk).update(plan_run=run, updated_at=timezone.now())
    plan_run_enqueue(run)
    return run


def cycle_plan_run_start(*, cycle: PlanCycle, user, as_of: dt.date | None = None) -> PlanRun:
    """Reconcile the cycle's consensus against capacity and inventory (a plan run whose
    demand is the consensus); its feasible quantities land in the demand plan."""
    if not has_role(user, ADMIN, PLANNER, OPS_LEAD):
        raise ApplicationError(
            _("Only planners, operations leads and admins run the plan."), code="permission_denied", status=403
        )
    with transaction.atomic():
        cycle = _locked(cycle)
        _frozen(cycle)
        return _plan_run_start(cycle=cycle, user=user, as_of=as_of)
