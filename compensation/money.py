"""Exact money arithmetic for the commission modules: one Decimal context, the cents rounding
rule, strict coercion of inputs, display formatting and the error types.

Rounding rule (the only place amounts are rounded): every statement line amount is rounded
to cents with ROUND_HALF_UP (ties away from zero, so a clawback mirrors the line it reverses
to the cent); subtotals and totals are sums of rounded lines, so they always add up.
Intermediate maths runs in ``CONTEXT`` (50 significant digits, traps on invalid operations),
whatever context the caller has set, so the same inputs give the same digits everywhere.

Inputs: Decimal, int or str values, converted by the project rule in :mod:`core.money`. Floats
are refused: a binary float cannot hold most cent values exactly, and a silently rounded input
would make statements unexplainable. Text with a comma is refused too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from functools import partial
from typing import ParamSpec, TypeVar

from core import money as core_money

CONTEXT = Context(prec=50, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
ZERO = Decimal("0")
HUNDRED = Decimal("100")
CENT = Decimal("0.01")

P = ParamSpec("P")
R = TypeVar("R")


class CompensationError(ValueError):
    """Inputs that cannot produce a trustworthy statement (bad plan, bad credits, bad shares)."""


class PlanError(CompensationError):
    """A plan description that is inconsistent (gaps in tiers, unknown mode, missing quota)."""


class CreditError(CompensationError):
    """Credited lines or crediting shares that are inconsistent."""


def exact(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` in ``CONTEXT`` so results never depend on the caller's decimal context."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with localcontext(CONTEXT):
            return func(*args, **kwargs)

    return wrapper


to_decimal = partial(core_money.to_decimal, error=CompensationError)
"""``core.money.to_decimal`` (floats and missing values refused) raising ``CompensationError``
for unreadable text or non-finite numbers: ``to_decimal(value, name)``."""


def optional_decimal(value: object, name: str) -> Decimal | None:
    return None if value is None else to_decimal(value, name)


def cents(value: Decimal) -> Decimal:
    """The statement rounding rule: to cents, ROUND_HALF_UP (ties away from zero)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP, context=CONTEXT)


def cents_down(value: Decimal) -> Decimal:
    """To cents toward zero: for limits (a recovery cap) that must never be exceeded."""
    return value.quantize(CENT, rounding=ROUND_DOWN, context=CONTEXT)


def plain(value: Decimal) -> str:
    """A rate or share for display without trailing zeros or exponent: 12, 12.5, 0.75."""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1), context=CONTEXT))
    return format(value.normalize(CONTEXT), "f")


def money(value: Decimal) -> str:
    """An amount for descriptions: thousands separators and two decimals (1,234.50)."""
    return f"{cents(value):,.2f}"
