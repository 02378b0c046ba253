"""Crediting, period close, corrections after close, draws, disputes, what-if and SPIFFs,
through the services, with numbers worked by hand."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from compensation import selectors, services
from compensation.models import CompPeriod, Credit, Dispute, Spiff, Statement
from core.errors import ApplicationError
from core.models import AuditEvent
from tests.compensation.conftest import FEB, JAN, MAR

D = Decimal


def statement(rep, start) -> Statement:
    return Statement.objects.get(rep=rep, period_start=start)


def test_split_60_40_on_10000_at_5_and_3_percent_pays_300_and_120(shop):
    # Given alice (60 %) on 5 % and bob (40 %) on 3 %, one sale of 10,000 in their territory
    shop.assign(shop.alice, shop.plan("FIVE", "5"))
    shop.assign(shop.bob, shop.plan("THREE", "3"))
    shop.sale(dt.date(2025, 1, 10), "10000")
    # When January closes
    services.comp_period_close(period_start=JAN)
    # Then
    assert statement(shop.alice, JAN).total == D("300.00")
    assert statement(shop.bob, JAN).total == D("120.00")
    credits = {c.rep.username: c for c in Credit.objects.filter(role="primary")}
    assert credits["alice"].amount == D("6000") and credits["bob"].amount == D("4000")
    # roll-up: boss is credited the whole line once (60 + 40 %)
    rollup = Credit.objects.get(role="rollup")
    assert (rollup.rep, rollup.share, rollup.amount) == (shop.boss, D("100"), D("10000"))


def test_primary_shares_not_summing_to_100_are_rejected(shop):
    shop.shares["bob"].share = D(30)
    shop.shares["bob"].save()
    shop.assign(shop.alice, shop.plan("FIVE", "5"))
    shop.sale(dt.date(2025, 1, 10), "10000")
    with pytest.raises(ApplicationError) as exc:
        services.comp_period_close(period_start=JAN)
    assert exc.value.code == "credit_shares_invalid"
    assert "90 %" in exc.value.message
    assert not Statement.objects.exists()


def test_cancelled_lines_earn_nothing_and_a_return_in_the_period_is_a_clawback(shop):
    shop.assign(shop.alice, shop.plan("FIVE", "5"))
    shop.sale(dt.date(2025, 1, 5), "1000")
    shop.sale(dt.date(2025, 1, 6), "5000", status="cancelled")
    shop.sale(dt.date(2025, 1, 20), "-500", status="returned", qty="-1")
    services.comp_period_close(period_start=JAN)
    st = statement(shop.alice, JAN)
    amounts = {line.component: line.amount for line in st.lines.all()}
    # 60 % of 1,000 at 5 % = 30; the return of 500 → −60 % × 500 × 5 % = −15
    assert amounts == {"commission": D("30.00"), "clawback": D("-15.00")}
    assert st.total == D("15.00")


def test_a_return_after_close_is_a_negative_adjustment_next_period_and_the_closed_statement_is_unchanged(shop):
    shop.assign(shop.alice, shop.plan("FIVE", "5"))
    shop.sale(dt.date(2025, 1, 10), "10000", external_id="SO-JAN")
    services.comp_period_close(period_start=JAN)
    closed = statement(shop.alice, JAN)
    rendered_before = closed.rendered.encode()
    assert closed.total == D("300.00")
    # A return of 2,000 dated in January arrives after January closed.
    shop.sale(dt.date(2025, 1, 28), "-2000", status="returned", qty="-1", external_id="RMA-LATE")
    services.comp_period_close(period_start=FEB)
    # The closed statement is untouched, byte for byte.
    again = statement(shop.alice, JAN)
    assert again.rendered.encode() == rendered_before
    assert (again.total, again.status) == (D("300.00"), "closed")
    # February carries the correction: −60 % × 2,000 × 5 % = −60, naming what it corrects.
    feb = statement(shop.alice, FEB)
    (line,) = feb.lines.filter(component="adjustment")
    assert line.amount == D("-60.00")
    assert line.corrects == "alice@2025-01-01" and line.corrects_component == "clawback"
    assert line.source_ids == ["RMA-LATE"]
    assert feb.total == D("-60.00")
    # Closing March corrects nothing twice.
    services.comp_period_close(period_start=MAR)
    assert not statement(shop.alice, MAR).lines.filter(component="adjustment").exists()


def test_a_rate_change_after_close_is_adjusted_in_the_next_open_period(shop):
    plan = shop.plan("FIVE", "5")
    shop.assign(shop.alice, plan)
    shop.sale(dt.date(2025, 1, 10), "10000")
    services.comp_period_close(period_start=JAN)
    plan.tiers = [{"from": "0", "to": "", "rate": "6"}]
    plan.version += 1
    plan.save()
    services.comp_period_compute(period_start=FEB)
    (line,) = statement(shop.alice, FEB).lines.filter(component="adjustment")
    assert line.amount == D("60.00")  # 6,000 × (6 % − 5 %)
    assert statement(shop.alice, JAN).total == D("300.00")


def test_closing_is_idempotent_in_order_and_locked(shop):
    shop.assign(shop.alice, shop.plan("FIVE", "5"))
    shop.sale(dt.date(2025, 1, 10), "1000")
    services.comp_period_compute(period_start=JAN)
    assert statement(shop.alice, JAN).status == "draft"
    services.comp_period_compute(period_start=FEB)
    with pytest.raises(ApplicationError) as exc:
        services.comp_period_close(period_start=FEB)
    assert exc.value.code == "earlier_period_open"
    services.comp_period_close(period_start=JAN)
    first = statement(shop.alice, JAN)
    assert services.comp_period_close(period_start=JAN).is_closed
    assert statement(shop.alice, JAN).rendered == first.rendered
    with pytest.raises(ApplicationError) as exc:
        services.comp_period_compute(period_start=JAN)
    assert exc.value.code == "period_closed"
    # The stored snapshot reads back as the statement it was.
    snapshot = selectors.statement_snapshot(first)
    assert snapshot.total_payable == first.total and snapshot.rep == "alice"


def test_recoverable_draw_balance_is_carried_between_periods(shop):
    # Recoverable draw up to 1,000, recovery capped at 50 % of the period's commission:
    # earned 400, 1,500, 3,000 → paid 1,000, 1,000, 2,900; balance 600, 100, 0.
    plan = shop.plan(
        "DRAW", "100", basis="period", draw_kind="recoverable", draw_amount=D("1000"), draw_recovery_cap_pct=D("50")
    )
    shop.assign(shop.carol, plan)
    for day, amount in ((dt.date(2025, 1, 9), "400"), (dt.date(2025, 2, 9), "1500"), (dt.date(2025, 3, 9), "3000")):
        shop.sale(day, amount, territory=shop.t2)
    for start in (JAN, FEB, MAR):
        services.comp_period_close(period_start=start)
    paid = [statement(shop.carol, s).total for s in (JAN, FEB, MAR)]
    balance = [statement(shop.carol, s).draw_balance_carried for s in (JAN, FEB, MAR)]
    assert paid == [D("1000.00"), D("1000.00"), D("2900.00")]
    assert balance == [D("600.00"), D("100.00"), D("0.00")]


def test_ytd_true_up_pays_earned_minus_paid(shop):
    # Tiers on attainment of a 1,000 quota: below 100 % at 1 %, from 100 % at 10 % (whole).
    plan = shop.plan(
        "YTD",
        basis="period",
        tier_on="attainment",
        tiers=[{"from": "0", "to": "100", "rate": "1"}, {"from": "100", "to": "", "rate": "10"}],
        ytd_true_up=True,
    )
    shop.assign(shop.carol, plan, quota=D("1000"))
    shop.sale(dt.date(2025, 1, 9), "500", territory=shop.t2)
    shop.sale(dt.date(2025, 2, 9), "1500", territory=shop.t2)
    services.comp_period_close(period_start=JAN)
    services.comp_period_close(period_start=FEB)
    jan, feb = statement(shop.carol, JAN), statement(shop.carol, FEB)
    assert jan.total == D("5.00")  # 500 at 1 %; YTD the same
    lines = {line.component: line.amount for line in feb.lines.all()}
    # February alone: 1,500 at 10 % = 150. YTD: 2,000 of a 2,000 quota → 10 % = 200;
    # paid 5 + 150 → true-up 45.
    assert lines == {"commission": D("150.00"), "true_up": D("45.00")}


def test_spiff_budget_is_shared_and_recorded_at_close(shop):
    shop.assign(shop.alice, shop.plan("FIVE", "5"))
    Spiff.objects.create(
        code="PUSH",
        start=JAN,
        end=dt.date(2025, 3, 31),
        kind="per_unit",
        amount=D("10"),
        skus=["SKU-1"],
        budget=D("15"),
    )
    shop.sale(dt.date(2025, 1, 10), "100", qty="2")
    services.comp_period_close(period_start=JAN)
    # 60 % × 2 units × 10 = 12
    assert statement(shop.alice, JAN).lines.get(component="spiff").amount == D("12.00")
    assert Spiff.objects.get(code="PUSH").budget_used == D("12.00")
    assert CompPeriod.objects.get(period_start=JAN).spiff_budget_after == {"PUSH": "12.00"}
    shop.sale(dt.date(2025, 2, 10), "100", qty="2")
    services.comp_period_close(period_start=FEB)
    assert statement(shop.alice, FEB).lines.get(component="spiff").amount == D("3.00")  # budget left


def test_dispute_lifecycle_with_audit_trail(shop):
    shop.assign(shop.alice, shop.plan("FIVE", "5"))
    shop.sale(dt.date(2025, 1, 10), "1000")
    services.comp_period_close(period_start=JAN)
    line = statement(shop.alice, JAN).lines.get()
    with pytest.raises(ApplicationError):  # bob may not dispute alice's line (he cannot see it)
        services.dispute_raise(user=shop.bob, line_id=line.pk, reason="mine")
    dispute = services.dispute_raise(user=shop.alice, line_id=line.pk, reason="I expected 5 % of all of it")
    assert dispute.status == "open"
    with pytest.raises(ApplicationError) as exc:
        services.dispute_close(user=shop.alice, dispute_id=dispute.pk)
    assert exc.value.code == "invalid_transition"
    with pytest.raises(ApplicationError) as exc:
        services.dispute_answer(user=shop.alice, dispute_id=dispute.pk, answer="self-service")
    assert exc.value.status_code == 403
    with pytest.raises(ApplicationError) as exc:  # another region's manager cannot see it
        services.dispute_answer(user=shop.other_boss, dispute_id=dispute.pk, answer="no")
    assert exc.value.status_code == 404
    services.dispute_answer(user=shop.boss, dispute_id=dispute.pk, answer="You hold 60 % of the territory.")
    closed = services.dispute_close(user=shop.alice, dispute_id=dispute.pk)
    assert closed.status == Dispute.Status.CLOSED
    actions = list(
        AuditEvent.objects.filter(object_id=str(dispute.pk), action__startswith="compensation.dispute")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["compensation.dispute_raised", "compensation.dispute_answered", "compensation.dispute_closed"]
    # Amounts never enter the audit trail.
    for event in AuditEvent.objects.filter(action__startswith="compensation."):
        assert "50.00" not in json.dumps([event.before, event.after])


def test_what_if_totals_and_per_rep_cost_without_touching_statements(shop):
    plan = shop.plan("FIVE", "5")
    shop.assign(shop.alice, plan)
    shop.assign(shop.bob, plan)
    shop.sale(dt.date(2025, 1, 10), "10000")
    shop.sale(dt.date(2025, 2, 10), "5000")
    result = services.plan_cost_what_if(
        user=shop.admin,
        plan_code="FIVE",
        changes={"tiers": [{"from": "0", "to": "", "rate": "6"}]},
        start=JAN,
        end=dt.date(2025, 2, 28),
    )
    # 15,000 at 5 % = 750 → at 6 % = 900; alice 60 %, bob 40 %.
    assert (result["total_current"], result["total_changed"], result["delta"]) == ("750.00", "900.00", "150.00")
    assert {r["rep_username"]: r["delta"] for r in result["reps"]} == {"alice": "90.00", "bob": "60.00"}
    assert not Statement.objects.exists() and not Credit.objects.exists()
    # Another region's manager has no rep on the plan: it is not theirs to see.
    with pytest.raises(ApplicationError):
        services.plan_cost_what_if(
            user=shop.other_boss, plan_code="FIVE", changes={}, start=JAN, end=dt.date(2025, 2, 28)
        )


def test_spiff_from_product_and_from_an_aged_stock_alert(shop):
    spiff = services.spiff_create_for_product(sku="SKU-1", quantity=D("40"), actor=shop.ops, start=JAN)
    # 5 % of the 100 unit price per unit, budget for 40 units, never below cost.
    assert (spiff.amount, spiff.budget, spiff.skus, spiff.margin_floor_pct) == (
        D("5.00"),
        D("200.00"),
        ["SKU-1"],
        D("0"),
    )
    assert spiff.end == JAN + dt.timedelta(days=59)
    from sop.models import CapacityAlert

    alert = CapacityAlert.objects.create(
        fingerprint="aged_stock:SKU-1",
        type="aged_stock",
        severity="info",
        product=shop.product,
        amount=D("12"),
        unit="units",
        message="12 aged units",
    )
    from_alert = services.spiff_create_from_alert(alert_id=alert.pk, actor=shop.ops)
    assert from_alert.source_alert_id == alert.pk and from_alert.budget == D("60.00")


def test_a_rep_leaving_settles_a_recoverable_draw_balance_as_due(shop):
    plan = shop.plan(
        "DRAW", "100", basis="period", draw_kind="recoverable", draw_amount=D("1000"), draw_on_termination="due"
    )
    assignment = shop.assign(shop.carol, plan)
    assignment.valid_to = dt.date(2025, 2, 28)
    assignment.save()
    shop.sale(dt.date(2025, 1, 9), "400", territory=shop.t2)
    shop.sale(dt.date(2025, 2, 9), "700", territory=shop.t2)
    services.comp_period_close(period_start=JAN)
    services.comp_period_close(period_start=FEB)
    # January: earned 400, topped up to 1,000 (balance 600). February, her last month: earned
    # 700, topped up to 1,000 (balance 900), then the 900 is due → pays 100.
    feb = statement(shop.carol, FEB)
    assert statement(shop.carol, JAN).draw_balance_carried == D("600.00")
    assert (feb.total, feb.draw_balance_carried) == (D("100.00"), D("0.00"))
    services.comp_period_close(period_start=MAR)
    assert not Statement.objects.filter(rep=shop.carol, period_start=MAR).exists()
