"""The pipeline in the S&OP cycle's demand review (and the API), beside the statistical forecast
and the sales input, with the share it explains; scoped like the demand plan."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from crm.models import FeedbackNote, Opportunity
from sop import cycle_services
from tests.sop.cycle_world import APR, MAR, MONTH, cycle_world

pytestmark = pytest.mark.django_db
M = MONTH.isoformat()


@pytest.fixture
def world(db):
    world = cycle_world()
    cycle_services.cycle_create(month=MONTH, user=world["users"]["planner"])
    from inventory.models import Product
    from territories.models import Account, Territory

    account = Account.objects.create(external_id="ACME", name="Acme Water")
    east1 = Territory.objects.get(code="EAST-1")
    p1 = Product.objects.get(sku="P1")
    rep = world["users"]["rep"]
    for external_id, qty, probability, status, month in (
        ("D1", 100, 40, "open", MAR),
        ("D2", 30, 50, "open", APR),
        ("LOST", 500, 90, "lost", MAR),
    ):
        Opportunity.objects.create(
            external_id=external_id,
            account=account,
            product=p1,
            quantity=Decimal(qty),
            amount=Decimal(qty * 10),
            expected_close_date=MAR,
            requested_delivery_date=month,
            stage="proposal",
            probability=Decimal(probability),
            owner=rep,
            territory=east1,
            status=status,
        )
    FeedbackNote.objects.create(
        external_id="N1",
        account=account,
        product=p1,
        category="demand_signal",
        sentiment="positive",
        text="Second plant next year.",
        author=rep,
        noted_on=MAR,
    )
    return world


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pipeline_demand_api_beside_the_cycle_forecast(world):
    rows = signed_in(world["users"]["planner"]).get("/api/v1/pipeline-demand/?level=product").json()["rows"]
    by_month = {r["period_start"]: r for r in rows}
    march = by_month[MAR.isoformat()]
    # (P1, EAST-1, March): 100 units at 40 % = 40 of a statistical forecast of 100
    assert (march["product_sku"], march["territory_code"]) == ("P1", "EAST-1")
    assert march["pipeline_units"] == 100 and march["weighted_units"] == pytest.approx(40)
    assert march["statistical"] == pytest.approx(100) and march["share_explained"] == pytest.approx(0.4)
    assert by_month[APR.isoformat()]["weighted_units"] == pytest.approx(15)
    family = (
        signed_in(world["users"]["planner"])
        .get(f"/api/v1/pipeline-demand/?level=family&period_start={MAR}")
        .json()["rows"]
    )
    assert [(r["family_code"], r["territory_code"], r["share_explained"]) for r in family] == [("PMP", "EAST-1", 0.4)]
    # the west manager sees neither the east deals nor the east forecast
    assert signed_in(world["users"]["mgr_west"]).get("/api/v1/pipeline-demand/").json()["rows"] == []
    assert len(signed_in(world["users"]["mgr_east"]).get("/api/v1/pipeline-demand/").json()["rows"]) == 2


def test_the_demand_review_shows_the_pipeline_feedback_and_signals(world):
    body = signed_in(world["users"]["planner"]).get(f"/supply/cycle/{M}/demand/").content.decode()
    assert "Pipeline from the CRM" in body
    assert "40\u00a0%" in body  # PMP × EAST-1 in March: share explained (a non-breaking space)
    assert "Second plant next year." in body
    assert "Demand signals by family" in body
    product_page = signed_in(world["users"]["planner"]).get("/supply/products/P1/").content.decode()
    assert "D1" in product_page and "Second plant next year." in product_page


def test_the_demand_review_query_count_stays_flat_with_more_deals(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core import memo

    client = signed_in(world["users"]["planner"])
    client.get(f"/supply/cycle/{M}/demand/")

    def count() -> int:
        memo.clear()  # the figures are built on each count (none kept from the view before)
        with CaptureQueriesContext(connection) as captured:
            client.get(f"/supply/cycle/{M}/demand/")
        return len(captured)

    before = count()
    template = Opportunity.objects.get(external_id="D1")
    for i in range(20):
        template.pk, template.external_id = None, f"MORE-{i}"
        template.save()
    assert count() == before
