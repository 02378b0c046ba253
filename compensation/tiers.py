"""Rate-table lookups: which tier a value reaches (``whole``) and how a value splits across
brackets (``marginal``).

Inputs: a plan's ``Tier`` rows and a scale factor (1 for tiers on amount; quota / 100 for tiers
on attainment, which turns percent boundaries into money so no division is ever needed and a
value exactly on a boundary is detected exactly). Outputs: ``Bracket`` rows in money and the
portions of a value in each.

Rules: ``lower <= value < upper`` (a boundary value takes the HIGHER tier); a finite last upper
caps the counted value; a negative value (e.g. a loss-making line on a margin plan) sits in
the first tier so it reduces pay at the lowest rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from compensation.money import ZERO
from compensation.plans import Tier


@dataclass(frozen=True)
class Bracket:
    """A plan tier in money: ``index`` points back to the plan tier for descriptions."""

    index: int
    lower: Decimal
    upper: Decimal | None
    rate: Decimal


def scale(tiers: Sequence[Tier], factor: Decimal) -> tuple[Bracket, ...]:
    return tuple(
        Bracket(
            index=i,
            lower=tier.lower * factor,
            upper=None if tier.upper is None else tier.upper * factor,
            rate=tier.rate,
        )
        for i, tier in enumerate(tiers)
    )


def counted(table: Sequence[Bracket], value: Decimal) -> Decimal:
    """The value the table pays on: capped at a finite top."""
    top = table[-1].upper
    return value if top is None or value <= top else top


def tier_at(table: Sequence[Bracket], value: Decimal) -> Bracket:
    """The tier a value reaches; on a boundary, the higher one."""
    if value < table[0].lower:
        return table[0]
    for bracket in table:
        if bracket.upper is None or value < bracket.upper:
            return bracket
    return table[-1]


def split(table: Sequence[Bracket], value: Decimal) -> list[tuple[Bracket, Decimal]]:
    """The positive portion of ``counted(value)`` falling in each bracket, lowest first."""
    if value < ZERO:
        return [(table[0], value)]
    value = counted(table, value)
    portions = []
    for bracket in table:
        if value <= bracket.lower:
            break
        upper = value if bracket.upper is None else min(value, bracket.upper)
        portions.append((bracket, upper - bracket.lower))
    return portions
