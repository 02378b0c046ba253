"""Exact ``Decimal`` handling for the territory and quota calculations.

Money, quantities and percentages never pass through ``float`` in these modules. Values coming
from the ORM are already ``Decimal``; anything else is converted here, once, by one rule:

* ``Decimal`` stays as it is (NaN/Infinity are rejected);
* ``int`` (and numpy integers) convert exactly;
* ``float`` converts through its shortest ``repr`` (``0.1`` -> ``Decimal("0.1")``), so a value
  typed as ``0.1`` means one tenth, not the binary neighbour of it;
* ``str`` is parsed (``""`` counts as missing);
* missing values (``None``, NaN, ``pd.NA``) become ``Decimal(0)`` in :func:`to_decimal` and
  :func:`decimal_column`. Callers that must tell "missing" from "zero" (a quota nobody set)
  check ``isna`` before converting.

Rounding, where a function rounds at all, is ``ROUND_HALF_UP`` (see :func:`quantize`); the
exact splits in ``quota_allocation`` use largest remainder instead and never round a total.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def is_missing(value: object) -> bool:
    """True for ``None``, NaN, ``pd.NA`` and ``NaT``; False for everything else."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists, arrays: not a scalar, so not "missing"
        return False


def to_decimal(value: object) -> Decimal:
    """Convert one value to ``Decimal`` by the module rule (missing -> 0)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        return value
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"a boolean is not a number: {value!r}")
    if isinstance(value, int | np.integer):
        return Decimal(int(value))
    if is_missing(value):
        return ZERO
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        return Decimal(repr(float(value)))
    if isinstance(value, Fraction):
        raise TypeError("convert a Fraction explicitly; it may have no exact decimal form")
    if isinstance(value, str):
        text = value.strip()
        return Decimal(text) if text else ZERO
    raise TypeError(f"cannot read {value!r} as a number")


def decimal_column(values: pd.Series | Iterable[object]) -> pd.Series:
    """An object-dtype Series of ``Decimal`` (missing -> 0), keeping a Series' index."""
    if isinstance(values, pd.Series):
        converted = list(map(to_decimal, values.to_numpy(dtype=object)))
        return pd.Series(converted, index=values.index, dtype=object)
    return pd.Series([to_decimal(v) for v in values], dtype=object)


def sum_decimals(values: Iterable[object]) -> Decimal:
    """Exact sum (missing -> 0)."""
    return sum((to_decimal(v) for v in values), ZERO)


def quantize(value: Decimal, quantum: Decimal) -> Decimal:
    """Round half up to ``quantum`` (``Decimal("0.01")`` for cents)."""
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def percent_of(part: Decimal, whole: Decimal, quantum: Decimal = Decimal("0.01")) -> Decimal | None:
    """``part / whole × 100`` rounded half up to ``quantum``; ``None`` when ``whole`` is 0."""
    if whole == 0:
        return None
    return quantize(part * HUNDRED / whole, quantum)


def format_decimal(value: Decimal) -> str:
    """Plain text without exponent or trailing zeros: ``Decimal("90.00")`` -> ``"90"``."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text
