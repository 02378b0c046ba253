"""The territory binding of the Decimal rule (territories.money over core.money)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from territories.money import decimal_column, format_decimal, percent_of, to_decimal


def test_to_decimal_rule():
    assert to_decimal(Decimal("1.10")) == Decimal("1.10")
    assert to_decimal(3) == Decimal(3) and to_decimal(np.int64(3)) == Decimal(3)
    assert str(to_decimal(0.1)) == "0.1"  # through str(round(x, 15)), not the binary value
    assert to_decimal(0.1 + 0.2) == Decimal("0.3")  # 0.30000000000000004 rounded to 15 places
    assert to_decimal(0.5120623781854365) == Decimal("0.512062378185437")  # a weight keeps 15 places
    assert to_decimal(1234.5678904) == Decimal("1234.5678904")
    assert to_decimal(" 2.50 ") == Decimal("2.50")
    assert [to_decimal(v) for v in (None, float("nan"), pd.NA, "")] == [Decimal(0)] * 4
    with pytest.raises(TypeError):
        to_decimal(True)
    with pytest.raises(ValueError):
        to_decimal(float("inf"))
    column = decimal_column(pd.Series([1, None, "2.5"], index=[7, 8, 9]))
    assert column.index.tolist() == [7, 8, 9] and column.tolist() == [1, 0, Decimal("2.5")]


def test_percent_and_format():
    assert percent_of(Decimal(1), Decimal(3)) == Decimal("33.33")
    assert percent_of(Decimal(1), Decimal(0)) is None
    assert format_decimal(Decimal("90.00")) == "90"
    assert format_decimal(Decimal("100")) == "100"
    assert format_decimal(Decimal("12.50")) == "12.5"
