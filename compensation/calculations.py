"""Commission statements: pure, exact and deterministic (no Django, no floats, no clock).

Inputs (see each dataclass): a ``Period``; per rep a ``RepPeriod`` (the ``Plan``, the rep's
``CreditedLine`` records dated in the period, the quota, the draw balance carried in, the
adjustment lines carried in, an optional ``YtdInput`` for a year-to-date true-up, whether the
rep leaves this period); the period's ``Spiff`` programmes and their budget used so far.
Outputs: ``PeriodResult`` with one ``Statement`` per rep (lines in cents, component subtotals,
attainment, total payable, draw balance carried) and the SPIFF budget used after the period.

How a statement is built, in order:
1. commission on the period's ``credit`` lines (``Plan`` docstring: basis, tiers, threshold,
   cap, family multipliers, constrained families);
2. SPIFFs (``compensation.spiffs``), one line per credited sale;
3. clawbacks, in the period of the return: a ``return`` credit reverses ``paid_commission`` /
   ``paid_spiff`` when given; otherwise, on a transaction plan, the exact lines the sale earns
   alone (mirrored, negative); on a period plan, the returned amount × the rate of the tier
   this period reaches (an estimate: pass ``paid_commission`` for an exact reversal). Returns
   never change attainment, and closed statements are never rewritten;
4. adjustment lines carried in (``adjustment_lines`` made them from a closed statement);
5. the YTD true-up: commission + clawbacks of the year-to-date credits computed as one period
   against the YTD quota, minus what was paid (``ytd_paid`` of earlier statements plus this
   period's commission, clawback and non-SPIFF adjustments);
6. draws (``compensation.draws``) on the sum of the above.
Every line amount is rounded to cents once, ROUND_HALF_UP; subtotals and totals are sums of the
rounded lines. Inputs are sorted first, so their order never changes the result.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from compensation.commission import clawback_lines, commission_lines
from compensation.crediting import (
    CreditedLine,
    credits_from_frame,
)
from compensation.draws import DrawSettlement, settle_draw
from compensation.money import (
    ZERO,
    CompensationError,
    CreditError,
    PlanError,
    cents,
    exact,
    money,
    plain,
    to_decimal,
)
from compensation.plans import (
    Cap,
    Draw,
    FamilyRule,
    Plan,
    Spiff,
    Tier,
    tiers_from_contract,
)
from compensation.spiffs import SpiffAwards, award_spiffs
from compensation.statements import (
    COMPONENTS,
    EARNING_COMPONENTS,
    Period,
    Statement,
    StatementLine,
    render_statement,
    statement_from_dict,
    statement_to_dict,
)

__all__ = [
    "COMPONENTS",
    "EARNING_COMPONENTS",
    "Cap",
    "CompensationError",
    "CreditError",
    "CreditedLine",
    "Draw",
    "DrawSettlement",
    "FamilyRule",
    "Period",
    "PeriodResult",
    "Plan",
    "PlanError",
    "RepPeriod",
    "Spiff",
    "SpiffAwards",
    "Statement",
    "StatementLine",
    "Tier",
    "WhatIfRep",
    "WhatIfResult",
    "YtdInput",
    "adjustment_lines",
    "award_spiffs",
    "compare_plans",
    "compute_period",
    "compute_statement",
    "credits_from_frame",
    "render_statement",
    "settle_draw",
    "statement_from_dict",
    "statement_to_dict",
    "tiers_from_contract",
    "ytd_paid",
]


@dataclass(frozen=True)
class YtdInput:
    """Year-to-date figures for a true-up: ``credits`` from the start of the plan year through
    this period (this period's included), the YTD ``quota``, and ``prior_paid`` =
    ``ytd_paid(earlier statements of the year)``."""

    credits: tuple[CreditedLine, ...]
    quota: Decimal | None
    prior_paid: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "credits", tuple(self.credits))
        object.__setattr__(self, "prior_paid", to_decimal(self.prior_paid, "YTD prior paid"))


@dataclass(frozen=True)
class RepPeriod:
    """Everything about one rep that one period's statement needs.

    ``adjustments``: lines from ``adjustment_lines`` for closed periods, to pay in this one.
    ``prior_draw_balance``: the previous statement's ``draw_balance_carried``.
    """

    rep: str
    plan: Plan
    credits: tuple[CreditedLine, ...] = ()
    quota: Decimal | None = None
    prior_draw_balance: Decimal = ZERO
    terminated: bool = False
    adjustments: tuple[StatementLine, ...] = ()
    ytd: YtdInput | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "credits", tuple(self.credits))
        object.__setattr__(self, "adjustments", tuple(self.adjustments))
        quota = None if self.quota is None else to_decimal(self.quota, f"quota of {self.rep}")
        object.__setattr__(self, "quota", quota)
        balance = to_decimal(self.prior_draw_balance, f"draw balance of {self.rep}")
        object.__setattr__(self, "prior_draw_balance", balance)


@dataclass(frozen=True)
class PeriodResult:
    statements: tuple[Statement, ...]
    spiff_budget_used: dict[str, Decimal] = field(default_factory=dict)

    def statement_for(self, rep: str) -> Statement:
        for statement in self.statements:
            if statement.rep == rep:
                return statement
        raise KeyError(rep)


@exact
def compute_period(
    period: Period,
    reps: Sequence[RepPeriod],
    *,
    spiffs: Sequence[Spiff] = (),
    spiff_budget_used: Mapping[str, Decimal] | None = None,
    spiff_blocked: Mapping[str, str] | None = None,
) -> PeriodResult:
    """Every rep's statement for ``period`` (sorted by rep), SPIFF budgets shared across them.

    To recompute a closed period (for ``adjustment_lines``), pass the same reps and the SPIFF
    budget used before that period, so budgets fall on the same sales.
    """
    names = [item.rep for item in reps]
    if len(names) != len(set(names)):
        raise CompensationError("a rep appears twice in one period")
    for item in reps:
        for credit in item.credits:
            if credit.rep != item.rep:
                raise CreditError(f"{credit.sales_line_id}: credit of {credit.rep} given to {item.rep}")
            if not period.contains(credit.date):
                raise CreditError(f"{credit.sales_line_id}: dated {credit.date}, outside {period.start}–{period.end}")
    awards = award_spiffs(
        spiffs,
        [c for item in reps for c in item.credits],
        budget_used=spiff_budget_used,
        blocked=spiff_blocked,
    )
    statements = tuple(
        _statement(period, item, awards.lines.get(item.rep, ()), awards.notes.get(item.rep, ()))
        for item in sorted(reps, key=lambda r: r.rep)
    )
    return PeriodResult(statements=statements, spiff_budget_used=awards.budget_used)


def compute_statement(
    period: Period,
    rep: RepPeriod,
    *,
    spiffs: Sequence[Spiff] = (),
    spiff_budget_used: Mapping[str, Decimal] | None = None,
) -> Statement:
    """One rep's statement; with SPIFF budgets shared between reps use ``compute_period``."""
    result = compute_period(period, [rep], spiffs=spiffs, spiff_budget_used=spiff_budget_used)
    return result.statements[0]


@exact
def adjustment_lines(
    closed: Statement, recomputed: Statement, *, reference: str | None = None
) -> tuple[StatementLine, ...]:
    """Adjustment lines for the next open period: per earning component (commission, spiff,
    clawback, adjustment, true_up), recomputed − closed subtotal when they differ, naming the
    statement corrected (``reference``, default ``closed.key``) and the sales lines behind the
    changed lines. Draw lines are not readjusted: the adjustment counts in the next period's
    earnings, where that period's draw rules apply. ``closed`` is not touched.
    """
    if (closed.rep, closed.period_start) != (recomputed.rep, recomputed.period_start):
        raise CompensationError(f"cannot compare statement {closed.key} with a recomputation of {recomputed.key}")
    reference = reference or closed.key
    lines = []
    for component in EARNING_COMPONENTS:
        before, after = closed.subtotal(component), recomputed.subtotal(component)
        if before == after:
            continue
        old = Counter(line for line in closed.lines if line.component == component)
        new = Counter(line for line in recomputed.lines if line.component == component)
        changed = list((old - new).elements()) + list((new - old).elements())
        ids = sorted({source for line in changed for source in line.source_ids})
        lines.append(
            StatementLine(
                component="adjustment",
                description=(
                    f"Correction of {component} on closed statement {reference}: "
                    f"was {money(before)}, recomputed {money(after)}"
                ),
                base=before,
                amount=after - before,
                source_ids=tuple(ids),
                corrects=reference,
                corrects_component=component,
            )
        )
    return tuple(lines)


def ytd_paid(statements: Sequence[Statement]) -> Decimal:
    """What earlier statements of the plan year paid on commission, for ``YtdInput.prior_paid``:
    commission, clawback and true-up lines plus adjustments that do not correct a SPIFF."""
    total = cents(ZERO)
    for statement in statements:
        for line in statement.lines:
            if _counts_as_commission(line):
                total += line.amount
    return total


def _counts_as_commission(line: StatementLine) -> bool:
    if line.component in ("commission", "clawback", "true_up"):
        return True
    return line.component == "adjustment" and line.corrects_component != "spiff"


# --- one statement ---------------------------------------------------------------------------


def _statement(
    period: Period,
    item: RepPeriod,
    spiff_lines: Sequence[StatementLine],
    spiff_notes: Sequence[str],
) -> Statement:
    plan = item.plan
    commission = commission_lines(plan, item.credits, item.quota, item.rep)
    returns = sorted((c for c in item.credits if c.kind == "return"), key=lambda c: c.order_key)
    clawbacks = clawback_lines(plan, returns, commission.table, commission.counted)
    for line in item.adjustments:
        if line.component != "adjustment":
            raise CompensationError(f"carried-in line {line.description!r} is not an adjustment")
    lines = [*commission.lines, *spiff_lines, *clawbacks, *item.adjustments]
    if item.ytd is not None:
        lines.append(_true_up(plan, item, lines))
    earned = sum((line.amount for line in lines), cents(ZERO))
    settlement = settle_draw(
        plan.draw, earned=earned, prior_balance=item.prior_draw_balance, terminated=item.terminated
    )
    notes = list(commission.notes) + list(spiff_notes)
    if plan.draw is None and settlement.balance_carried > ZERO:
        notes.append(f"Draw balance {money(settlement.balance_carried)} carried: plan has no draw")
    return Statement(
        rep=item.rep,
        plan_code=plan.code,
        period_start=period.start,
        period_end=period.end,
        lines=(*lines, *settlement.lines),
        quota=item.quota,
        credited=commission.credited,
        attainment=commission.attainment,
        draw_balance_prior=item.prior_draw_balance,
        draw_balance_carried=settlement.balance_carried,
        draw_forgiven=settlement.forgiven,
        notes=tuple(notes),
    )


def _true_up(plan: Plan, item: RepPeriod, lines: Sequence[StatementLine]) -> StatementLine:
    ytd = item.ytd
    assert ytd is not None
    missing = set(item.credits) - set(ytd.credits)
    if missing:
        first = sorted(missing, key=lambda c: c.order_key)[0]
        raise CreditError(f"YTD credits must include this period's; {first.sales_line_id} is missing")
    for credit in ytd.credits:
        if credit.rep != item.rep:
            raise CreditError(f"YTD credit {credit.sales_line_id} belongs to {credit.rep}")
    year = commission_lines(plan, ytd.credits, ytd.quota, item.rep)
    returns = sorted((c for c in ytd.credits if c.kind == "return"), key=lambda c: c.order_key)
    year_lines = [*year.lines, *clawback_lines(plan, returns, year.table, year.counted)]
    earned = sum((line.amount for line in year_lines), cents(ZERO))
    paid_now = sum((line.amount for line in lines if _counts_as_commission(line)), cents(ZERO))
    paid = cents(ytd.prior_paid) + paid_now
    return StatementLine(
        component="true_up",
        description=(
            f"YTD true-up: earned {money(earned)} on {plan.measure} {money(year.credited)}"
            + (f" ({plain(year.attainment)} % of YTD quota)" if year.attainment is not None else "")
            + f", paid {money(paid)}"
        ),
        base=earned,
        amount=earned - paid,
        source_ids=tuple(sorted({c.sales_line_id for c in ytd.credits})),
    )


# --- what-if ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatIfRep:
    """One rep's cost under plan A and plan B (commission + SPIFF + clawback, plus the top-ups
    of a non-recoverable draw; a recoverable draw is an advance, not a cost)."""

    rep: str
    cost_a: Decimal
    cost_b: Decimal

    @property
    def delta(self) -> Decimal:
        return self.cost_b - self.cost_a


@dataclass(frozen=True)
class WhatIfResult:
    reps: tuple[WhatIfRep, ...]
    total_a: Decimal
    total_b: Decimal

    @property
    def delta(self) -> Decimal:
        return self.total_b - self.total_a


@exact
def compare_plans(
    *,
    periods: Sequence[Period],
    credits: Sequence[CreditedLine],
    plan_a: Plan | Mapping[str, Plan],
    plan_b: Plan | Mapping[str, Plan],
    quotas: Mapping[tuple[str, dt.date], Decimal] | None = None,
    spiffs: Sequence[Spiff] = (),
) -> WhatIfResult:
    """The cost of plan A and plan B over the same credited lines, total and per rep.

    ``periods`` are the pay periods to replay (no overlaps; every credit must fall in one);
    ``plan_a``/``plan_b`` a plan for everyone or one per rep; ``quotas`` by (rep, period start).
    Each rep's periods run in order with the draw balance carried, starting from zero; no
    adjustments or true-ups. Nothing is stored: real statements are untouched.
    """
    ordered = sorted(periods, key=lambda p: p.start)
    for previous, current in zip(ordered, ordered[1:]):
        if current.start <= previous.end:
            raise CompensationError(f"periods overlap: {previous.start} and {current.start}")
    by_period: dict[Period, list[CreditedLine]] = defaultdict(list)
    for credit in credits:
        home = next((p for p in ordered if p.contains(credit.date)), None)
        if home is None:
            raise CreditError(f"{credit.sales_line_id}: {credit.date} is in none of the periods")
        by_period[home].append(credit)
    reps = sorted({credit.rep for credit in credits})
    cost_a = _plan_cost(ordered, by_period, reps, plan_a, quotas or {}, spiffs)
    cost_b = _plan_cost(ordered, by_period, reps, plan_b, quotas or {}, spiffs)
    rows = tuple(WhatIfRep(rep=rep, cost_a=cost_a[rep], cost_b=cost_b[rep]) for rep in reps)
    return WhatIfResult(
        reps=rows,
        total_a=sum((row.cost_a for row in rows), cents(ZERO)),
        total_b=sum((row.cost_b for row in rows), cents(ZERO)),
    )


def _plan_cost(
    periods: Sequence[Period],
    by_period: Mapping[Period, Sequence[CreditedLine]],
    reps: Sequence[str],
    plans: Plan | Mapping[str, Plan],
    quotas: Mapping[tuple[str, dt.date], Decimal],
    spiffs: Sequence[Spiff],
) -> dict[str, Decimal]:
    def plan_of(rep: str) -> Plan:
        if isinstance(plans, Plan):
            return plans
        if rep not in plans:
            raise CompensationError(f"no plan given for {rep}")
        return plans[rep]

    cost = {rep: cents(ZERO) for rep in reps}
    balance = {rep: cents(ZERO) for rep in reps}
    budget: Mapping[str, Decimal] = {}
    for period in periods:
        items = [
            RepPeriod(
                rep=rep,
                plan=plan_of(rep),
                credits=tuple(c for c in by_period.get(period, ()) if c.rep == rep),
                quota=quotas.get((rep, period.start)),
                prior_draw_balance=balance[rep],
            )
            for rep in reps
        ]
        result = compute_period(period, items, spiffs=spiffs, spiff_budget_used=budget)
        budget = result.spiff_budget_used
        for statement in result.statements:
            plan = plan_of(statement.rep)
            spent = sum(
                (statement.subtotal(name) for name in ("commission", "spiff", "clawback")),
                cents(ZERO),
            )
            if plan.draw is not None and plan.draw.kind == "non_recoverable":
                spent += statement.subtotal("draw")
            cost[statement.rep] += spent
            balance[statement.rep] = statement.draw_balance_carried
    return cost
