"""The one Decimal conversion rule (core.money): pure, hand-worked values."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from core.money import DecimalInputError, decimal_column, quantize, to_decimal

D = Decimal


def test_decimals_and_integers_are_kept_exactly():
    assert str(to_decimal(D("1.10"), "amount")) == "1.10"  # trailing zero kept, no re-quantising
    assert to_decimal(3) == D(3)
    assert to_decimal(np.int64(-7)) == D(-7)
    assert to_decimal(10**30) == D("1000000000000000000000000000000")


def test_floats_are_refused_unless_the_caller_names_the_places():
    with pytest.raises(TypeError, match="amount: 0.1 is a float"):
        to_decimal(0.1, "amount")
    with pytest.raises(TypeError, match="float"):
        to_decimal(np.float64(2.5), "amount")
    # 0.1 + 0.2 is 0.30000000000000004 in binary; str(round(x, 2)) gives exactly 0.3
    assert 0.1 + 0.2 != 0.3
    assert to_decimal(0.1 + 0.2, float_places=2) == D("0.3")
    assert str(to_decimal(0.1 + 0.2, float_places=2)) == "0.3"
    # round() on the float happens before Decimal: 2.675 is 2.67499999... in binary
    assert to_decimal(2.675, float_places=2) == D("2.67")
    assert to_decimal(1234.5678, float_places=2) == D("1234.57")
    assert to_decimal(np.float32(0.5), float_places=3) == D("0.5")
    with pytest.raises(DecimalInputError, match="finite"):
        to_decimal(float("inf"), "amount", float_places=2)


def test_missing_values_are_refused_or_take_the_callers_value():
    for value in (None, float("nan"), np.nan, pd.NA, "", "   "):
        with pytest.raises(DecimalInputError, match="rate: a value is required"):
            to_decimal(value, "rate")
        assert to_decimal(value, missing=D(0)) == D(0)
    # a NaN float is missing, not a float to refuse, even without float_places
    assert to_decimal(float("nan"), missing=D(0)) == D(0)


def test_strings_are_plain_decimal_notation():
    assert to_decimal(" 2.50 ") == D("2.50")
    assert to_decimal("-0.5") == D("-0.5")
    assert to_decimal("+.25") == D("0.25")
    assert to_decimal("1E+3") == D(1000)
    for text in ("1,5", "1,234.50", "1.234,50"):
        with pytest.raises(DecimalInputError, match="comma"):
            to_decimal(text, "price")
    for text in ("abc", "1_000", "12 500", "1.2.3", "NaN", "Infinity", "€5", "0x10"):
        with pytest.raises(DecimalInputError, match="price: .* is not a number"):
            to_decimal(text, "price")


def test_non_finite_decimals_bools_and_other_types_are_refused():
    with pytest.raises(DecimalInputError, match="finite"):
        to_decimal(D("NaN"), "amount")
    with pytest.raises(DecimalInputError, match="finite"):
        to_decimal(D("-Infinity"), "amount")
    for value in (True, np.bool_(False)):
        with pytest.raises(TypeError, match="bool"):
            to_decimal(value, "amount")
    for value in (Fraction(1, 3), [1], pd.Timestamp("2026-01-01")):
        with pytest.raises(TypeError, match="amount"):
            to_decimal(value, "amount")


def test_the_caller_can_name_its_error_type():
    class PlanError(ValueError):
        pass

    with pytest.raises(PlanError, match="tier rate: 'x' is not a number"):
        to_decimal("x", "tier rate", error=PlanError)
    with pytest.raises(PlanError, match="required"):
        to_decimal(None, "tier rate", error=PlanError)
    with pytest.raises(TypeError, match="float"):  # a float is a programming error, not input
        to_decimal(0.5, "tier rate", error=PlanError)


def test_quantize_rounds_half_up_away_from_zero():
    cent = D("0.01")
    assert quantize(D("2.675"), cent) == D("2.68")  # an exact Decimal tie goes up
    assert quantize(D("2.665"), cent) == D("2.67")  # not to even (2.66)
    assert quantize(D("-2.675"), cent) == D("-2.68")  # away from zero
    assert quantize(D("2.674999"), cent) == D("2.67")
    assert quantize(D("0.5"), D(1)) == D(1) and quantize(D("1.5"), D(1)) == D(2)


def test_decimal_column_keeps_the_index_and_names_the_field():
    column = decimal_column(pd.Series([1, None, "2.5", D("3.10")], index=[7, 8, 9, 10]), missing=D(0))
    assert column.index.tolist() == [7, 8, 9, 10]
    assert column.dtype == object and column.tolist() == [D(1), D(0), D("2.5"), D("3.10")]
    assert decimal_column([0.125, 1.0], float_places=2).tolist() == [D("0.12"), D("1.0")]
    with pytest.raises(TypeError, match="revenue: 100.1 is a float"):
        decimal_column(pd.Series([D(1), 100.1]), "revenue")
