"""``deal_at_risk`` through plan runs (raised, updated, resolved like every alert), and the
availability API on a small hand-worked plan."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from crm.models import Opportunity
from sop.models import CapacityAlert, CapacityCalendar, PlanRun
from tests.sop.factories import HORIZON, run_plan, supply_world, user_with_roles

pytestmark = pytest.mark.django_db


def deal(world, *, external_id="D1", quantity=250, probability=80, due=None):
    from territories.models import Account

    account, _ = Account.objects.get_or_create(external_id="ACME", defaults={"name": "Acme Water"})
    owner = (
        user_with_roles("rep-x", "sales_rep") if not Opportunity.objects.exists() else Opportunity.objects.first().owner
    )
    return Opportunity.objects.create(
        external_id=external_id,
        account=account,
        product=world["products"][0],
        quantity=Decimal(quantity),
        amount=Decimal(quantity * 10),
        expected_close_date=HORIZON[0],
        stage="commit",
        requested_delivery_date=due or HORIZON[1] + dt.timedelta(days=20),
        probability=Decimal(probability),
        owner=owner,
    )


def active():
    return CapacityAlert.objects.active().filter(type="deal_at_risk")


def test_deal_at_risk_is_raised_updated_and_resolved_by_plan_runs():
    # given 100 free hours a month on WC0 at 1 h/unit and no stock: 100 units by January, 200 by February
    world = supply_world(demand={})
    deal(world)  # 250 units by 20 February, 80 %
    deal(world, external_id="UNLIKELY", probability=30)  # as short, but below 50 %: no alert
    first = run_plan()
    assert first.status == PlanRun.Status.COMPLETED, first.error
    alert = active().get()
    assert alert.fingerprint == "deal_at_risk:D1"
    assert float(alert.amount) == pytest.approx(50) and alert.unit == "units"  # 250 − 200
    assert alert.work_center.code == "WC0" and alert.product.sku == "P0" and alert.period_start == HORIZON[1]
    assert alert.severity == "warning"  # all 250 by March
    assert "Work center 0" in alert.message and HORIZON[2].isoformat() in alert.message
    # a rerun updates the same alert
    second = run_plan()
    assert active().get().pk == alert.pk and active().get().run == second
    # more capacity in February: the deal can be delivered, the next run resolves the alert
    CapacityCalendar.objects.filter(period_start=HORIZON[1]).update(available_hours=200)
    third = run_plan()
    alert.refresh_from_db()
    assert alert.status == CapacityAlert.Status.RESOLVED and alert.resolved_by_run == third
    assert not active().exists()


def test_a_won_or_lost_deal_no_longer_raises_the_alert():
    world = supply_world(demand={})
    item = deal(world, quantity=5000)  # never in the horizon: critical
    run_plan()
    assert active().get().severity == "critical"
    Opportunity.objects.filter(pk=item.pk).update(status="lost")
    run_plan()
    assert not active().exists()


def test_availability_api_on_a_small_plan():
    world = supply_world(demand={1: 150.0})  # February wants 150 of the 100 it can make
    run_plan()
    user_with_roles("pl", "planner")
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="pl"))
    sku = world["products"][0].sku
    enough = client.get(f"/api/v1/availability/?product_sku={sku}&quantity=50&date={HORIZON[0]}").json()
    # January: no stock, but 100 free hours (no demand, no build-ahead): 50 by January, from the plan's date
    assert enough == {
        "product_sku": sku,
        "quantity": 50.0,
        "date": HORIZON[0].isoformat(),
        "available_by_date": 50.0,
        "earliest_full_date": "2027-01-10",
        "constrained_by": None,
    }
    full = client.get(f"/api/v1/availability/?product_sku={sku}&quantity=150&date={HORIZON[1]}").json()
    # February's capacity is all taken by its own demand: 100 (January) by February, 150 in March
    assert full["available_by_date"] == 100.0
    assert full["earliest_full_date"] == HORIZON[2].isoformat()
    assert full["constrained_by"] == {"kind": "work_center", "code": "WC0"}
