"""A demand plan with rows of no territory: a company that sells without territories (every
sale credited to none, one forecast series per product), and one whose territories leave
some sales uncredited. Those rows are product × no territory; at territory and region level
they form one group keyed ``territory_code``/``region_code`` null, editable like any other."""

import pytest
from rest_framework.test import APIClient

from core.errors import ApplicationError
from sop import cycle_selectors, cycle_services
from sop.models import DemandPlanEdit, DemandPlanLine
from territories.models import Territory
from tests.sop.cycle_world import APR, MAR, MONTH, cycle_world, no_territory_world

CYCLE = f"/api/v1/plan-cycles/{MONTH.isoformat()}/"


def session(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def rows(user, level, **params):
    response = session(user).get(f"{CYCLE}demand-plan/", {"level": level, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def post_edit(user, **body):
    return session(user).post(
        f"{CYCLE}demand-plan/edits", {"reason": "meeting", "measure": "consensus", **body}, format="json"
    )


def grain(cycle, measure="consensus", period=MAR) -> dict:
    return {
        (sku, code): value
        for sku, code, value in DemandPlanLine.objects.filter(cycle=cycle, period_start=period).values_list(
            "product__sku", "territory__code", measure
        )
    }


@pytest.fixture
def alone(db):
    return no_territory_world()


def test_a_company_without_territories_opens_a_cycle_and_plans_product_by_no_territory(alone):
    planner = alone["users"]["planner"]
    assert not Territory.objects.exists()
    cycle = cycle_services.cycle_create(month=MONTH, user=planner)
    # Given one series per product (territory empty) over three months:
    assert cycle.lines_count == 3 * 3 and cycle.warnings == []
    assert set(DemandPlanLine.objects.filter(cycle=cycle).values_list("territory_id", "region_id")) == {(None, None)}
    assert grain(cycle, "statistical") == {("P1", None): 60, ("P2", None): 30, ("V1", None): 0}
    # Seasonal naive from the sales of no territory: March ← March 2026, April ← April 2026.
    assert grain(cycle, "naive") == {("P1", None): 45, ("P2", None): 0, ("V1", None): 0}
    assert grain(cycle, "naive", APR) == {("P1", None): 0, ("P2", None): 12, ("V1", None): 0}
    assert grain(cycle, "target") == {("P1", None): None, ("P2", None): None, ("V1", None): None}

    # Every level reads them; territory and region group them under a null key.
    march = {"period_start": MAR.isoformat()}
    assert [
        (r["territory_code"], r["region_code"], r["consensus"], r["etag"]) for r in rows(planner, "territory", **march)
    ] == [(None, None, 90, "0-3")]
    assert [(r["region_code"], r["consensus"]) for r in rows(planner, "region", **march)] == [(None, 90)]
    assert [(r["family_code"], r["consensus"]) for r in rows(planner, "family", **march)] == [("PMP", 90), ("VLV", 0)]
    assert [(r["product_sku"], r["consensus"]) for r in rows(planner, "product", **march)] == [
        ("P1", 60),
        ("P2", 30),
        ("V1", 0),
    ]
    assert [r["consensus"] for r in rows(planner, "total", **march)] == [90]

    # When the planner sets the no-territory row of March to 120 (territory_code null):
    response = post_edit(
        planner, level="territory", territory_code=None, period_start=MAR.isoformat(), value=120, etag="0-3"
    )
    # Then it spreads by the current consensus: 120 × 60/90 = 80, × 30/90 = 40; V1 stays 0.
    assert response.status_code == 200, response.content
    assert (response.json()["territory_code"], response.json()["consensus"], response.json()["etag"]) == (
        None,
        120,
        "1-3",
    )
    assert grain(cycle) == {("P1", None): 80, ("P2", None): 40, ("V1", None): 0}
    audit = DemandPlanEdit.objects.get(cycle=cycle)
    assert (audit.level, audit.keys, audit.before, audit.after) == ("territory", {"territory_code": None}, 90, 120)

    # The region level addresses the same rows with region_code null: April to 7 units →
    # 7 × 60/90 = 4.67, × 30/90 = 2.33: floors 4 + 2, the spare unit to P1 (remainder .67).
    april = rows(planner, "region", period_start=APR.isoformat())[0]
    response = post_edit(
        planner, level="region", region_code=None, period_start=APR.isoformat(), value=7, etag=april["etag"]
    )
    assert response.status_code == 200, response.content
    assert grain(cycle, period=APR) == {("P1", None): 5, ("P2", None): 2, ("V1", None): 0}

    # A stale etag gets 412 and changes nothing; leaving the key out is a 400 that says how.
    stale = post_edit(
        planner, level="territory", territory_code=None, period_start=MAR.isoformat(), value=1, etag="0-3"
    )
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "precondition_failed"
    assert grain(cycle) == {("P1", None): 80, ("P2", None): 40, ("V1", None): 0}
    missing = post_edit(planner, level="territory", period_start=MAR.isoformat(), value=1, etag="1-3")
    assert missing.status_code == 400
    assert "null: the rows of no territory" in missing.json()["error"]["details"]["territory_code"]

    # A sales manager (with no territories to manage) sees none of it and cannot edit it.
    manager = alone["users"]["mgr"]
    assert rows(manager, "territory") == []
    denied = post_edit(
        manager,
        level="territory",
        territory_code=None,
        period_start=MAR.isoformat(),
        measure="sales_override",
        value=5,
        etag="1-3",
    )
    assert denied.status_code == 403

    # The demand review shows the family rows and the history of those sales.
    chart = cycle_selectors.demand_chart(cycle=cycle, user=planner)
    history = dict(zip(chart["labels"], chart["history"], strict=True))
    assert (history["2026-03"], history["2026-04"], history["2027-01"]) == (45, 12, 50)
    client = APIClient()
    client.force_login(planner)
    page = client.get(f"/supply/cycle/{MONTH.isoformat()}/demand/").content.decode()
    assert 'data-family_code="PMP" data-period="2027-03-01" data-measure="consensus" data-etag="1-2"' in page
    assert "no territory" in page  # the edit log names the rows edited


def test_the_next_cycle_carries_the_published_consensus_of_no_territory(alone):
    planner = alone["users"]["planner"]
    cycle = cycle_services.cycle_create(month=MONTH, user=planner)
    cycle_services.demand_plan_edit(
        cycle=cycle,
        user=planner,
        level="territory",
        keys={"territory_code": None},
        period_start=APR,
        measure="consensus",
        value=300,
        reason="tender",
        etag="0-3",
    )
    type(cycle).objects.filter(pk=cycle.pk).update(status="published", stage="published")
    following = cycle_services.cycle_create(month=APR, user=planner)
    assert following.previous_cycle_id == cycle.pk
    # April carried over (P1 200, P2 100: 300 spread 60:30); May, new, starts from the forecast.
    assert grain(following, period=APR) == {("P1", None): 200, ("P2", None): 100, ("V1", None): 0}


@pytest.fixture
def mixed(db):
    """The hand-countable world, plus P1 sold outside every territory (forecast 20 a month)."""
    from forecasting.models import Forecast
    from tests.sop.cycle_world import FORECAST_MONTHS

    world = cycle_world()
    p1 = world["products"]["P1"]
    Forecast.objects.bulk_create(
        [
            Forecast(
                run=world["forecast_run"],
                level="product_territory",
                series_key=f"{p1.pk}:-",
                product=p1,
                territory=None,
                period_start=m,
                point=20,
                lo80=0,
                hi80=0,
                lo95=0,
                hi95=0,
            )
            for m in FORECAST_MONTHS
        ]
    )
    cycle_services.cycle_create(month=MONTH, user=world["users"]["planner"])
    return world


def test_rows_of_no_territory_sit_beside_the_territories_and_stay_out_of_managers_reach(mixed):
    planner, manager = mixed["users"]["planner"], mixed["users"]["mgr_east"]
    march = {"period_start": MAR.isoformat()}
    # The territory and region levels list the null group last; the family and total include it.
    assert [(r["territory_code"], r["region_code"], r["consensus"]) for r in rows(planner, "territory", **march)] == [
        ("EAST-1", "EAST", 100),
        ("EAST-2", "EAST", 50),
        ("WEST-1", "WEST", 70),
        (None, None, 20),
    ]
    assert [(r["region_code"], r["consensus"]) for r in rows(planner, "region", **march)] == [
        ("EAST", 150),
        ("WEST", 70),
        (None, 20),
    ]
    assert [(r["family_code"], r["consensus"]) for r in rows(planner, "family", **march)] == [("PMP", 200), ("VLV", 40)]
    # A territory-level edit of PMP's no-territory row touches that row only.
    row = rows(planner, "territory", family_code="PMP", **march)[-1]
    assert row["territory_code"] is None
    response = post_edit(
        planner,
        level="territory",
        family_code="PMP",
        territory_code=None,
        period_start=MAR.isoformat(),
        value=35,
        etag=row["etag"],
    )
    assert response.status_code == 200, response.content
    cycle = cycle_selectors.cycle_for(user=planner, month=MONTH)
    assert grain(cycle) == {
        ("P1", "EAST-1"): 100,
        ("P1", "EAST-2"): 50,
        ("P2", "EAST-1"): 0,
        ("P2", "WEST-1"): 30,
        ("P3", "EAST-2"): 0,
        ("P3", "WEST-1"): 0,
        ("V1", "WEST-1"): 40,
        ("P1", None): 35,
    }
    # A family edit spreads over the territories and the no-territory row alike:
    # 430 over 100 : 50 : 30 : 35 (= 215) → 200, 100, 60, 70.
    family = rows(planner, "family", family_code="PMP", **march)[0]
    post_edit(planner, level="family", family_code="PMP", period_start=MAR.isoformat(), value=430, etag=family["etag"])
    assert grain(cycle)[("P1", None)] == 70 and grain(cycle)[("P1", "EAST-1")] == 200
    # The east manager's family row leaves it out, and they cannot edit it.
    assert [(r["family_code"], r["consensus"]) for r in rows(manager, "family", **march)] == [("PMP", 300)]
    assert all(r["territory_code"] is not None for r in rows(manager, "territory"))
    denied = post_edit(
        manager,
        level="territory",
        territory_code=None,
        period_start=MAR.isoformat(),
        measure="sales_override",
        value=5,
        etag="0-1",
    )
    assert denied.status_code == 403
    with pytest.raises(ApplicationError) as exc:
        cycle_services.demand_plan_edit(
            cycle=cycle,
            user=manager,
            level="region",
            keys={"region_code": None},
            period_start=MAR,
            measure="sales_override",
            value=5,
            reason="x",
            etag="0-1",
        )
    assert exc.value.status_code == 403
