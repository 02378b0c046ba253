"""Commission calculation, worked by hand: no database, only Decimal inputs built from strings."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from decimal import Decimal, localcontext

import pandas as pd
import pytest

from compensation.calculations import (
    Cap,
    CompensationError,
    CreditedLine,
    CreditError,
    Draw,
    FamilyRule,
    Period,
    Plan,
    PlanError,
    RepPeriod,
    Spiff,
    Statement,
    StatementLine,
    Tier,
    YtdInput,
    adjustment_lines,
    compare_plans,
    compute_period,
    compute_statement,
    credits_from_frame,
    render_statement,
    settle_draw,
    statement_from_dict,
    statement_to_dict,
    tiers_from_contract,
    ytd_paid,
)

D = Decimal
JAN = Period(date(2025, 1, 1), date(2025, 1, 31))
FEB = Period(date(2025, 2, 1), date(2025, 2, 28))
MAR = Period(date(2025, 3, 1), date(2025, 3, 31))

STEP_TIERS = tiers_from_contract(
    [
        {"from": "0", "to": "1000", "rate": "1"},
        {"from": "1000", "to": "3000", "rate": "2"},
        {"from": "3000", "to": "8000", "rate": "3"},
        {"from": "8000", "to": "20000", "rate": "5"},
    ]
)
# Below 100 at 10 %, 100–150 at 12 %, 150–200 at 14 %, above 200 at 16 %.
ISSUE_TIERS = tiers_from_contract(
    [
        {"from": "0", "to": "100", "rate": "10"},
        {"from": "100", "to": "150", "rate": "12"},
        {"from": "150", "to": "200", "rate": "14"},
        {"from": "200", "to": "", "rate": "16"},
    ]
)


def flat(rate: str) -> tuple[Tier, ...]:
    return (Tier(D("0"), None, D(rate)),)


def credit(
    sales_line_id: str,
    revenue: str,
    *,
    rep: str = "alice",
    day: date = date(2025, 1, 15),
    sku: str = "SKU-1",
    family: str = "STD",
    quantity: str = "1",
    cost: str = "0",
    **extra: object,
) -> CreditedLine:
    return CreditedLine(
        sales_line_id=sales_line_id,
        rep=rep,
        date=day,
        sku=sku,
        family=family,
        quantity=D(quantity),
        revenue=D(revenue),
        cost=D(cost),
        **extra,  # type: ignore[arg-type]
    )


def statement(plan: Plan, credits: list[CreditedLine], **kwargs: object) -> Statement:
    period = kwargs.pop("period", JAN)
    spiffs = kwargs.pop("spiffs", ())
    item = RepPeriod(rep="alice", plan=plan, credits=tuple(credits), **kwargs)  # type: ignore[arg-type]
    return compute_statement(period, item, spiffs=spiffs)  # type: ignore[arg-type]


# --- acceptance: rate tables ---------------------------------------------------------------


def test_marginal_step_table_pays_each_transaction_on_its_own() -> None:
    # Given the step table and six sales rated one by one
    plan = Plan(code="STEP", tiers=STEP_TIERS, basis="transaction", mode="marginal")
    amounts = ["200", "300", "1500", "1200", "2000", "4500"]
    credits = [credit(f"SO-{i}", amount) for i, amount in enumerate(amounts)]
    # When
    result = statement(plan, credits)
    # Then 1,500 = 1,000 × 1 % + 500 × 2 % = 20; 4,500 = 10 + 2,000 × 2 % + 1,500 × 3 % = 95
    per_sale = result.paid_per_sale("commission")
    assert [per_sale[f"SO-{i}"] for i in range(6)] == [
        D("2.00"),
        D("3.00"),
        D("20.00"),
        D("14.00"),
        D("30.00"),
        D("95.00"),
    ]
    assert result.subtotal("commission") == D("164.00")
    assert result.total_payable == D("164.00")
    # Every line explains itself: base × rate = amount, traced to one sale.
    for line in result.lines:
        assert line.amount == (line.base * line.rate / 100).quantize(D("0.01"))
        assert len(line.source_ids) == 1


@pytest.mark.parametrize(("mode", "expected"), [("whole", "15.00"), ("marginal", "13.00")])
def test_issue_tiers_on_125_whole_and_marginal(mode: str, expected: str) -> None:
    # whole: 125 × 12 % = 15; marginal: 100 × 10 % + 25 × 12 % = 13
    on_amount = Plan(code="T", tiers=ISSUE_TIERS, basis="period", tier_on="amount", mode=mode)  # type: ignore[arg-type]
    assert statement(on_amount, [credit("SO-1", "125")]).total_payable == D(expected)
    # The same table read as % of a quota of 100: 125 % attainment.
    on_attainment = replace(on_amount, tier_on="attainment")
    result = statement(on_attainment, [credit("SO-1", "125")], quota=D("100"))
    assert result.total_payable == D(expected)
    assert result.attainment == D("125.00")


def test_marginal_on_attainment_scales_brackets_by_quota() -> None:
    # Quota 2,000, sales 2,500 = 125 %: 2,000 × 10 % + 500 × 12 % = 260
    plan = Plan(code="T", tiers=ISSUE_TIERS, tier_on="attainment", mode="marginal")
    result = statement(plan, [credit("SO-1", "1500"), credit("SO-2", "1000")], quota=D("2000"))
    assert [(line.base, line.rate, line.amount) for line in result.lines] == [
        (D("2000.00"), D("10"), D("200.00")),
        (D("500.00"), D("12"), D("60.00")),
    ]
    assert result.lines[0].source_ids == ("SO-1", "SO-2")


def test_boundary_value_takes_the_higher_tier() -> None:
    tiers = (Tier(D("0"), D("1000"), D("1")), Tier(D("1000"), None, D("2")))
    whole = Plan(code="W", tiers=tiers, basis="transaction", mode="whole")
    # exactly 1,000 → 2 % on all of it; 999.99 → 1 % (9.9999 → 10.00)
    assert statement(whole, [credit("SO-1", "1000")]).total_payable == D("20.00")
    assert statement(whole, [credit("SO-1", "999.99")]).total_payable == D("10.00")
    # marginal: exactly 1,000 fills the first bracket; the higher one has nothing to pay
    marginal = replace(whole, mode="marginal")
    result = statement(marginal, [credit("SO-1", "1000")])
    assert [(line.rate, line.amount) for line in result.lines] == [(D("1"), D("10.00"))]
    # attainment exactly 100 % (1,000 of 1,000) is in the 100–150 tier: 12 %
    on_attainment = Plan(code="A", tiers=ISSUE_TIERS, tier_on="attainment")
    result = statement(on_attainment, [credit("SO-1", "1000")], quota=D("1000"))
    assert result.lines[0].rate == D("12")
    assert result.total_payable == D("120.00")


def test_threshold_pays_nothing_below_and_everything_on_it() -> None:
    plan = Plan(code="TH", tiers=flat("10"), threshold=D("80"))
    below = statement(plan, [credit("SO-1", "799.99")], quota=D("1000"))
    assert below.total_payable == D("0.00")
    assert below.lines[0].description.startswith("Below threshold 80 %")
    assert below.attainment == D("79.99")  # truncated for display, never rounded up
    assert below.notes == ("Attainment 79.99 % is below the 80 % threshold: no commission",)
    at = statement(plan, [credit("SO-1", "800")], quota=D("1000"))
    assert at.total_payable == D("80.00")


def test_threshold_needs_a_quota() -> None:
    plan = Plan(code="TH", tiers=flat("10"), threshold=D("80"))
    with pytest.raises(PlanError, match="needs a positive quota for alice"):
        statement(plan, [credit("SO-1", "100")])


def test_payout_cap_adds_a_negative_commission_line() -> None:
    # 6,200 × 10 % = 620, capped at 500: a −120 line
    plan = Plan(code="CAP", tiers=flat("10"), cap=Cap("payout", D("500")))
    result = statement(plan, [credit("SO-1", "6200")])
    assert [line.amount for line in result.lines] == [D("620.00"), D("-120.00")]
    assert result.subtotal("commission") == D("500.00")
    assert "Payout cap 500.00" in result.lines[1].description


def test_attainment_cap_counts_measure_only_up_to_the_cap() -> None:
    # Quota 1,000, sales 2,000 = 200 %, counted up to 150 % = 1,500
    tiers = (Tier(D("0"), D("100"), D("10")), Tier(D("100"), None, D("20")))
    capped = Cap("attainment", D("150"))
    whole = Plan(code="C", tiers=tiers, tier_on="attainment", cap=capped)
    result = statement(whole, [credit("SO-1", "2000")], quota=D("1000"))
    assert result.total_payable == D("300.00")  # 1,500 × 20 %
    assert result.attainment == D("200.00")  # reported as achieved, not as counted
    marginal = replace(whole, mode="marginal")
    # 1,000 × 10 % + 500 × 20 % = 200
    assert statement(marginal, [credit("SO-1", "2000")], quota=D("1000")).total_payable == D("200.00")


def test_attainment_cap_on_transactions_goes_to_the_earliest_sales() -> None:
    # Quota 1,000 capped at 100 %: 600 counts fully, the later 600 only 400; at 10 %
    plan = Plan(code="C", tiers=flat("10"), basis="transaction", cap=Cap("attainment", D("100")))
    late = credit("SO-2", "600", day=date(2025, 1, 20))
    early = credit("SO-1", "600", day=date(2025, 1, 5))
    result = statement(plan, [late, early], quota=D("1000"))
    assert result.paid_per_sale("commission") == {"SO-1": D("60.00"), "SO-2": D("40.00")}
    assert result.notes == ("SO-2: 200.00 above the attainment cap not counted",)


def test_finite_top_of_the_table_caps_the_amount_counted() -> None:
    # 25,000 on the step table: 10 + 40 + 150 + 12,000 × 5 % = 800; nothing above 20,000
    plan = Plan(code="STEP", tiers=STEP_TIERS, basis="transaction", mode="marginal")
    assert statement(plan, [credit("SO-1", "25000")]).total_payable == D("800.00")


# --- family rules ------------------------------------------------------------------------------

ACCEL_TIERS = (
    Tier(D("0"), D("100"), D("5")),
    Tier(D("100"), D("120"), D("8")),
    Tier(D("120"), None, D("10")),
)
FAMILY_RULES = (
    FamilyRule("ACC", multiplier=D("1.5")),
    FamilyRule("CON", constrained=True),
)
FAMILY_SALES = [
    credit("SO-1", "6000", family="STD"),
    credit("SO-2", "3000", family="ACC"),
    credit("SO-3", "3000", family="CON"),
]


def test_family_multiplier_and_constrained_family_in_whole_mode() -> None:
    # 12,000 of 10,000 = 120 % → 10 % (boundary takes the higher tier).
    # STD 6,000 × 10 % = 600; ACC 3,000 × 15 % = 450; CON capped at the 100 % tier's 8 %: 240
    plan = Plan(code="F", tiers=ACCEL_TIERS, tier_on="attainment", family_rules=FAMILY_RULES)
    result = statement(plan, FAMILY_SALES, quota=D("10000"))
    assert [(line.source_ids, line.rate, line.amount) for line in result.lines] == [
        (("SO-1",), D("10"), D("600.00")),
        (("SO-2",), D("15"), D("450.00")),
        (("SO-3",), D("8"), D("240.00")),
    ]
    assert result.total_payable == D("1290.00")
    assert "supply-constrained" in result.lines[2].description


def test_family_groups_share_each_marginal_bracket_pro_rata() -> None:
    # Brackets: 10,000 at 5 %, 2,000 at 8 %. Shares STD ½, ACC ¼, CON ¼.
    # STD 5,000 × 5 % + 1,000 × 8 % = 330; ACC 2,500 × 7.5 % + 500 × 12 % = 247.50;
    # CON 2,500 × 5 % + 500 × 8 % = 165 (8 % is the base rate: nothing to clip)
    plan = Plan(
        code="F",
        tiers=ACCEL_TIERS,
        tier_on="attainment",
        mode="marginal",
        family_rules=FAMILY_RULES,
    )
    result = statement(plan, FAMILY_SALES, quota=D("10000"))
    assert result.paid_per_sale("commission") == {
        "SO-1": D("330.00"),
        "SO-2": D("247.50"),
        "SO-3": D("165.00"),
    }
    assert result.total_payable == D("742.50")


def test_constrained_family_on_amount_tiers_needs_an_explicit_base_rate() -> None:
    tiers = (Tier(D("0"), D("1000"), D("2")), Tier(D("1000"), None, D("4")))
    plan = Plan(
        code="F",
        tiers=tiers,
        basis="transaction",
        family_rules=(FamilyRule("CON", constrained=True),),
    )
    with pytest.raises(PlanError, match="need base_rate"):
        statement(plan, [credit("SO-1", "2000", family="CON")])
    # With base rate 3 %: 2,000 × min(4, 3) % = 60
    assert statement(replace(plan, base_rate=D("3")), [credit("SO-1", "2000", family="CON")]).total_payable == D(
        "60.00"
    )


# --- measures and rounding -------------------------------------------------------------------


def test_margin_and_units_measures() -> None:
    margin = Plan(code="M", tiers=flat("10"), measure="margin")
    # (1,000 − 600) × 10 % = 40
    assert statement(margin, [credit("SO-1", "1000", cost="600")]).total_payable == D("40.00")
    units = Plan(code="U", tiers=flat("2.50"), measure="units")
    # 10 units × 2.50 per unit = 25
    result = statement(units, [credit("SO-1", "999", quantity="10")])
    assert result.total_payable == D("25.00")
    assert (result.lines[0].rate, result.lines[0].rate_unit) == (D("2.5"), "per unit")


def test_rounding_is_half_up_per_line_and_totals_sum_the_rounded_lines() -> None:
    # Each 0.50 × 1 % = 0.005 → 0.01 per line (half-even would give 0.00); total 0.03, not
    # round(0.015) = 0.02. A return mirrors a line to the cent: −0.01.
    plan = Plan(code="R", tiers=flat("1"), basis="transaction")
    credits = [credit(f"SO-{i}", "0.50") for i in range(3)]
    credits.append(credit("SO-0", "0.50", kind="return", day=date(2025, 1, 20)))
    result = statement(plan, credits)
    assert [line.amount for line in result.lines] == [D("0.01")] * 3 + [D("-0.01")]
    assert result.subtotal("commission") == D("0.03")
    assert result.total_payable == D("0.02")


def test_result_ignores_the_callers_decimal_context() -> None:
    plan = Plan(code="STEP", tiers=STEP_TIERS, basis="transaction", mode="marginal")
    credits = [credit("SO-1", "12345.67"), credit("SO-2", "98.76")]
    expected = render_statement(statement(plan, credits))
    with localcontext() as ctx:
        ctx.prec = 3
        assert render_statement(statement(plan, credits)) == expected


# --- acceptance: draws -------------------------------------------------------------------------


def test_recoverable_draw_over_three_periods() -> None:
    # Guarantee 1,000, recovery capped at 50 % of the period's commission. Earned 400, 1,500,
    # 3,000: P1 draw 600 → paid 1,000, balance 600; P2 recovery min(600, 1,500 − 1,000, 750)
    # = 500 → paid 1,000, balance 100; P3 recovery min(100, 2,000, 1,500) = 100 → paid 2,900.
    draw = Draw("recoverable", D("1000"), recovery_cap_pct=D("50"))
    plan = Plan(code="D", tiers=flat("10"), draw=draw)
    balance = D("0")
    paid, balances = [], []
    for period, revenue in [(JAN, "4000"), (FEB, "15000"), (MAR, "30000")]:
        sale = credit(f"SO-{period.start.month}", revenue, day=period.start)
        result = statement(plan, [sale], period=period, prior_draw_balance=balance)
        balance = result.draw_balance_carried
        paid.append(result.total_payable)
        balances.append(balance)
    assert paid == [D("1000.00"), D("1000.00"), D("2900.00")]
    assert balances == [D("600.00"), D("100.00"), D("0.00")]


def test_draw_settlement_rules() -> None:
    recoverable = Draw("recoverable", D("1000"), recovery_cap_pct=D("50"))
    first = settle_draw(recoverable, earned=D("400"), prior_balance=D("0"))
    assert [(line.component, line.amount) for line in first.lines] == [("draw", D("600.00"))]
    # Non-recoverable: topped up, nothing owed.
    free = settle_draw(Draw("non_recoverable", D("1000")), earned=D("400"), prior_balance=D("0"))
    assert (free.lines[0].amount, free.balance_carried) == (D("600.00"), D("0.00"))
    # Termination, balance 600, earned 1,200: recovery min(600, 200, 600) = 200, then 400 left
    due = settle_draw(recoverable, earned=D("1200"), prior_balance=D("600"), terminated=True)
    assert [line.amount for line in due.lines] == [D("-200.00"), D("-400.00")]
    assert (due.balance_carried, due.forgiven) == (D("0.00"), D("0.00"))
    forgiving = replace(recoverable, on_termination="forgiven")
    gone = settle_draw(forgiving, earned=D("1200"), prior_balance=D("600"), terminated=True)
    assert [line.amount for line in gone.lines] == [D("-200.00"), D("0.00")]
    assert (gone.balance_carried, gone.forgiven) == (D("0.00"), D("400.00"))


def test_terminated_rep_statement_shows_the_balance_due() -> None:
    # Earned 1,200 against guarantee 1,000, balance 600: pays 1,200 − 200 − 400 = 600
    draw = Draw("recoverable", D("1000"), recovery_cap_pct=D("50"))
    plan = Plan(code="D", tiers=flat("10"), draw=draw)
    result = statement(plan, [credit("SO-1", "12000")], prior_draw_balance=D("600"), terminated=True)
    assert result.total_payable == D("600.00")
    assert result.subtotal("draw_recovery") == D("-600.00")
    assert result.draw_balance_carried == D("0.00")


# --- acceptance: crediting -----------------------------------------------------------------


def credited(shares: list[tuple[str, str, str]]):
    """The credit rows of SO-9 (4 units, 10,000 revenue, cost 1,500 a unit; territory T1,
    2025-01-10) from the production path, ``territories.ownership.credit_lines`` (the reps of
    the owning territory on the order date); ``compensation.selectors.credited_lines`` makes
    them ``CreditedLine`` records. ``shares``: (rep, share %, role)."""
    from territories.ownership import credit_lines

    line = pd.DataFrame(
        [
            {
                "line_id": "SO-9",
                "order_date": date(2025, 1, 10),
                "territory_code": "T1",
                "quantity": D("4"),
                "amount": D("10000"),
                "status": "invoiced",
                "sku": "SKU-1",
                "family": "STD",
                "unit_cost": D("1500"),
            }
        ]
    )
    assignments = pd.DataFrame(
        [
            {
                "territory_code": "T1",
                "rep_username": rep,
                "role": role,
                "share": D(share),
                "valid_from": date(2024, 1, 1),
                "valid_to": None,
            }
            for rep, share, role in shares
        ]
    )
    return credit_lines(line, assignments)


def test_split_60_40_pays_each_rep_on_their_own_plan() -> None:
    from compensation.selectors import credited_lines

    credits = credited_lines(credited([("alice", "60", "primary"), ("bob", "40", "primary")]))
    result = compute_period(
        JAN,
        [
            RepPeriod("alice", Plan(code="A5", tiers=flat("5")), tuple(credits["alice"])),
            RepPeriod("bob", Plan(code="B3", tiers=flat("3")), tuple(credits["bob"])),
        ],
    )
    # 6,000 × 5 % = 300; 4,000 × 3 % = 120
    assert result.statement_for("alice").total_payable == D("300.00")
    assert result.statement_for("bob").total_payable == D("120.00")
    assert result.statement_for("alice").credited == D("6000.00")


@pytest.mark.parametrize("shares", [("60", "30"), ("60", "50"), ("100.01",)])
def test_split_flags_primary_shares_not_summing_to_100(shares: tuple[str, ...]) -> None:
    from territories.ownership import primary_share_totals_off

    credits = credited([(f"rep{i}", share, "primary") for i, share in enumerate(shares)])
    off = primary_share_totals_off(credits)
    assert off.to_dict() == {"SO-9": sum((D(s) for s in shares), D(0))}
    assert primary_share_totals_off(credited([("a", "60", "primary"), ("b", "40", "primary")])).empty


def test_overlay_credit_is_additive() -> None:
    from compensation.selectors import credited_lines
    from territories.ownership import primary_share_totals_off

    credits = credited([("spec", "50", "overlay"), ("alice", "100", "primary")])
    assert primary_share_totals_off(credits).empty  # the overlay does not count toward 100 %
    lines = credited_lines(credits)
    assert [(c.rep, c.role, c.measure("revenue")) for rep in ("alice", "spec") for c in lines[rep]] == [
        ("alice", "primary", D("10000")),
        ("spec", "overlay", D("5000")),
    ]


# --- acceptance: returns, clawback, adjustments ------------------------------------------------


def test_return_in_a_later_period_is_a_clawback_there() -> None:
    # SO-2 (1,000 at 5 %) sold in January, returned in February: −50 in February
    plan = Plan(code="P5", tiers=flat("5"))
    returned = credit("SO-2", "1000", kind="return", day=date(2025, 2, 10))
    result = statement(plan, [credit("SO-3", "4000", day=date(2025, 2, 3)), returned], period=FEB)
    clawback = [line for line in result.lines if line.component == "clawback"]
    assert [(line.base, line.amount, line.source_ids) for line in clawback] == [(D("-1000.00"), D("-50.00"), ("SO-2",))]
    assert result.total_payable == D("150.00")
    # Returns do not change attainment or the tier: credited is February's sales only.
    assert result.credited == D("4000.00")


def test_return_reverses_exactly_what_was_paid_when_known() -> None:
    plan = Plan(code="P5", tiers=flat("5"))
    returned = credit(
        "SO-2",
        "1000",
        kind="return",
        day=date(2025, 2, 10),
        paid_commission=D("61.25"),
        paid_spiff=D("20"),
    )
    result = statement(plan, [returned], period=FEB)
    assert [line.amount for line in result.lines] == [D("-61.25"), D("-20.00")]


def test_return_after_close_is_a_negative_adjustment_in_the_next_period() -> None:
    plan = Plan(code="P5", tiers=flat("5"))
    january = [credit("SO-1", "2000"), credit("SO-2", "1000")]
    closed = statement(plan, january)
    stored = render_statement(closed)
    assert closed.total_payable == D("150.00")
    # SO-2 is cancelled with effect in January, but only recorded after January closed.
    late = credit("SO-2", "1000", kind="return", day=date(2025, 1, 31))
    recomputed = statement(plan, [*january, late])
    adjustments = adjustment_lines(closed, recomputed)
    assert [(a.component, a.amount, a.corrects, a.corrects_component, a.source_ids) for a in adjustments] == [
        ("adjustment", D("-50.00"), "alice@2025-01-01", "clawback", ("SO-2",))
    ]
    # The adjustment is paid in February, the next open period.
    february = statement(plan, [credit("SO-3", "4000", day=date(2025, 2, 3))], period=FEB, adjustments=adjustments)
    assert february.subtotal("adjustment") == D("-50.00")
    assert february.total_payable == D("150.00")  # 200 − 50
    # The closed statement is unchanged byte for byte, and reloads to the same value.
    assert render_statement(closed) == stored
    assert statement_from_dict(statement_to_dict(closed)) == closed
    assert adjustment_lines(closed, closed) == ()


def test_adjustment_refuses_a_recomputation_of_another_statement() -> None:
    plan = Plan(code="P5", tiers=flat("5"))
    january = statement(plan, [credit("SO-1", "100")])
    february = statement(plan, [credit("SO-2", "100", day=date(2025, 2, 2))], period=FEB)
    with pytest.raises(CompensationError, match="cannot compare"):
        adjustment_lines(january, february)


def test_ytd_true_up_pays_earned_ytd_minus_paid_ytd() -> None:
    # Monthly quota 1,000; below 100 % at 5 %, from 100 % at 10 % (whole).
    # January 800 → 40. February 1,400 (140 %) → 140. YTD 2,200 of 2,000 = 110 % → 220;
    # paid 40 + 140 → true-up 40.
    tiers = (Tier(D("0"), D("100"), D("5")), Tier(D("100"), None, D("10")))
    plan = Plan(code="Y", tiers=tiers, tier_on="attainment")
    jan_sale = credit("SO-1", "800")
    january = statement(plan, [jan_sale], quota=D("1000"))
    assert january.total_payable == D("40.00")
    feb_sale = credit("SO-2", "1400", day=date(2025, 2, 5))
    ytd = YtdInput(credits=(jan_sale, feb_sale), quota=D("2000"), prior_paid=ytd_paid([january]))
    february = statement(plan, [feb_sale], period=FEB, quota=D("1000"), ytd=ytd)
    assert february.subtotal("commission") == D("140.00")
    assert february.subtotal("true_up") == D("40.00")
    assert february.total_payable == D("180.00")
    # YTD credits must contain this period's.
    with pytest.raises(CreditError, match="must include"):
        statement(plan, [feb_sale], period=FEB, quota=D("1000"), ytd=replace(ytd, credits=()))


def test_ytd_paid_counts_commission_kinds_only() -> None:
    lines = (
        StatementLine("commission", "c", D("100")),
        StatementLine("spiff", "s", D("30")),
        StatementLine("clawback", "k", D("-10")),
        StatementLine("true_up", "t", D("5")),
        StatementLine("adjustment", "a", D("-2"), corrects_component="commission"),
        StatementLine("adjustment", "b", D("-7"), corrects_component="spiff"),
        StatementLine("draw", "d", D("500")),
    )
    jan = Statement("alice", "P", JAN.start, JAN.end, lines)
    assert ytd_paid([jan]) == D("93.00")  # 100 − 10 + 5 − 2


# --- acceptance: SPIFFs ----------------------------------------------------------------------


AGED = Spiff(
    code="AGED-1",
    start=date(2025, 1, 1),
    end=date(2025, 1, 31),
    kind="per_unit",
    amount=D("10"),
    skus=frozenset({"AGED"}),
    margin_floor_pct=D("10"),
)


def test_spiff_margin_floor() -> None:
    plan = Plan(code="P0", tiers=flat("0"))
    below = credit("SO-1", "1099.99", sku="AGED", quantity="5", cost="1000")
    on_floor = credit("SO-2", "1100", sku="AGED", quantity="5", cost="1000")
    result = statement(plan, [below, on_floor], spiffs=(AGED,))
    spiffs = [line for line in result.lines if line.component == "spiff"]
    # 1,099.99 < 1,000 × 1.10: nothing; exactly 1,100: 5 units × 10 = 50
    assert [(line.source_ids, line.amount) for line in spiffs] == [(("SO-2",), D("50.00"))]
    assert result.notes == ("SPIFF AGED-1 not paid on SO-1: revenue 1,099.99 is below cost 1,000.00 + 10 % (1,100.00)",)


def test_spiff_budget_is_consumed_in_date_order_across_reps() -> None:
    # Budget 120 for 50 per line: 50 (alice 3rd), 50 (bob 4th), 20 (alice 5th), bob 6th none
    spiff = replace(AGED, margin_floor_pct=None, budget=D("120"), amount=D("12.50"))
    plan = Plan(code="P0", tiers=flat("0"))

    def sale(sales_line_id: str, rep: str, day: int) -> CreditedLine:
        return credit(sales_line_id, "100", rep=rep, sku="AGED", quantity="4", day=date(2025, 1, day))

    alice = RepPeriod("alice", plan, (sale("SO-5", "alice", 5), sale("SO-3", "alice", 3)))
    bob = RepPeriod("bob", plan, (sale("SO-6", "bob", 6), sale("SO-4", "bob", 4)))
    result = compute_period(JAN, [bob, alice], spiffs=(spiff,))
    assert result.statement_for("alice").paid_per_sale("spiff") == {
        "SO-3": D("50.00"),
        "SO-5": D("20.00"),
    }
    assert result.statement_for("bob").paid_per_sale("spiff") == {"SO-4": D("50.00")}
    assert result.statement_for("bob").notes == ("SPIFF AGED-1 not paid on SO-6: budget 120.00 used up",)
    assert result.spiff_budget_used == {"AGED-1": D("120.00")}
    # Budget already used in earlier periods is carried in.
    later = compute_period(JAN, [alice], spiffs=(spiff,), spiff_budget_used={"AGED-1": D("100")})
    assert later.statement_for("alice").paid_per_sale("spiff") == {"SO-3": D("20.00")}


def test_spiff_percent_of_revenue_respects_share_and_window() -> None:
    spiff = Spiff(
        code="FAM",
        start=date(2025, 1, 10),
        end=date(2025, 1, 20),
        kind="percent_of_revenue",
        amount=D("2"),
        families=frozenset({"ACC"}),
    )
    plan = Plan(code="P0", tiers=flat("0"))
    inside = credit("SO-1", "1000", family="ACC", share=D("50"), day=date(2025, 1, 20))
    outside = credit("SO-2", "1000", family="ACC", day=date(2025, 1, 21))
    overlay = credit("SO-3", "1000", family="ACC", role="overlay", day=date(2025, 1, 12))
    result = statement(plan, [inside, outside, overlay], spiffs=(spiff,))
    # 1,000 × 50 % × 2 % = 10; outside the window and overlay credit: nothing
    assert result.paid_per_sale("spiff") == {"SO-1": D("10.00")}


# --- determinism and inputs -----------------------------------------------------------------


def test_same_inputs_give_identical_statements_whatever_their_order() -> None:
    draw = Draw("recoverable", D("5000"), recovery_cap_pct=D("50"))
    plan = Plan(
        code="ALL",
        tiers=ACCEL_TIERS,
        tier_on="attainment",
        mode="marginal",
        family_rules=FAMILY_RULES,
        draw=draw,
    )
    credits = [
        *FAMILY_SALES,
        credit("SO-4", "333.33", family="ACC", sku="AGED", quantity="3", share=D("33.33")),
        credit("SO-0", "700", kind="return", day=date(2025, 1, 2)),
    ]
    spiff = replace(AGED, margin_floor_pct=None, budget=D("15"))
    first = statement(plan, credits, quota=D("9999.99"), spiffs=(spiff,))
    shuffled = credits[:]
    random.Random(7).shuffle(shuffled)
    second = statement(plan, shuffled, quota=D("9999.99"), spiffs=(spiff,))
    assert first == second
    assert render_statement(first) == render_statement(second)
    assert first.total_payable == sum(line.amount for line in first.lines)


def test_floats_are_refused_on_money() -> None:
    with pytest.raises(TypeError, match="float"):
        credit("SO-1", "100", share=60.0)
    with pytest.raises(TypeError, match="float"):
        Tier(D("0"), None, 0.05)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float"):
        Draw("recoverable", 1000.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tiers": ()}, "at least one tier"),
        ({"tiers": (Tier(D("10"), None, D("1")),)}, "start at 0"),
        ({"tiers": (Tier(D("0"), D("10"), D("1")), Tier(D("20"), None, D("2")))}, "contiguous"),
        ({"tiers": (Tier(D("0"), None, D("1")), Tier(D("10"), None, D("2")))}, "only the last"),
        ({"basis": "transaction", "tier_on": "attainment"}, "attainment is a period figure"),
        ({"mode": "stepped"}, "mode must be one of"),
    ],
)
def test_inconsistent_plans_are_rejected(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"code": "BAD", "tiers": flat("1")}
    with pytest.raises(PlanError, match=message):
        Plan(**{**base, **kwargs})  # type: ignore[arg-type]


def test_credits_must_belong_to_the_period_and_rep() -> None:
    plan = Plan(code="P", tiers=flat("1"))
    with pytest.raises(CreditError, match="outside"):
        statement(plan, [credit("SO-1", "1", day=date(2025, 2, 1))])
    with pytest.raises(CreditError, match="credit of bob"):
        statement(plan, [credit("SO-1", "1", rep="bob")])


def test_credits_from_a_dataframe_of_decimals() -> None:
    frame = pd.DataFrame(
        {
            "sales_line_id": ["SO-1", "SO-2"],
            "rep": ["alice", "alice"],
            "date": [date(2025, 1, 5), pd.Timestamp("2025-01-06")],
            "sku": ["SKU-1", "SKU-2"],
            "family": ["STD", "STD"],
            "quantity": [D("1"), D("2")],
            "revenue": [D("100.10"), D("200.20")],
            "cost": [D("50"), D("60")],
            "share": [D("100"), None],
            "kind": ["credit", "return"],
        }
    )
    lines = credits_from_frame(frame)
    assert lines[1] == credit(
        "SO-2", "200.20", sku="SKU-2", quantity="2", cost="60", kind="return", day=date(2025, 1, 6)
    )
    with pytest.raises(TypeError, match="float"):
        credits_from_frame(frame.assign(revenue=[100.1, 200.2]))


def test_stored_statement_with_a_wrong_total_is_refused() -> None:
    data = statement_to_dict(statement(Plan(code="P", tiers=flat("5")), [credit("SO-1", "100")]))
    data["total_payable"] = "999.00"
    with pytest.raises(CompensationError, match="does not match"):
        statement_from_dict(data)


# --- what-if ----------------------------------------------------------------------------------


def test_what_if_accelerator_from_1_5x_to_2x() -> None:
    # Base 5 % below 100 % of a 1,000 monthly quota; accelerator 7.5 % (A) or 10 % (B).
    # alice: Jan 1,200 → A 90, B 120; Feb 900 → 45 both. bob: Jan 800 → 40 both.
    base = Tier(D("0"), D("100"), D("5"))
    plan_a = Plan(code="A", tiers=(base, Tier(D("100"), None, D("7.5"))), tier_on="attainment")
    plan_b = replace(plan_a, code="B", tiers=(base, Tier(D("100"), None, D("10"))))
    credits = [
        credit("SO-1", "1200"),
        credit("SO-2", "900", day=date(2025, 2, 3)),
        credit("SO-3", "800", rep="bob"),
    ]
    quotas = {(rep, p.start): D("1000") for rep in ("alice", "bob") for p in (JAN, FEB)}
    result = compare_plans(periods=[FEB, JAN], credits=credits, plan_a=plan_a, plan_b=plan_b, quotas=quotas)
    assert [(r.rep, r.cost_a, r.cost_b, r.delta) for r in result.reps] == [
        ("alice", D("135.00"), D("165.00"), D("30.00")),
        ("bob", D("40.00"), D("40.00"), D("0.00")),
    ]
    assert (result.total_a, result.total_b, result.delta) == (
        D("175.00"),
        D("205.00"),
        D("30.00"),
    )
    with pytest.raises(CreditError, match="none of the periods"):
        compare_plans(periods=[JAN], credits=credits, plan_a=plan_a, plan_b=plan_b, quotas=quotas)
