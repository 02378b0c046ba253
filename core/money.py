"""The one rule for turning an input into a ``Decimal`` (money, quantities, rates, shares).

Pure: no Django. Every app converts through :func:`to_decimal` (or :func:`decimal_column` for
a Series); there is no other ``to_decimal``.

Policy — money is ``Decimal``, never ``float``:

* ``Decimal`` stays as it is; NaN and Infinity are refused.
* ``int`` (and numpy integers) convert exactly; ``bool`` is refused (``True`` is not 1 euro).
* ``float`` is **refused** (``TypeError`` naming the field and saying "float"): a binary float
  cannot hold most cent values, and a silently converted input makes a statement unexplainable.
  A caller that reads a genuinely float source (a ``FloatField`` forecast, a pandas float
  column) says so with ``float_places=n``: the float becomes ``Decimal(str(round(x, n)))``, so
  ``0.1 + 0.2`` with ``float_places=2`` is exactly ``Decimal("0.3")`` (Python's ``round`` of the
  binary value: ``2.675`` -> ``2.67``, exact ties to even). NaN/Infinity floats are
  missing (NaN) or refused (Infinity), never a number.
* ``str`` is stripped and parsed as plain decimal notation: an optional sign, digits, one dot,
  an optional exponent (``"1234.50"``, ``"-0.5"``, ``"1E+3"``). A comma is **refused**, as
  decimal mark or thousands separator (``"1,5"`` is 1.5 in Italy and 15 in the US); locale
  parsing belongs to the form or import that knows the locale. ``""`` is missing.
* Missing (``None``, float NaN, ``pd.NA``, ``""``): refused by default (``error``: "a value is
  required"), or the value of ``missing=`` (territory sums pass ``missing=Decimal(0)``).
* Anything else (``Fraction``, lists, dates) is refused with ``TypeError``.

Unreadable text, missing values and non-finite numbers raise ``error`` (``DecimalInputError``, a
``ValueError``, unless the caller names its own error type, e.g. compensation's
``CompensationError``). Messages start with ``name`` so a row error can say which field.

Rounding: :func:`quantize` rounds half up (ties away from zero), the rule of every amount we
show or store at a fixed number of places.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from numbers import Integral

import numpy as np
import pandas as pd

__all__ = ["REFUSE", "DecimalInputError", "decimal_column", "quantize", "to_decimal"]


class DecimalInputError(ValueError):
    """An input that is not a finite number in plain decimal notation."""


class _Refuse:
    def __repr__(self) -> str:
        return "REFUSE"


REFUSE = _Refuse()
"""Default of ``missing=``: a missing value is an error, not zero."""

_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    return isinstance(value, str) and not value.strip()


def to_decimal(
    value: object,
    name: str = "value",
    *,
    missing: Decimal | _Refuse = REFUSE,
    float_places: int | None = None,
    error: type[Exception] = DecimalInputError,
) -> Decimal:
    """Convert one input by the module rule (see the module docstring)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise error(f"{name}: {value!r} is not a finite number")
        return value
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{name}: {value!r} is a bool, not a number")
    if isinstance(value, Integral):
        return Decimal(int(value))
    if _is_missing(value):
        if isinstance(missing, _Refuse):
            raise error(f"{name}: a value is required (got {value!r})")
        return missing
    if isinstance(value, float | np.floating):
        if float_places is None:
            raise TypeError(f"{name}: {value!r} is a float; pass a Decimal or a str")
        if not np.isfinite(value):
            raise error(f"{name}: {value!r} is not a finite number")
        return Decimal(str(round(float(value), float_places)))
    if isinstance(value, str):
        text = value.strip()
        if "," in text:
            raise error(f"{name}: {value!r} has a comma; write the number with a dot and no separators")
        if not _PLAIN.fullmatch(text):
            raise error(f"{name}: {value!r} is not a number")
        try:
            return Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
            raise error(f"{name}: {value!r} is not a number") from None
    raise TypeError(f"{name}: {value!r} ({type(value).__name__}) is not a Decimal, int or str")


def decimal_column(
    values: pd.Series | Iterable[object],
    name: str = "value",
    *,
    missing: Decimal | _Refuse = REFUSE,
    float_places: int | None = None,
    error: type[Exception] = DecimalInputError,
) -> pd.Series:
    """An object-dtype Series of ``Decimal`` by :func:`to_decimal`, keeping a Series' index."""

    def convert(v: object) -> Decimal:
        return to_decimal(v, name, missing=missing, float_places=float_places, error=error)

    if isinstance(values, pd.Series):
        return pd.Series(list(map(convert, values.to_numpy(dtype=object))), index=values.index, dtype=object)
    return pd.Series([convert(v) for v in values], dtype=object)


def quantize(value: Decimal, quantum: Decimal) -> Decimal:
    """Round half up (ties away from zero) to ``quantum`` (``Decimal("0.01")`` for cents)."""
    return value.quantize(quantum, rounding=ROUND_HALF_UP)
