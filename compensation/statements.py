"""The statement a rep is paid on: lines, component subtotals, attainment, draw balance, and
its canonical serialised form.

Inputs: statement lines built by the calculation (amounts already in cents).
Outputs: ``Statement`` whose subtotals and ``total_payable`` are derived from the lines on
creation (so they always add up), ``statement_to_dict`` (decimal strings, JSON-ready, the shape
the API returns), ``render_statement`` (canonical JSON text: equal statements render to the
same bytes, a closed statement stored as this text can be compared byte for byte) and
``statement_from_dict`` (load a stored snapshot back, e.g. to compute adjustments).

Rounding: each line's ``amount`` is in cents (ROUND_HALF_UP where it was rounded, see
``compensation.money``); ``base`` is shown rounded to hundredths; attainment is shown rounded to
hundredths of a percent, truncated (79.999 % shows as 79.99 %); tier decisions never use
the shown figure.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from compensation.money import (
    ZERO,
    CompensationError,
    cents,
    cents_down,
    exact,
    optional_decimal,
    plain,
    to_decimal,
)

COMPONENTS = ("commission", "spiff", "draw", "draw_recovery", "clawback", "adjustment", "true_up")
# What a rep earned in the period, before the draw tops it up or recovers from it.
EARNING_COMPONENTS = ("commission", "spiff", "clawback", "adjustment", "true_up")


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class Period:
    """A pay period, ``start`` to ``end`` inclusive."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise CompensationError(f"period end {self.end} is before start {self.start}")

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class StatementLine:
    """One line of a statement.

    ``base`` × ``rate`` explains ``amount`` where a rate applies (``rate_unit`` '%' or
    'per unit'); ``source_ids`` are the sales-line external ids behind it; an adjustment line
    names the statement it corrects (``corrects``, a ``Statement.key``) and the component.
    """

    component: str
    description: str
    amount: Decimal
    base: Decimal | None = None
    rate: Decimal | None = None
    rate_unit: str = ""
    source_ids: tuple[str, ...] = ()
    corrects: str = ""
    corrects_component: str = ""

    def __post_init__(self) -> None:
        if self.component not in COMPONENTS:
            raise CompensationError(f"unknown statement component {self.component!r}")
        amount = to_decimal(self.amount, "line amount")
        if cents(amount) != amount:
            raise CompensationError(f"line amount {amount} is not in cents")
        _set(self, "amount", cents(amount))
        base = optional_decimal(self.base, "line base")
        _set(self, "base", None if base is None else cents(base))
        rate = optional_decimal(self.rate, "line rate")
        _set(self, "rate", None if rate is None else Decimal(plain(rate)))
        _set(self, "source_ids", tuple(self.source_ids))


@dataclass(frozen=True)
class Statement:
    """A rep's statement for one period; ``subtotals`` and ``total_payable`` are derived."""

    rep: str
    plan_code: str
    period_start: dt.date
    period_end: dt.date
    lines: tuple[StatementLine, ...]
    quota: Decimal | None = None
    credited: Decimal = ZERO
    attainment: Decimal | None = None
    draw_balance_prior: Decimal = ZERO
    draw_balance_carried: Decimal = ZERO
    draw_forgiven: Decimal = ZERO
    notes: tuple[str, ...] = ()
    subtotals: tuple[tuple[str, Decimal], ...] = field(init=False)
    total_payable: Decimal = field(init=False)

    @exact
    def __post_init__(self) -> None:
        lines = tuple(self.lines)
        # Lines are grouped by component in a fixed order; within one, their build order.
        order = {name: i for i, name in enumerate(COMPONENTS)}
        _set(self, "lines", tuple(sorted(lines, key=lambda line: order[line.component])))
        _set(self, "notes", tuple(self.notes))
        for name in ("credited", "draw_balance_prior", "draw_balance_carried", "draw_forgiven"):
            _set(self, name, cents(to_decimal(getattr(self, name), name)))
        _set(self, "quota", optional_decimal(self.quota, "quota"))
        attainment = optional_decimal(self.attainment, "attainment")
        # Truncated for display, so a figure never seems to reach a boundary it missed.
        _set(self, "attainment", None if attainment is None else cents_down(attainment))
        sums = {name: cents(ZERO) for name in COMPONENTS}
        for line in self.lines:
            sums[line.component] += line.amount
        _set(self, "subtotals", tuple((name, sums[name]) for name in COMPONENTS))
        _set(self, "total_payable", sum(sums.values(), cents(ZERO)))

    @property
    def key(self) -> str:
        """How adjustment lines refer to this statement: ``rep@period_start``."""
        return f"{self.rep}@{self.period_start.isoformat()}"

    def subtotal(self, component: str) -> Decimal:
        return dict(self.subtotals)[component]

    def paid_per_sale(self, component: str) -> dict[str, Decimal]:
        """Per sales line id, the sum of this component's lines traced to that one sale alone
        (transaction-plan commission, SPIFFs): what to pass as ``paid_commission`` /
        ``paid_spiff`` when the sale is returned. Lines shared by several sales (period plans,
        a payout cap, a threshold line) are left out."""
        paid: dict[str, Decimal] = {}
        for line in self.lines:
            if line.component == component and len(line.source_ids) == 1:
                source = line.source_ids[0]
                paid[source] = paid.get(source, cents(ZERO)) + line.amount
        return paid

    @property
    def earned(self) -> Decimal:
        """Commission, SPIFF, clawback, adjustment and true-up: pay before the draw."""
        return sum((self.subtotal(name) for name in EARNING_COMPONENTS), cents(ZERO))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def statement_to_dict(statement: Statement) -> dict[str, Any]:
    """The statement as JSON-ready data; every number is a decimal string."""
    return {
        "rep": statement.rep,
        "plan_code": statement.plan_code,
        "period_start": statement.period_start.isoformat(),
        "period_end": statement.period_end.isoformat(),
        "quota": _text(statement.quota),
        "credited": _text(statement.credited),
        "attainment": _text(statement.attainment),
        "draw_balance_prior": _text(statement.draw_balance_prior),
        "draw_balance_carried": _text(statement.draw_balance_carried),
        "draw_forgiven": _text(statement.draw_forgiven),
        "subtotals": {name: str(amount) for name, amount in statement.subtotals},
        "total_payable": str(statement.total_payable),
        "lines": [
            {
                "component": line.component,
                "description": line.description,
                "base": _text(line.base),
                "rate": _text(line.rate),
                "rate_unit": line.rate_unit,
                "amount": str(line.amount),
                "source_ids": list(line.source_ids),
                "corrects": line.corrects,
                "corrects_component": line.corrects_component,
            }
            for line in statement.lines
        ],
        "notes": list(statement.notes),
    }


def render_statement(statement: Statement) -> str:
    """Canonical JSON text of a statement: store it at close; equal statements, equal bytes."""
    return json.dumps(statement_to_dict(statement), sort_keys=True, indent=2, ensure_ascii=False)


@exact
def statement_from_dict(data: dict[str, Any]) -> Statement:
    """Load a statement stored with ``statement_to_dict``/``render_statement``.

    Raises ``CompensationError`` when the stored total does not match its lines.
    """
    statement = Statement(
        rep=data["rep"],
        plan_code=data["plan_code"],
        period_start=dt.date.fromisoformat(data["period_start"]),
        period_end=dt.date.fromisoformat(data["period_end"]),
        lines=tuple(
            StatementLine(
                component=line["component"],
                description=line["description"],
                amount=Decimal(line["amount"]),
                base=None if line.get("base") is None else Decimal(line["base"]),
                rate=None if line.get("rate") is None else Decimal(line["rate"]),
                rate_unit=line.get("rate_unit", ""),
                source_ids=tuple(line.get("source_ids", ())),
                corrects=line.get("corrects", ""),
                corrects_component=line.get("corrects_component", ""),
            )
            for line in data["lines"]
        ),
        quota=None if data.get("quota") is None else Decimal(data["quota"]),
        credited=Decimal(data.get("credited") or "0"),
        attainment=None if data.get("attainment") is None else Decimal(data["attainment"]),
        draw_balance_prior=Decimal(data.get("draw_balance_prior") or "0"),
        draw_balance_carried=Decimal(data.get("draw_balance_carried") or "0"),
        draw_forgiven=Decimal(data.get("draw_forgiven") or "0"),
        notes=tuple(data.get("notes", ())),
    )
    stored_total = data.get("total_payable")
    if stored_total is not None and Decimal(stored_total) != statement.total_payable:
        raise CompensationError(
            f"statement {statement.key}: stored total {stored_total} does not match its lines "
            f"({statement.total_payable})"
        )
    return statement
