"""Commission and clawback lines for one rep's period, under one plan.

Inputs: a ``Plan``, the rep's ``CreditedLine`` records and quota. Outputs: ``CommissionResult``
(commission lines, notes, credited measure, attainment, the tier table in money and the value
it was read at) and, for ``return`` credits, clawback lines.

Rules (see also ``compensation.plans``): the threshold is checked on the exact attainment
(total × 100 < threshold × quota, no division); the attainment cap limits the counted measure
(period: the total; transaction: the earliest sales first); a finite top of the rate table
caps it too; the payout cap adds one negative commission line. On a period plan with several
family rules, each family group gets its pro-rata part of every tier or bracket, so multipliers
and the constrained base rate apply to that family's own sales only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from compensation.crediting import CreditedLine
from compensation.money import HUNDRED, ZERO, PlanError, cents, cents_down, exact, money, plain
from compensation.plans import FamilyRule, Plan
from compensation.statements import StatementLine
from compensation.tiers import Bracket, counted, scale, split, tier_at


@dataclass
class CommissionResult:
    lines: list[StatementLine]
    notes: list[str]
    credited: Decimal
    attainment: Decimal | None
    table: tuple[Bracket, ...]
    # The value the period's tiers were read at (money); returns on a period plan use its rate.
    counted: Decimal


@exact
def commission_lines(plan: Plan, credits: Sequence[CreditedLine], quota: Decimal | None, rep: str) -> CommissionResult:
    """Commission lines on the ``credit`` lines among ``credits`` (returns are left to
    ``clawback_lines``); ``rep`` only names who lacks a quota in errors."""
    if plan.needs_quota and (quota is None or quota <= ZERO):
        raise PlanError(f"plan {plan.code} needs a positive quota for {rep}")
    sales = sorted((c for c in credits if c.kind == "credit"), key=lambda c: c.order_key)
    values = [(c, c.measure(plan.measure)) for c in sales]
    total = sum((value for _, value in values), ZERO)
    attainment = None
    if quota is not None and quota > ZERO:
        attainment = total * HUNDRED / quota
    factor = quota / HUNDRED if plan.tier_on == "attainment" and quota is not None else Decimal(1)
    table = scale(plan.tiers, factor)
    limit = None
    if plan.cap is not None and plan.cap.kind == "attainment" and quota is not None:
        limit = quota * plan.cap.value / HUNDRED
    result = CommissionResult([], [], total, attainment, table, ZERO)
    if not sales:
        return result
    ids = tuple(sorted({c.sales_line_id for c in sales}))
    # Compare without dividing so a figure exactly on the threshold is seen exactly.
    if plan.threshold is not None and quota is not None and total * HUNDRED < plan.threshold * quota:
        result.notes.append(
            f"Attainment {money(cents_down(attainment or ZERO))} % is below the {plain(plan.threshold)} % "
            "threshold: no commission"
        )
        result.lines.append(
            StatementLine(
                component="commission",
                description=f"Below threshold {plain(plan.threshold)} %: {plan.measure} {money(total)} earns nothing",
                base=total,
                rate=ZERO,
                rate_unit=plan.rate_unit,
                amount=ZERO,
                source_ids=ids,
            )
        )
        return result
    if plan.basis == "transaction":
        _transaction_lines(plan, values, table, limit, result)
    else:
        _period_lines(plan, values, total, table, limit, result)
    if plan.cap is not None and plan.cap.kind == "payout":
        earned = sum((line.amount for line in result.lines), ZERO)
        ceiling = cents_down(plan.cap.value)
        if earned > ceiling:
            result.lines.append(
                StatementLine(
                    component="commission",
                    description=f"Payout cap {money(ceiling)}: commission {money(earned)} "
                    f"reduced by {money(earned - ceiling)}",
                    base=earned,
                    amount=ceiling - earned,
                    source_ids=ids,
                )
            )
            result.notes.append(f"Commission capped at {money(ceiling)}")
    return result


def _transaction_lines(
    plan: Plan,
    values: Sequence[tuple[CreditedLine, Decimal]],
    table: tuple[Bracket, ...],
    limit: Decimal | None,
    result: CommissionResult,
) -> None:
    headroom = limit
    for credit, value in values:
        count = value
        if headroom is not None and value > ZERO:
            # The attainment cap goes to the earliest sales; later ones count partly or not.
            count = min(value, max(headroom, ZERO))
            headroom -= count
            if count < value:
                result.notes.append(
                    f"{credit.sales_line_id}: {money(value - count)} above the attainment cap not counted"
                )
        result.counted += count
        result.lines.extend(
            _lines(
                plan,
                _parts(plan, table, count),
                plan.rule_for(credit.family),
                f"{credit.sales_line_id} ({credit.sku})",
                (credit.sales_line_id,),
            )
        )


def _period_lines(
    plan: Plan,
    values: Sequence[tuple[CreditedLine, Decimal]],
    total: Decimal,
    table: tuple[Bracket, ...],
    limit: Decimal | None,
    result: CommissionResult,
) -> None:
    count = total
    if limit is not None and count > limit:
        result.notes.append(f"Counted up to the attainment cap: {money(limit)} of {money(total)}")
        count = limit
    if counted(table, count) != count:
        result.notes.append(
            f"Counted up to the top of the rate table: {money(counted(table, count))} of {money(count)}"
        )
        count = counted(table, count)
    result.counted = count
    groups: dict[FamilyRule, list[CreditedLine]] = defaultdict(list)
    group_values: dict[FamilyRule, Decimal] = defaultdict(lambda: ZERO)
    for credit, value in values:
        rule = plan.rule_for(credit.family)
        groups[rule].append(credit)
        group_values[rule] += value
    if len(groups) > 1 and total == ZERO:
        result.notes.append("Credited lines net to zero: no commission")
        return
    parts = _parts(plan, table, count)
    for rule in sorted(groups, key=lambda r: (r.family != "", r.family)):
        credits = groups[rule]
        ids = tuple(sorted({c.sales_line_id for c in credits}))
        if len(groups) == 1:
            label = f"{plan.measure} {money(total)}"
            group_parts = parts
        else:
            # Several family rules share one period figure: each gets its pro-rata part of
            # every bracket, at the bracket's rate adjusted by the family rule.
            ratio = group_values[rule] / total
            group_parts = [(bracket, portion * ratio) for bracket, portion in parts]
            families = sorted({c.family for c in credits})
            label = f"{plan.measure} {money(group_values[rule])} of {', '.join(families)}"
        result.lines.extend(_lines(plan, group_parts, rule, label, ids))


def _parts(plan: Plan, table: tuple[Bracket, ...], value: Decimal) -> list[tuple[Bracket, Decimal]]:
    """(bracket, amount paid at its rate): the reached tier on all of it (``whole``), or each
    bracket's portion (``marginal``); a zero value still gives one (zero) line to show."""
    if plan.mode == "whole":
        count = counted(table, value)
        return [(tier_at(table, count), count)]
    return split(table, value) or [(table[0], ZERO)]


def _lines(
    plan: Plan,
    parts: Sequence[tuple[Bracket, Decimal]],
    rule: FamilyRule,
    label: str,
    ids: tuple[str, ...],
    *,
    sign: int = 1,
) -> list[StatementLine]:
    """One line per part; ``sign=-1`` mirrors them as clawback lines."""
    component = "commission" if sign > 0 else "clawback"
    what = "tier" if plan.mode == "whole" else "bracket"
    lines = []
    for bracket, portion in parts:
        rate = _rate(plan, bracket.rate, rule)
        lines.append(
            StatementLine(
                component=component,
                description=(
                    f"{label}: {money(portion)} in {what} {_tier_label(plan, bracket)} "
                    f"at {plain(rate)} {plan.rate_unit}{_rule_text(plan, bracket.rate, rule)}"
                ),
                base=sign * portion,
                rate=rate,
                rate_unit=plan.rate_unit,
                amount=cents(sign * _pay(plan, portion, rate)),
                source_ids=ids,
            )
        )
    return lines


def _rate(plan: Plan, tier_rate: Decimal, rule: FamilyRule) -> Decimal:
    rate = min(tier_rate, plan.constrained_rate()) if rule.constrained else tier_rate
    return rate * rule.multiplier


def _pay(plan: Plan, base: Decimal, rate: Decimal) -> Decimal:
    return base * rate if plan.measure == "units" else base * rate / HUNDRED


def _tier_label(plan: Plan, bracket: Bracket) -> str:
    tier = plan.tiers[bracket.index]
    show = plain if plan.tier_on == "attainment" or plan.measure == "units" else money
    unit = " % of quota" if plan.tier_on == "attainment" else ""
    if tier.upper is None:
        return f"from {show(tier.lower)}{unit}"
    return f"{show(tier.lower)}–{show(tier.upper)}{unit}"


def _rule_text(plan: Plan, tier_rate: Decimal, rule: FamilyRule) -> str:
    text = ""
    if rule.constrained and tier_rate > plan.constrained_rate():
        text += (
            f" (family {rule.family} is supply-constrained: base rate "
            f"{plain(plan.constrained_rate())} instead of {plain(tier_rate)})"
        )
    if rule.multiplier != 1:
        text += f" (× {plain(rule.multiplier)} for family {rule.family})"
    return text


@exact
def clawback_lines(
    plan: Plan,
    returns: Sequence[CreditedLine],
    table: tuple[Bracket, ...],
    period_value: Decimal,
) -> list[StatementLine]:
    """Negative lines for ``return`` credits, in the period of the return: ``paid_commission``
    and ``paid_spiff`` reversed when given; otherwise the transaction plan's own lines for the
    sale mirrored, or on a period plan the returned amount at the rate of the tier
    ``period_value`` reaches in ``table`` (both from ``commission_lines`` of this period)."""
    lines: list[StatementLine] = []
    for credit in returns:
        value = credit.measure(plan.measure)
        label = f"{credit.sales_line_id} ({credit.sku}) returned {credit.date.isoformat()}"
        ids = (credit.sales_line_id,)
        if credit.paid_commission is not None:
            lines.append(
                StatementLine(
                    component="clawback",
                    description=f"{label}: reverses commission paid {money(credit.paid_commission)}",
                    base=-value,
                    amount=-cents(credit.paid_commission),
                    source_ids=ids,
                )
            )
        elif plan.basis == "transaction":
            # Mirror exactly what the sale earns on its own, line by line, to the cent.
            parts = _parts(plan, table, value)
            lines.extend(_lines(plan, parts, plan.rule_for(credit.family), label, ids, sign=-1))
        else:
            rule = plan.rule_for(credit.family)
            bracket = tier_at(table, counted(table, period_value))
            rate = _rate(plan, bracket.rate, rule)
            lines.append(
                StatementLine(
                    component="clawback",
                    description=f"{label}: {money(value)} at {plain(rate)} {plan.rate_unit}, "
                    f"the rate of tier {_tier_label(plan, bracket)} reached this period",
                    base=-value,
                    rate=rate,
                    rate_unit=plan.rate_unit,
                    amount=-cents(_pay(plan, value, rate)),
                    source_ids=ids,
                )
            )
        if credit.paid_spiff is not None and credit.paid_spiff != ZERO:
            lines.append(
                StatementLine(
                    component="clawback",
                    description=f"{label}: reverses SPIFF paid {money(credit.paid_spiff)}",
                    amount=-cents(credit.paid_spiff),
                    source_ids=ids,
                )
            )
    return lines
