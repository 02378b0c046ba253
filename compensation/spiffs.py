"""SPIFF awards for one period across all reps, so a shared budget is consumed fairly and
reproducibly.

Inputs: the ``Spiff`` programmes, every rep's credited lines of the period (returns are
ignored here; a returned SPIFF is clawed back from ``CreditedLine.paid_spiff``), and the budget
each SPIFF had already used before this period (by code).
Outputs: ``SpiffAwards``: per rep the ``spiff`` statement lines (one per credited line and
SPIFF, so each traces to its sale) and notes on lines refused (margin floor, budget spent);
the budget used per SPIFF after this period.

Order: SPIFFs by code, lines by (date, sales line id, rep): the earliest sales get the budget;
the line that crosses the budget is paid the remainder. Several SPIFFs on one line all pay.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from compensation.crediting import CreditedLine
from compensation.money import (
    HUNDRED,
    ZERO,
    PlanError,
    cents,
    cents_down,
    exact,
    money,
    plain,
    to_decimal,
)
from compensation.plans import Spiff
from compensation.statements import StatementLine


@dataclass(frozen=True)
class SpiffAwards:
    lines: dict[str, tuple[StatementLine, ...]]
    notes: dict[str, tuple[str, ...]]
    budget_used: dict[str, Decimal]


@exact
def award_spiffs(
    spiffs: Sequence[Spiff],
    credits: Sequence[CreditedLine],
    *,
    budget_used: Mapping[str, Decimal] | None = None,
    blocked: Mapping[str, str] | None = None,
) -> SpiffAwards:
    """``blocked``: rep → why no SPIFF may be paid to them (an unmet certification rule); each
    line it stops is noted with that reason and uses none of the budget."""
    codes = [spiff.code for spiff in spiffs]
    if len(codes) != len(set(codes)):
        raise PlanError("two SPIFFs share a code")
    used = {code: cents(to_decimal((budget_used or {}).get(code, ZERO), code)) for code in sorted(codes)}
    lines: dict[str, list[StatementLine]] = defaultdict(list)
    notes: dict[str, list[str]] = defaultdict(list)
    sales = sorted((c for c in credits if c.kind == "credit"), key=lambda c: c.order_key)
    for spiff in sorted(spiffs, key=lambda s: s.code):
        label = f"SPIFF {spiff.code}" + (f" {spiff.name}" if spiff.name else "")
        for credit in sales:
            if not spiff.covers(credit.sku, credit.family, credit.date):
                continue
            if credit.role == "overlay" and not spiff.include_overlay:
                continue
            if blocked and credit.rep in blocked:
                notes[credit.rep].append(f"{label} not paid on {credit.sales_line_id}: {blocked[credit.rep]}")
                continue
            floor = spiff.margin_floor_pct
            if floor is not None:
                minimum = credit.cost * (HUNDRED + floor) / HUNDRED
                if credit.revenue < minimum:
                    notes[credit.rep].append(
                        f"{label} not paid on {credit.sales_line_id}: revenue "
                        f"{money(credit.revenue)} is below cost {money(credit.cost)} "
                        f"+ {plain(floor)} % ({money(minimum)})"
                    )
                    continue
            if spiff.kind == "per_unit":
                base = credit.quantity * credit.share / HUNDRED
                raw = base * spiff.amount
                how = f"{plain(base)} units × {money(spiff.amount)}"
                rate_unit = "per unit"
            else:
                base = credit.measure("revenue")
                raw = base * spiff.amount / HUNDRED
                how = f"{plain(spiff.amount)} % of {money(base)}"
                rate_unit = "%"
            award = cents(raw)
            if award <= ZERO:
                continue
            if spiff.budget is not None:
                # Round the remainder down: the budget is never exceeded, even by a cent.
                remaining = cents_down(spiff.budget - used[spiff.code])
                if remaining <= ZERO:
                    notes[credit.rep].append(
                        f"{label} not paid on {credit.sales_line_id}: budget {money(spiff.budget)} used up"
                    )
                    continue
                if award > remaining:
                    how += f", limited to the {money(remaining)} left of the budget"
                    award = remaining
            used[spiff.code] += award
            lines[credit.rep].append(
                StatementLine(
                    component="spiff",
                    description=f"{label} on {credit.sales_line_id} ({credit.sku}): {how}",
                    base=base,
                    rate=spiff.amount,
                    rate_unit=rate_unit,
                    amount=award,
                    source_ids=(credit.sales_line_id,),
                )
            )
    return SpiffAwards(
        lines={rep: tuple(rep_lines) for rep, rep_lines in lines.items()},
        notes={rep: tuple(rep_notes) for rep, rep_notes in notes.items()},
        budget_used=used,
    )
