"""Writes and workflows of compensation: crediting, period compute and close, disputes,
SPIFFs (also from an aged-stock alert), and comp-plan upserts.

Period close, in order (``comp_period_close``):
1. the period is the earliest open one (every earlier pay period is closed);
2. its sales lines are credited afresh and stored as ``Credit`` rows;
3. every closed period whose inputs changed since it closed (sales lines dated in it, the plan
   of one of its statements, territory assignments, SPIFFs) is recomputed in memory; what the
   recomputation changes, less what later statements already corrected, becomes adjustment
   lines of this period naming the statement they correct. Closed statements are never
   rewritten (their ``rendered`` JSON is what was paid);
4. ``compute_period`` gives every rep with a plan assignment their statement (draw balance
   carried from their last closed statement, SPIFF budgets shared, the YTD true-up when the plan
   asks for it); the statements are stored and locked, the SPIFF budgets used are recorded.

Logs name periods and counts only: commission amounts never appear in logs.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from decimal import Decimal

import numpy as np
import pandas as pd
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from compensation import calculations as calc
from compensation import selectors as sel
from compensation.bulk import _tiers
from compensation.models import (
    CompAssignment,
    CompPeriod,
    CompPlan,
    Credit,
    Dispute,
    Spiff,
    Statement,
    StatementLine,
)
from core.bulk.insert import insert_frame, stamps
from core.calendar import add_months, month_bounds, month_range, months_between
from core.errors import ApplicationError
from core.roles import ADMIN, SALES_MANAGER, user_roles
from core.services import audit_record, organisation_settings_get
from crm.models import CertificationRule
from crm.selectors import missing_certifications_for
from inventory.models import Product
from sales.models import SalesOrderLine
from sop.alert_rules import AlertThresholds
from sop.models import CapacityAlert
from territories.models import TerritoryAssignment

logger = logging.getLogger(__name__)
ZERO = Decimal("0")


# --- periods ----------------------------------------------------------------------------------


def comp_period_get_or_create(*, period_start: dt.date) -> CompPeriod:
    if period_start.day != 1:
        raise ApplicationError(
            f"A pay period starts on the first of a month, not {period_start}.", code="invalid_period"
        )
    start, end = month_bounds(period_start)
    period, _ = CompPeriod.objects.get_or_create(period_start=start, defaults={"period_end": end})
    return period


def credits_store(*, period: CompPeriod, frame) -> int:
    """Replace the stored credits dated in ``period`` with the rows of a ``credited_frame``.

    Inserted by ``core.bulk.insert.insert_frame`` (COPY, or one prepared statement on SQLite):
    measured, ``bulk_create`` spent 80 % of a period close building model instances and
    compiling SQL for ~10,000 rows.
    """
    Credit.objects.filter(period_start=period.period_start).delete()
    if frame.empty:
        return 0
    User = get_user_model()
    ids = dict(User.objects.filter(username__in=set(frame["rep_username"])).values_list("username", "pk"))
    six = Decimal("0.000001")
    rows = pd.DataFrame(
        {
            "sales_line_id": frame["sales_line_pk"].astype("int64").to_numpy(),
            "rep_id": frame["rep_username"].map(ids).astype("int64").to_numpy(),
            "role": frame["role"].to_numpy(),
            "kind": np.where(frame["status"].to_numpy() == "returned", "return", "credit"),
            "share": frame["share"].to_numpy(),
            "distance": frame["distance"].astype("int64").to_numpy(),
            "territory_id": pd.array(frame["territory_id"], dtype="Int64"),
            "date": frame["order_date"].to_numpy(),
            "period_start": period.period_start,
            "amount": [Decimal(a).quantize(six) for a in frame["amount"]],
            "quantity": [Decimal(q).quantize(six) for q in frame["quantity"]],
        }
    )
    return insert_frame(Credit._meta.db_table, rows, text_columns=("role", "kind"), constants=stamps("created_at"))


def _changed_since_close(period: CompPeriod) -> bool:
    since = period.closed_at
    start, end = period.period_start, period.period_end
    plan_ids = Statement.objects.filter(period=period).values("plan_id")
    return (
        SalesOrderLine.objects.between(start, end).filter(updated_at__gt=since).exists()
        or CompPlan.objects.filter(pk__in=plan_ids, updated_at__gt=since).exists()
        or TerritoryAssignment.objects.filter(updated_at__gt=since, valid_from__lte=end)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
        .exists()
        or Spiff.objects.active_between(start, end).filter(updated_at__gt=since).exists()
    )


def _already_corrected(keys: list[str]) -> dict[tuple[str, str], Decimal]:
    """What closed statements already paid as corrections, by (statement key, component)."""
    done: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    rows = StatementLine.objects.filter(corrects__in=keys, statement__status=Statement.Status.CLOSED).values_list(
        "corrects", "corrects_component", "amount"
    )
    for key, component, amount in rows:
        done[(key, component)] += amount
    return done


def _corrections(*, before: CompPeriod) -> dict[str, list[calc.StatementLine]]:
    """Adjustment lines per rep username for closed periods (before ``before``) whose inputs
    changed since they closed."""
    out: dict[str, list[calc.StatementLine]] = defaultdict(list)
    closed = CompPeriod.objects.filter(status=CompPeriod.Status.CLOSED, period_start__lt=before.period_start)
    for period in closed.order_by("period_start"):
        if not _changed_since_close(period):
            continue
        statements = list(
            Statement.objects.filter(period=period, status=Statement.Status.CLOSED).select_related("rep", "plan")
        )
        if not statements:
            continue
        frame = sel.credited_frame(period.period_start, period.period_end)
        credits_store(period=period, frame=frame)
        by_rep = sel.credited_lines(frame)
        snapshots = {s.rep.username: sel.statement_snapshot(s) for s in statements}
        reps = []
        for statement in statements:
            snapshot = snapshots[statement.rep.username]
            if statement.plan is None:
                continue
            reps.append(
                calc.RepPeriod(
                    rep=snapshot.rep,
                    plan=sel.plan_terms(statement.plan),
                    credits=tuple(c for c in by_rep.get(snapshot.rep, ())),
                    quota=snapshot.quota,
                    prior_draw_balance=snapshot.draw_balance_prior,
                    adjustments=tuple(line for line in snapshot.lines if line.component == "adjustment"),
                )
            )
        result = _compute(
            calc.Period(period.period_start, period.period_end),
            reps,
            spiffs=sel.spiffs_between(period.period_start, period.period_end),
            budget=period.spiff_budget_before,
        )
        done = _already_corrected([s.key for s in snapshots.values()])
        for recomputed in result.statements:
            snapshot = snapshots[recomputed.rep]
            for line in calc.adjustment_lines(snapshot, recomputed):
                if line.corrects_component == "true_up":
                    continue  # the next true-up settles year-to-date differences itself
                amount = line.amount - done[(line.corrects, line.corrects_component)]
                if amount == ZERO:
                    continue
                out[recomputed.rep].append(
                    calc.StatementLine(
                        component="adjustment",
                        description=line.description,
                        base=line.base,
                        amount=amount,
                        source_ids=line.source_ids,
                        corrects=line.corrects,
                        corrects_component=line.corrects_component,
                    )
                )
    return out


def spiff_certification_blocks(*, usernames: list[str], day: dt.date) -> dict[str, str]:
    """Rep → why no SPIFF may be paid to them on ``day``: the modules a SPIFF certification
    rule (``crm.models.CertificationRule``) requires that they hold no current completion of."""
    if not CertificationRule.objects.filter(active=True, applies_to=CertificationRule.AppliesTo.SPIFF_PAYOUT).exists():
        return {}
    blocks = {}
    for user in get_user_model().objects.filter(username__in=usernames).order_by("username"):
        missing = missing_certifications_for(user=user, applies_to=CertificationRule.AppliesTo.SPIFF_PAYOUT, day=day)
        if missing:
            blocks[user.username] = _("needs a current certification in %(modules)s on %(day)s") % {
                "modules": ", ".join(f"{m.code} ({m.name})" for m in missing),
                "day": day.isoformat(),
            }
    return blocks


def _compute(period: calc.Period, reps, *, spiffs, budget) -> calc.PeriodResult:
    blocked = spiff_certification_blocks(usernames=[item.rep for item in reps], day=period.end) if spiffs else {}
    try:
        return calc.compute_period(
            period,
            reps,
            spiffs=spiffs,
            spiff_budget_used={k: Decimal(v) for k, v in (budget or {}).items()},
            spiff_blocked=blocked,
        )
    except calc.CompensationError as exc:
        raise ApplicationError(str(exc), code="compensation_error") from exc


def _year_start(day: dt.date) -> dt.date:
    month = organisation_settings_get().fiscal_year_start_month
    year = day.year if day.month >= month else day.year - 1
    return dt.date(year, month, 1)


def _ytd_input(
    *, username: str, assignment: CompAssignment, period: CompPeriod, credits: tuple[calc.CreditedLine, ...]
) -> calc.YtdInput:
    year_start = max(_year_start(period.period_start), assignment.valid_from.replace(day=1))
    earlier = sel.stored_credited_lines(
        usernames=[username], start=year_start, end=period.period_start - dt.timedelta(days=1)
    ).get(username, [])
    prior = [
        sel.statement_snapshot(s)
        for s in Statement.objects.filter(
            rep=assignment.rep,
            status=Statement.Status.CLOSED,
            period_start__gte=year_start,
            period_start__lt=period.period_start,
        )
    ]
    months = months_between(year_start, period.period_start) + 1
    quota = assignment.quota * months if assignment.quota is not None else None
    return calc.YtdInput(credits=tuple(earlier) + tuple(credits), quota=quota, prior_paid=calc.ytd_paid(prior))


def _period_inputs(period: CompPeriod) -> tuple[list[calc.RepPeriod], dict[str, CompAssignment]]:
    frame = sel.credited_frame(period.period_start, period.period_end)
    credits_store(period=period, frame=frame)
    by_rep = sel.credited_lines(frame)
    chosen = sel.plan_assignments(period.period_start, period.period_end)
    corrections = _corrections(before=period)
    last_closed = {}
    for statement in Statement.objects.filter(
        rep_id__in=list(chosen), status=Statement.Status.CLOSED, period_start__lt=period.period_start
    ).order_by("period_start"):
        last_closed[statement.rep_id] = statement
    reps, assignments = [], {}
    for rep_id, (assignment, terminated) in sorted(chosen.items(), key=lambda item: item[1][0].rep.username):
        username = assignment.rep.username
        credits = tuple(by_rep.get(username, ()))
        previous = last_closed.get(rep_id)
        ytd = None
        if assignment.plan.ytd_true_up:
            ytd = _ytd_input(username=username, assignment=assignment, period=period, credits=credits)
        reps.append(
            calc.RepPeriod(
                rep=username,
                plan=sel.plan_terms(assignment.plan),
                credits=credits,
                quota=assignment.quota,
                prior_draw_balance=previous.draw_balance_carried if previous else ZERO,
                terminated=terminated,
                adjustments=tuple(corrections.get(username, ())),
                ytd=ytd,
            )
        )
        assignments[username] = assignment
    return reps, assignments


def _store_statements(
    period: CompPeriod, result: calc.PeriodResult, assignments: dict[str, CompAssignment], *, close: bool
) -> int:
    Statement.objects.filter(period=period, status=Statement.Status.DRAFT).delete()
    now = timezone.now()
    stored = []
    for item in result.statements:
        assignment = assignments[item.rep]
        stored.append(
            Statement(
                rep=assignment.rep,
                period=period,
                period_start=period.period_start,
                period_end=period.period_end,
                plan=assignment.plan,
                plan_code=assignment.plan.code,
                plan_version=assignment.plan.version,
                status=Statement.Status.CLOSED if close else Statement.Status.DRAFT,
                total=item.total_payable,
                credited=item.credited,
                quota=item.quota,
                attainment=item.attainment,
                draw_balance_prior=item.draw_balance_prior,
                draw_balance_carried=item.draw_balance_carried,
                notes=list(item.notes),
                rendered=calc.render_statement(item) if close else "",
                closed_at=now if close else None,
            )
        )
    Statement.objects.bulk_create(stored)
    lines = [
        StatementLine(
            statement=statement,
            position=position,
            component=line.component,
            description=line.description,
            base=line.base,
            rate=line.rate,
            rate_unit=line.rate_unit,
            amount=line.amount,
            source_ids=list(line.source_ids),
            corrects=line.corrects,
            corrects_component=line.corrects_component,
        )
        for statement, item in zip(stored, result.statements, strict=True)
        for position, line in enumerate(item.lines, start=1)
    ]
    StatementLine.objects.bulk_create(lines, batch_size=2000)
    return len(stored)


def _run_period(*, period_start: dt.date, actor, close: bool) -> CompPeriod:
    period = comp_period_get_or_create(period_start=period_start)
    period = CompPeriod.objects.select_for_update().get(pk=period.pk)
    if period.is_closed:
        if close:
            return period  # closing twice is a no-op: a closed period is never recomputed
        raise ApplicationError(
            f"Pay period {period.period_start:%Y-%m} is closed: its statements are locked.",
            code="period_closed",
            status=409,
        )
    if close:
        still_open = CompPeriod.objects.filter(period_start__lt=period.period_start, status=CompPeriod.Status.OPEN)
        first = still_open.order_by("period_start").first()
        if first is not None:
            raise ApplicationError(
                f"Close pay period {first.period_start:%Y-%m} first: periods close in order.",
                code="earlier_period_open",
                status=409,
            )
    reps, assignments = _period_inputs(period)
    budget_before = {
        s.code: str(s.budget_used) for s in Spiff.objects.active_between(period.period_start, period.period_end)
    }
    result = _compute(
        calc.Period(period.period_start, period.period_end),
        reps,
        spiffs=sel.spiffs_between(period.period_start, period.period_end),
        budget=budget_before,
    )
    count = _store_statements(period, result, assignments, close=close)
    period.statement_count = count
    period.computed_at = timezone.now()
    fields = ["statement_count", "computed_at", "updated_at"]
    if close:
        period.status = CompPeriod.Status.CLOSED
        period.closed_at = period.computed_at
        period.closed_by = actor if getattr(actor, "is_authenticated", False) else None
        period.spiff_budget_before = budget_before
        period.spiff_budget_after = {code: str(used) for code, used in result.spiff_budget_used.items()}
        fields += ["status", "closed_at", "closed_by", "spiff_budget_before", "spiff_budget_after"]
        for code, used in result.spiff_budget_used.items():
            # update() leaves updated_at alone: only a change of terms marks a SPIFF as changed.
            Spiff.objects.filter(code=code).update(budget_used=used)
        audit_record(
            actor=actor,
            action="compensation.period_closed",
            target=period,
            after={"period_start": period.period_start.isoformat(), "statements": count},
        )
    period.save(update_fields=fields)
    logger.info("pay period %s %s: %d statements", period.period_start, "closed" if close else "computed", count)
    return period


@transaction.atomic
def comp_period_compute(*, period_start: dt.date, actor=None) -> CompPeriod:
    """Compute (or recompute) the draft statements of an open pay period."""
    return _run_period(period_start=period_start, actor=actor, close=False)


@transaction.atomic
def comp_period_close(*, period_start: dt.date, actor=None) -> CompPeriod:
    """Compute every statement of the period and lock them (see the module docstring)."""
    return _run_period(period_start=period_start, actor=actor, close=True)


def comp_period_close_start(*, period_start: dt.date, actor) -> CompPeriod:
    """Queue the close of a pay period (``202`` + poll); a closed period is returned as is."""
    # Here, not at the top: compensation.tasks imports this module.
    from compensation.tasks import comp_period_close_task

    with transaction.atomic():
        period = comp_period_get_or_create(period_start=period_start)
        period = CompPeriod.objects.select_for_update().get(pk=period.pk)
        if period.is_closed or period.run_status in (CompPeriod.RunStatus.QUEUED, CompPeriod.RunStatus.RUNNING):
            return period
        period.run_status = CompPeriod.RunStatus.QUEUED
        period.run_error = ""
        period.save(update_fields=["run_status", "run_error", "updated_at"])
        actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
        transaction.on_commit(lambda: comp_period_close_task.delay(period_start.isoformat(), actor_id))
    return period


def comp_period_close_run(*, period_start: dt.date, actor_id: int | None = None) -> CompPeriod:
    """The body of the close task: run the close and record how it ended on the period."""
    period = comp_period_get_or_create(period_start=period_start)
    CompPeriod.objects.filter(pk=period.pk).update(
        run_status=CompPeriod.RunStatus.RUNNING, run_started_at=timezone.now(), run_finished_at=None
    )
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    try:
        comp_period_close(period_start=period_start, actor=actor)
    except ApplicationError as exc:
        CompPeriod.objects.filter(pk=period.pk).update(
            run_status=CompPeriod.RunStatus.FAILED, run_error=exc.message, run_finished_at=timezone.now()
        )
        return CompPeriod.objects.get(pk=period.pk)
    except Exception as exc:
        CompPeriod.objects.filter(pk=period.pk).update(
            run_status=CompPeriod.RunStatus.FAILED, run_error=f"{type(exc).__name__}", run_finished_at=timezone.now()
        )
        raise
    CompPeriod.objects.filter(pk=period.pk).update(
        run_status=CompPeriod.RunStatus.COMPLETED, run_finished_at=timezone.now()
    )
    return CompPeriod.objects.get(pk=period.pk)


# --- disputes ---------------------------------------------------------------------------------


def _dispute_state(dispute: Dispute) -> dict:
    return {"status": dispute.status, "reason": dispute.reason, "answer": dispute.answer}


@transaction.atomic
def dispute_raise(*, user, line_id: int, reason: str) -> Dispute:
    """The rep of a statement raises a dispute on one of its lines."""
    line = StatementLine.objects.for_user(user).select_related("statement").filter(pk=line_id).first()
    if line is None:
        raise ApplicationError(gettext("No such statement line."), code="not_found", status=404)
    if line.statement.rep_id != user.pk:
        raise ApplicationError(
            gettext("Only the rep a statement belongs to can dispute its lines."), code="not_your_statement", status=403
        )
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(gettext("Say what is wrong with the line."), code="empty_reason")
    dispute = Dispute.objects.create(line=line, raised_by=user, reason=reason)
    audit_record(actor=user, action="compensation.dispute_raised", target=dispute, after=_dispute_state(dispute))
    return dispute


def _may_answer(user, dispute: Dispute) -> bool:
    roles = user_roles(user)
    if ADMIN in roles or user.is_superuser:
        return True
    return SALES_MANAGER in roles and dispute.raised_by_id != user.pk


@transaction.atomic
def dispute_answer(*, user, dispute_id: int, answer: str) -> Dispute:
    """A manager of the rep (or an admin) answers an open dispute."""
    dispute = Dispute.objects.for_user(user).select_for_update().filter(pk=dispute_id).first()
    if dispute is None:
        raise ApplicationError(gettext("No such dispute."), code="not_found", status=404)
    if not _may_answer(user, dispute):
        raise ApplicationError(
            gettext("Only the rep's manager or an admin answers a dispute."), code="forbidden", status=403
        )
    if dispute.status != Dispute.Status.OPEN:
        raise ApplicationError(
            f"The dispute is {dispute.status}: only an open dispute can be answered.",
            code="invalid_transition",
            status=409,
        )
    answer = (answer or "").strip()
    if not answer:
        raise ApplicationError(gettext("Write an answer."), code="empty_answer")
    before = _dispute_state(dispute)
    dispute.status, dispute.answer = Dispute.Status.ANSWERED, answer
    dispute.answered_by, dispute.answered_at = user, timezone.now()
    dispute.save(update_fields=["status", "answer", "answered_by", "answered_at", "updated_at"])
    audit_record(
        actor=user, action="compensation.dispute_answered", target=dispute, before=before, after=_dispute_state(dispute)
    )
    return dispute


@transaction.atomic
def dispute_close(*, user, dispute_id: int) -> Dispute:
    """The rep who raised it, their manager or an admin closes an answered dispute."""
    dispute = Dispute.objects.for_user(user).select_for_update().filter(pk=dispute_id).first()
    if dispute is None:
        raise ApplicationError(gettext("No such dispute."), code="not_found", status=404)
    if dispute.raised_by_id != user.pk and not _may_answer(user, dispute):
        raise ApplicationError(gettext("You cannot close this dispute."), code="forbidden", status=403)
    if dispute.status != Dispute.Status.ANSWERED:
        raise ApplicationError(
            f"The dispute is {dispute.status}: only an answered dispute can be closed.",
            code="invalid_transition",
            status=409,
        )
    before = _dispute_state(dispute)
    dispute.status, dispute.closed_by, dispute.closed_at = Dispute.Status.CLOSED, user, timezone.now()
    dispute.save(update_fields=["status", "closed_by", "closed_at", "updated_at"])
    audit_record(
        actor=user, action="compensation.dispute_closed", target=dispute, before=before, after=_dispute_state(dispute)
    )
    return dispute


# --- SPIFFs -----------------------------------------------------------------------------------

# The share the aged-stock alert suggests (one source: sop.alert_rules.AlertThresholds).
SPIFF_SHARE_OF_PRICE = Decimal(str(AlertThresholds().spiff_rate))
SPIFF_DAYS = 60


@transaction.atomic
def spiff_create_for_product(
    *,
    sku: str,
    quantity: Decimal,
    actor,
    start: dt.date | None = None,
    days: int = SPIFF_DAYS,
    amount_per_unit: Decimal | None = None,
    margin_floor_pct: Decimal | None = Decimal("0"),
    source_alert_id: int | None = None,
) -> Spiff:
    """A per-unit SPIFF on one product to clear ``quantity`` units at stake: by default 5 % of
    the unit price per unit, for 60 days from ``start`` (today), budget = units × amount, never
    paid on a sale below cost (margin floor 0 %)."""
    product = Product.objects.select_related("family").filter(sku=sku).first()
    if product is None:
        raise ApplicationError(f"No product with SKU {sku}.", code="unknown_product", status=404)
    quantity = Decimal(quantity)
    if quantity <= ZERO:
        raise ApplicationError(gettext("The quantity at stake must be positive."), code="invalid_quantity")
    start = start or timezone.localdate()
    per_unit = amount_per_unit
    if per_unit is None:
        per_unit = (product.unit_price * SPIFF_SHARE_OF_PRICE).quantize(Decimal("0.01"))
    if per_unit <= ZERO:
        raise ApplicationError(
            f"{sku} has no price to base a SPIFF on; give an amount per unit.", code="invalid_amount"
        )
    code = f"AGED-{sku}-{start:%Y%m%d}"
    if Spiff.objects.filter(code=code).exists():
        raise ApplicationError(f"SPIFF {code} already exists.", code="duplicate_spiff", status=409)
    spiff = Spiff.objects.create(
        code=code,
        name=f"Clear aged stock of {product.name}",
        start=start,
        end=start + dt.timedelta(days=days - 1),
        kind=Spiff.Kind.PER_UNIT,
        amount=per_unit,
        skus=[sku],
        families=[],
        margin_floor_pct=margin_floor_pct,
        budget=(per_unit * quantity).quantize(Decimal("0.01")),
        source_alert_id=source_alert_id,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor,
        action="compensation.spiff_created",
        target=spiff,
        after={"code": code, "sku": sku, "source_alert_id": source_alert_id},
    )
    return spiff


def spiff_create_from_alert(*, alert_id: int, actor) -> Spiff:
    """One click on an ``aged_stock`` alert: a SPIFF on its product for the aged units."""
    alert = CapacityAlert.objects.for_user(actor).select_related("product").filter(pk=alert_id).first()
    if alert is None:
        raise ApplicationError(gettext("No such alert."), code="not_found", status=404)
    if alert.type != "aged_stock" or alert.product is None:
        raise ApplicationError(gettext("A SPIFF answers an aged-stock alert on a product."), code="not_aged_stock")
    return spiff_create_for_product(
        sku=alert.product.sku, quantity=Decimal(alert.amount), actor=actor, source_alert_id=alert.pk
    )


# --- plans ------------------------------------------------------------------------------------


@transaction.atomic
def comp_plan_changed(*, plan: CompPlan, fields: list[str], actor) -> CompPlan:
    """After an edit of a plan's terms (admin site): check them, bump the version, audit."""
    sel.plan_terms(plan)  # raises when the terms are inconsistent
    CompPlan.objects.filter(pk=plan.pk).update(version=plan.version + 1)
    plan.version += 1
    audit_record(
        actor=actor,
        action="compensation.plan_changed",
        target=plan,
        after={"fields": sorted(fields), "version": plan.version},
    )
    return plan


# --- what-if ----------------------------------------------------------------------------------


def plan_cost_what_if(
    *,
    user,
    plan_code: str | None,
    changes: dict,
    start: dt.date | None = None,
    end: dt.date | None = None,
    as_of: dt.date | None = None,
) -> dict:
    """Cost of plan ``plan_code`` as it is (A) and with ``changes`` (B) over the credited sales
    of [start, end] (default: the 12 complete months before ``as_of``), per rep on the plan and
    in total. Only reps whose pay ``user`` may see are replayed, so the totals hold nothing
    from anyone else. Nothing is stored: statements are untouched.

    ``changes``: plan fields as in the ``comp-plans`` contract (``tiers``, ``threshold``,
    ``cap``, ``cap_kind``, ``mode``, ``basis``, ``tier_on``, ``measure``, ``base_rate``,
    ``family_rules``, draw fields). Cost = commission + clawbacks (+ non-recoverable draw top-ups).
    """
    plan = CompPlan.objects.for_user(user).filter(code=plan_code or "").first()
    if plan is None:
        raise ApplicationError(f"No plan {plan_code!r} you may see.", code="not_found", status=404)
    as_of = as_of or timezone.localdate()
    if start is None or end is None:
        first = add_months(as_of.replace(day=1), -12)
        start, end = start or first, end or (as_of.replace(day=1) - dt.timedelta(days=1))
    start = start.replace(day=1)
    end = month_bounds(end)[1]
    if end < start or months_between(start, end) >= 24:
        raise ApplicationError("Choose a window of 1 to 24 months.", code="invalid_window")
    changes = dict(changes or {})
    if "cap" in changes:
        changes["cap_value"] = changes.pop("cap")
        changes.setdefault("cap_kind", "payout" if changes["cap_value"] not in (None, "") else "")
    if "tiers" in changes:
        try:
            changes["tiers"] = _tiers(changes["tiers"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ApplicationError(f"tiers: {exc}", code="invalid_plan") from exc
    plan_a = sel.plan_terms(plan)
    plan_b = sel.plan_terms(plan, overrides=changes)
    periods = [calc.Period(*month_bounds(day)) for day in month_range(start, end)]
    assignments = list(CompAssignment.objects.filter(plan=plan).overlapping(start, end).select_related("rep"))
    visible = sel.visible_rep_usernames(user=user, start=start, end=end)
    quotas, reps = {}, set()
    for period in periods:
        for a in assignments:
            if a.valid_from <= period.end and (a.valid_to is None or a.valid_to >= period.start):
                if visible is None or a.rep.username in visible:
                    reps.add(a.rep.username)
                    if a.quota is not None:
                        quotas[(a.rep.username, period.start)] = a.quota
    frame = sel.credited_frame(start, end)
    frame = frame.loc[frame["rep_username"].isin(reps)] if not frame.empty else frame
    credits = [c for lines in sel.credited_lines(frame).values() for c in lines]
    try:
        result = calc.compare_plans(periods=periods, credits=credits, plan_a=plan_a, plan_b=plan_b, quotas=quotas)
    except calc.CompensationError as exc:
        raise ApplicationError(str(exc), code="compensation_error") from exc
    return {
        "plan_code": plan.code,
        "plan_version": plan.version,
        "period_from": start,
        "period_to": end,
        "rep_count": len(result.reps),
        "total_current": str(result.total_a),
        "total_changed": str(result.total_b),
        "delta": str(result.delta),
        "reps": [
            {"rep_username": r.rep, "cost_current": str(r.cost_a), "cost_changed": str(r.cost_b), "delta": str(r.delta)}
            for r in result.reps
        ],
    }
