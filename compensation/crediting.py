"""Credited lines, the input of every commission calculation.

Which reps get credit for a line, and their shares (primary shares sum to 100 %, overlays on
top), is decided once, by ``territories.ownership.credit_lines`` (the territory owning the
account on the order date and its reps then); ``compensation.selectors.credited_lines`` or
``credits_from_frame`` turn those rows into ``CreditedLine`` records, one per rep credit,
keeping the full line values plus the rep's ``share`` % (the calculation applies the share, so
the SPIFF margin floor can compare price with cost on the whole line).

Signs: quantity, revenue and cost are as on the sale (positive for a normal sale). A return or
cancellation is a separate credit with ``kind='return'``, dated when it happened and carrying
the same positive values; the calculation turns it into a negative clawback line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import pandas as pd

from compensation.money import HUNDRED, ZERO, CreditError, optional_decimal, to_decimal

CREDIT_KINDS = ("credit", "return")
CREDIT_ROLES = ("primary", "overlay")
FRAME_COLUMNS = ("sales_line_id", "rep", "date", "sku", "family", "quantity", "revenue", "cost")
OPTIONAL_COLUMNS = ("share", "kind", "role", "paid_commission", "paid_spiff")


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class CreditedLine:
    """One credit of one sales line to one rep.

    ``paid_commission`` / ``paid_spiff`` (returns only, optional): what this rep was paid on the
    original sale, read from its statement lines; when given, the clawback reverses exactly that
    amount instead of re-deriving it from the plan.
    """

    sales_line_id: str
    rep: str
    date: dt.date
    sku: str
    family: str
    quantity: Decimal
    revenue: Decimal
    cost: Decimal
    share: Decimal = Decimal("100")
    kind: Literal["credit", "return"] = "credit"
    role: Literal["primary", "overlay"] = "primary"
    paid_commission: Decimal | None = None
    paid_spiff: Decimal | None = None

    def __post_init__(self) -> None:
        label = f"credit {self.sales_line_id}/{self.rep}"
        for name in ("quantity", "revenue", "cost", "share"):
            _set(self, name, to_decimal(getattr(self, name), f"{label} {name}"))
        for name in ("paid_commission", "paid_spiff"):
            _set(self, name, optional_decimal(getattr(self, name), f"{label} {name}"))
        if self.kind not in CREDIT_KINDS:
            raise CreditError(f"{label}: kind must be credit or return, not {self.kind!r}")
        if self.role not in CREDIT_ROLES:
            raise CreditError(f"{label}: role must be primary or overlay, not {self.role!r}")
        if not ZERO < self.share <= HUNDRED:
            raise CreditError(f"{label}: share {self.share} % must be in (0, 100]")
        if self.kind == "credit" and (self.paid_commission, self.paid_spiff) != (None, None):
            raise CreditError(f"{label}: paid_commission/paid_spiff only apply to returns")
        if not isinstance(self.date, dt.date) or isinstance(self.date, dt.datetime):
            raise CreditError(f"{label}: date must be a datetime.date")

    def measure(self, measure: str) -> Decimal:
        """The rep's credited revenue, margin (revenue − cost) or units."""
        if measure == "revenue":
            full = self.revenue
        elif measure == "margin":
            full = self.revenue - self.cost
        else:
            full = self.quantity
        return full * self.share / HUNDRED

    @property
    def order_key(self) -> tuple[dt.date, str, str, str, str, str]:
        """The deterministic processing order (dates first, so budgets and caps go to the
        earliest sales)."""
        return (self.date, self.sales_line_id, self.rep, self.kind, self.role, self.sku)


def credits_from_frame(frame: pd.DataFrame) -> tuple[CreditedLine, ...]:
    """Credited lines from a DataFrame with one row per credit.

    Columns: ``sales_line_id, rep, date, sku, family, quantity, revenue, cost`` and optionally
    ``share`` (default 100), ``kind``, ``role``, ``paid_commission``, ``paid_spiff``. Number
    columns must hold Decimal (object dtype, as ``.values()`` gives for DecimalField) or str;
    a float column raises TypeError. Empty optional cells (None/NaN) take the default.
    """
    missing = [column for column in FRAME_COLUMNS if column not in frame.columns]
    if missing:
        raise CreditError(f"credits frame lacks columns: {', '.join(missing)}")
    lines = []
    for record in frame.to_dict(orient="records"):
        values = {column: record[column] for column in FRAME_COLUMNS}
        values["date"] = _as_date(values["date"])
        for column in OPTIONAL_COLUMNS:
            if column in record and not _is_empty(record[column]):
                values[column] = record[column]
        for column in ("sales_line_id", "rep", "sku", "family"):
            values[column] = str(values[column])
        lines.append(CreditedLine(**values))
    return tuple(lines)


def _is_empty(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    raise CreditError(f"credit date {value!r} is not a date")
