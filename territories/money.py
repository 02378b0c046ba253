"""Exact ``Decimal`` handling for the territory and quota calculations.

Money, quantities and percentages never pass through ``float`` in these modules. Conversion
follows the one project rule, :mod:`core.money` (see its docstring), bound here to the two
choices territory maths makes:

* missing values (``None``, NaN, ``pd.NA``, ``""``) count as ``Decimal(0)``: the sum of an
  empty month is zero. Callers that must tell "missing" from "zero" (a quota nobody set)
  check ``isna`` before converting;
* float inputs are accepted because forecasts are stored as floats (``Forecast.point`` and
  the ``FloatField`` sums of ``forecasting.selectors.territory_forecast_n12m``) and split
  weights may be floats: a float becomes ``Decimal(str(round(x, FLOAT_PLACES)))`` with 15
  places, about the precision a double carries, so ``0.1 + 0.2`` is ``0.3`` while a weight
  keeps its digits and a split of a billion stays within a cent of its exact share.

Rounding, where a function rounds at all, is ``ROUND_HALF_UP`` (:func:`core.money.quantize`);
the exact splits in ``quota_allocation`` use largest remainder instead and never round a total.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from functools import partial

import pandas as pd

from core import money
from core.money import quantize

__all__ = [
    "FLOAT_PLACES",
    "HUNDRED",
    "ZERO",
    "decimal_column",
    "format_decimal",
    "is_missing",
    "percent_of",
    "quantize",
    "sum_decimals",
    "to_decimal",
]

ZERO = Decimal(0)
HUNDRED = Decimal(100)
FLOAT_PLACES = 15

to_decimal = partial(money.to_decimal, missing=ZERO, float_places=FLOAT_PLACES)
"""``core.money.to_decimal`` with the territory choices: missing -> 0, floats to 15 places."""

decimal_column = partial(money.decimal_column, missing=ZERO, float_places=FLOAT_PLACES)
"""``core.money.decimal_column`` with the same choices (keeps a Series' index)."""


def is_missing(value: object) -> bool:
    """True for ``None``, NaN, ``pd.NA`` and ``NaT``; False for everything else."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists, arrays: not a scalar, so not "missing"
        return False


def sum_decimals(values: Iterable[object]) -> Decimal:
    """Exact sum (missing -> 0)."""
    return sum((to_decimal(v) for v in values), ZERO)


def percent_of(part: Decimal, whole: Decimal, quantum: Decimal = Decimal("0.01")) -> Decimal | None:
    """``part / whole × 100`` rounded half up to ``quantum``; ``None`` when ``whole`` is 0."""
    if whole == 0:
        return None
    return quantize(part * HUNDRED / whole, quantum)


def format_decimal(value: Decimal) -> str:
    """Plain text without exponent or trailing zeros: ``Decimal("90.00")`` -> ``"90"``."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text
