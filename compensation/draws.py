"""Draw settlement: top a period's earnings up to the guarantee, recover an outstanding
recoverable balance from later excess, settle the balance at termination.

Inputs: the plan's ``Draw`` (or None), the period's earnings (the statement's commission, SPIFF,
clawback, adjustment and true-up lines, in cents), the balance carried from the previous
period, and whether the rep leaves in this period.
Outputs: ``DrawSettlement`` with the ``draw`` / ``draw_recovery`` lines, the balance to carry
and any amount forgiven.

Rules, in order:
1. earnings below the guarantee: a ``draw`` line tops them up to it (also when a clawback made
   earnings negative: the guarantee is on what is paid); a recoverable draw adds the top-up to
   the balance, a non-recoverable one does not.
2. earnings above the guarantee with a balance outstanding: a ``draw_recovery`` line of
   min(balance, earnings − guarantee, recovery cap % × earnings rounded down to the cent), so
   a recovery never takes pay below the guarantee nor above the cap.
3. termination with a balance left: ``due`` deducts all of it (the statement may go negative:
   the rep owes it); ``forgiven`` writes it off (a zero ``draw`` line records it).
Without a draw in the plan, a balance from an earlier plan is carried unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from compensation.money import HUNDRED, ZERO, cents, cents_down, exact, money, plain
from compensation.plans import Draw
from compensation.statements import StatementLine


@dataclass(frozen=True)
class DrawSettlement:
    lines: tuple[StatementLine, ...]
    balance_carried: Decimal
    forgiven: Decimal


@exact
def settle_draw(
    draw: Draw | None, *, earned: Decimal, prior_balance: Decimal, terminated: bool = False
) -> DrawSettlement:
    balance = cents(prior_balance)
    if draw is None:
        return DrawSettlement(lines=(), balance_carried=balance, forgiven=cents(ZERO))
    earned = cents(earned)
    guarantee = cents(draw.amount)
    lines: list[StatementLine] = []
    if earned < guarantee:
        top_up = guarantee - earned
        recoverable = draw.kind == "recoverable"
        lines.append(
            StatementLine(
                component="draw",
                description=(
                    f"{'Recoverable' if recoverable else 'Non-recoverable'} draw: guaranteed "
                    f"{money(guarantee)}, earned {money(earned)}"
                ),
                base=guarantee,
                amount=top_up,
            )
        )
        if recoverable:
            balance += top_up
    elif balance > ZERO:
        excess = earned - guarantee
        limits = [balance, excess]
        why = f"balance {money(balance)}, excess over guarantee {money(excess)}"
        if draw.recovery_cap_pct is not None:
            cap = cents_down(earned * draw.recovery_cap_pct / HUNDRED)
            limits.append(cap)
            why += f", {plain(draw.recovery_cap_pct)} % of earnings {money(cap)}"
        recovery = min(limits)
        if recovery > ZERO:
            lines.append(
                StatementLine(
                    component="draw_recovery",
                    description=f"Draw recovery: smallest of {why}",
                    base=balance,
                    amount=-recovery,
                )
            )
            balance -= recovery
    forgiven = cents(ZERO)
    if terminated and balance > ZERO:
        if draw.on_termination == "due":
            lines.append(
                StatementLine(
                    component="draw_recovery",
                    description=f"Draw balance {money(balance)} due at termination",
                    base=balance,
                    amount=-balance,
                )
            )
        else:
            forgiven = balance
            lines.append(
                StatementLine(
                    component="draw",
                    description=f"Draw balance {money(balance)} forgiven at termination",
                    base=balance,
                    amount=cents(ZERO),
                )
            )
        balance = cents(ZERO)
    return DrawSettlement(lines=tuple(lines), balance_carried=balance, forgiven=forgiven)
