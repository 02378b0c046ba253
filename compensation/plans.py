"""The terms of a commission plan, a SPIFF and a draw, as frozen dataclasses checked on creation.

Inputs: plain values (Decimal/int/str for numbers, never float), e.g. from ``CompPlan`` rows
or the ``comp-plans`` API (``tiers_from_contract`` reads its ``{from, to, rate}`` list).
Outputs: immutable ``Plan``, ``Tier``, ``Cap``, ``FamilyRule``, ``Draw``, ``Spiff`` values
that the calculation reads; an inconsistent description raises ``PlanError`` here, not halfway
through a period close.

Meaning of the fields (rates are percent for revenue and margin, money per unit for units):
- ``measure``: what is paid on, per credited line × share: ``revenue``, ``margin``
  (revenue − cost) or ``units`` (quantity).
- ``basis``: ``transaction`` rates each credited line on its own amount; ``period`` rates the
  period's total (``tier_on='amount'``) or its attainment of quota (``tier_on='attainment'``).
- ``mode``: ``whole`` applies the reached tier's rate to the whole amount; ``marginal`` pays
  each bracket at its own rate. A value exactly on a boundary is in the HIGHER tier
  (tiers are ``lower <= value < upper``). Tiers start at 0 and are contiguous; ``upper=None``
  is open-ended. A finite last ``upper`` caps the value counted (nothing is earned above it).
  Accelerators and decelerators are simply tiers with higher or lower rates.
- ``threshold``: attainment % below which nothing is paid (exactly on it pays).
- ``cap``: ``Cap('payout', amount)`` limits the period's commission component to ``amount``
  (a negative commission line shows the reduction); ``Cap('attainment', pct)`` counts the
  measure only up to ``pct`` % of quota (in date order for the transaction basis).
- ``family_rules``: per product family a rate ``multiplier`` and/or ``constrained=True``:
  a constrained family earns at most the base rate (no accelerator above the 100 % tier).
  The base rate is ``base_rate`` if given, else the rate of the tier containing 100 %
  attainment (``tier_on='attainment'`` only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from compensation.money import HUNDRED, ZERO, PlanError, optional_decimal, to_decimal

Measure = Literal["revenue", "margin", "units"]
Basis = Literal["transaction", "period"]
TierOn = Literal["amount", "attainment"]
Mode = Literal["whole", "marginal"]

MEASURES = ("revenue", "margin", "units")
BASES = ("transaction", "period")
TIER_ON = ("amount", "attainment")
MODES = ("whole", "marginal")
CAP_KINDS = ("payout", "attainment")
DRAW_KINDS = ("recoverable", "non_recoverable")
DRAW_TERMINATION = ("due", "forgiven")
SPIFF_KINDS = ("per_unit", "percent_of_revenue")


def _choice(value: str, allowed: tuple[str, ...], name: str) -> None:
    if value not in allowed:
        raise PlanError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _set(obj: object, name: str, value: object) -> None:
    # Frozen dataclasses normalise their own fields once, in __post_init__.
    object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class Tier:
    """One row of a rate table: ``lower <= value < upper`` earns ``rate``."""

    lower: Decimal
    upper: Decimal | None
    rate: Decimal

    def __post_init__(self) -> None:
        _set(self, "lower", to_decimal(self.lower, "tier lower"))
        _set(self, "upper", optional_decimal(self.upper, "tier upper"))
        _set(self, "rate", to_decimal(self.rate, "tier rate"))
        if self.upper is not None and self.upper <= self.lower:
            raise PlanError(f"tier {self.lower}–{self.upper}: upper must be above lower")
        if self.rate < ZERO:
            raise PlanError(f"tier {self.lower}–{self.upper}: rate {self.rate} is negative")


@dataclass(frozen=True)
class Cap:
    """``payout``: max commission per period (money); ``attainment``: max % of quota counted."""

    kind: Literal["payout", "attainment"]
    value: Decimal

    def __post_init__(self) -> None:
        _choice(self.kind, CAP_KINDS, "cap kind")
        _set(self, "value", to_decimal(self.value, "cap value"))
        if self.value <= ZERO:
            raise PlanError(f"cap value must be positive; got {self.value}")


@dataclass(frozen=True)
class FamilyRule:
    """How one product family earns: rate × ``multiplier``; ``constrained`` caps at base rate."""

    family: str
    multiplier: Decimal = Decimal("1")
    constrained: bool = False

    def __post_init__(self) -> None:
        _set(self, "multiplier", to_decimal(self.multiplier, f"multiplier of {self.family}"))
        if self.multiplier < ZERO:
            raise PlanError(f"family {self.family}: multiplier {self.multiplier} is negative")


DEFAULT_RULE = FamilyRule(family="")


@dataclass(frozen=True)
class Draw:
    """A guaranteed minimum per period.

    ``recoverable``: the top-up becomes a balance repaid from later periods' excess over the
    guarantee, at most ``recovery_cap_pct`` % of that period's earnings (None = no % limit);
    at termination the remaining balance is ``due`` (deducted, the statement may go negative)
    or ``forgiven``. ``non_recoverable``: the top-up is never repaid.
    """

    kind: Literal["recoverable", "non_recoverable"]
    amount: Decimal
    recovery_cap_pct: Decimal | None = None
    on_termination: Literal["due", "forgiven"] = "due"

    def __post_init__(self) -> None:
        _choice(self.kind, DRAW_KINDS, "draw kind")
        _choice(self.on_termination, DRAW_TERMINATION, "draw on_termination")
        _set(self, "amount", to_decimal(self.amount, "draw amount"))
        _set(self, "recovery_cap_pct", optional_decimal(self.recovery_cap_pct, "recovery cap"))
        if self.amount < ZERO:
            raise PlanError(f"draw amount {self.amount} is negative")
        cap = self.recovery_cap_pct
        if cap is not None and not ZERO < cap <= HUNDRED:
            raise PlanError(f"draw recovery cap {cap} % must be in (0, 100]")


@dataclass(frozen=True)
class Spiff:
    """A sales incentive on listed SKUs and/or families sold from ``start`` to ``end`` inclusive.

    ``kind='per_unit'``: ``amount`` money per credited unit; ``'percent_of_revenue'``:
    ``amount`` % of credited revenue. ``margin_floor_pct``: no SPIFF on a line whose revenue
    is below cost × (1 + x %) (exactly on the floor pays). ``budget``: total money for the
    SPIFF across all reps, consumed in (date, sales line id, rep) order; the line that crosses
    it is paid partially. Overlay credits earn it only with ``include_overlay``.
    """

    code: str
    start: date
    end: date
    kind: Literal["per_unit", "percent_of_revenue"]
    amount: Decimal
    skus: frozenset[str] = field(default_factory=frozenset)
    families: frozenset[str] = field(default_factory=frozenset)
    margin_floor_pct: Decimal | None = None
    budget: Decimal | None = None
    include_overlay: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        _choice(self.kind, SPIFF_KINDS, f"SPIFF {self.code} kind")
        _set(self, "amount", to_decimal(self.amount, f"SPIFF {self.code} amount"))
        _set(self, "skus", frozenset(self.skus))
        _set(self, "families", frozenset(self.families))
        _set(self, "margin_floor_pct", optional_decimal(self.margin_floor_pct, "margin floor"))
        _set(self, "budget", optional_decimal(self.budget, f"SPIFF {self.code} budget"))
        if self.end < self.start:
            raise PlanError(f"SPIFF {self.code}: end {self.end} is before start {self.start}")
        if not self.skus and not self.families:
            raise PlanError(f"SPIFF {self.code}: list at least one SKU or family")
        if self.amount <= ZERO:
            raise PlanError(f"SPIFF {self.code}: amount must be positive")
        if self.budget is not None and self.budget < ZERO:
            raise PlanError(f"SPIFF {self.code}: budget is negative")

    def covers(self, sku: str, family: str, day: date) -> bool:
        return self.start <= day <= self.end and (sku in self.skus or family in self.families)


@dataclass(frozen=True)
class Plan:
    """A commission plan version; see the module docstring for each field's meaning."""

    code: str
    tiers: tuple[Tier, ...]
    measure: Measure = "revenue"
    basis: Basis = "period"
    tier_on: TierOn = "amount"
    mode: Mode = "whole"
    threshold: Decimal | None = None
    cap: Cap | None = None
    base_rate: Decimal | None = None
    family_rules: tuple[FamilyRule, ...] = ()
    draw: Draw | None = None
    name: str = ""

    def __post_init__(self) -> None:
        _choice(self.measure, MEASURES, "measure")
        _choice(self.basis, BASES, "basis")
        _choice(self.tier_on, TIER_ON, "tier_on")
        _choice(self.mode, MODES, "mode")
        _set(self, "tiers", tuple(self.tiers))
        _set(self, "family_rules", tuple(self.family_rules))
        _set(self, "threshold", optional_decimal(self.threshold, "threshold"))
        _set(self, "base_rate", optional_decimal(self.base_rate, "base_rate"))
        if self.basis == "transaction" and self.tier_on == "attainment":
            raise PlanError("attainment is a period figure: use basis='period' to tier on it")
        _check_tiers(self.tiers)
        if self.threshold is not None and self.threshold < ZERO:
            raise PlanError(f"threshold {self.threshold} % is negative")
        if self.base_rate is not None and self.base_rate < ZERO:
            raise PlanError(f"base rate {self.base_rate} is negative")
        families = [rule.family for rule in self.family_rules]
        if len(families) != len(set(families)):
            raise PlanError("a family appears in more than one family rule")

    @property
    def rate_unit(self) -> str:
        """How tier rates read on a statement: percent, or money per unit for ``units``."""
        return "per unit" if self.measure == "units" else "%"

    @property
    def needs_quota(self) -> bool:
        return (
            self.tier_on == "attainment"
            or self.threshold is not None
            or (self.cap is not None and self.cap.kind == "attainment")
        )

    def rule_for(self, family: str) -> FamilyRule:
        for rule in self.family_rules:
            if rule.family == family:
                return rule
        return DEFAULT_RULE

    def constrained_rate(self) -> Decimal:
        """The base rate a constrained family earns at most."""
        if self.base_rate is not None:
            return self.base_rate
        if self.tier_on != "attainment":
            raise PlanError(f"plan {self.code}: constrained families need base_rate when tiers are on amount")
        hundred = HUNDRED
        for tier in self.tiers:
            if tier.lower <= hundred and (tier.upper is None or hundred < tier.upper):
                return tier.rate
        # 100 % lies above a finite top: the top tier is the one reached.
        return self.tiers[-1].rate


def _check_tiers(tiers: tuple[Tier, ...]) -> None:
    if not tiers:
        raise PlanError("a plan needs at least one tier")
    if tiers[0].lower != ZERO:
        raise PlanError(f"the first tier must start at 0, not {tiers[0].lower}")
    for previous, tier in zip(tiers, tiers[1:]):
        if previous.upper is None:
            raise PlanError("only the last tier may be open-ended")
        if tier.lower != previous.upper:
            raise PlanError(f"tiers must be contiguous: {previous.upper} then {tier.lower}")


def tiers_from_contract(rows: Iterable[Mapping[str, object]]) -> tuple[Tier, ...]:
    """Tiers from the API contract's ``[{"from": .., "to": .. or ""/None, "rate": ..}]``."""
    tiers = []
    for row in rows:
        upper = row.get("to")
        tiers.append(
            Tier(
                lower=to_decimal(row.get("from", "0"), "tier from"),
                upper=None if upper in (None, "") else to_decimal(upper, "tier to"),
                rate=to_decimal(row["rate"], "tier rate"),
            )
        )
    return tuple(tiers)
