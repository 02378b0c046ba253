"""The supply API through the HTTP client: alerts (fields, filters, actions, scoping), plan
runs (202, then poll), capacity load, supply plan and inventory positions with CSV export."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from sop.models import CapacityAlert, PlanRun
from tests.sop.factories import (
    HORIZON,
    make_alerts,
    manager_with_territory,
    run_plan,
    supply_world,
    user_with_roles,
)

CONTRACT_FIELDS = {
    "id",
    "type",
    "severity",
    "status",
    "work_center_code",
    "product_sku",
    "family_code",
    "territory_code",
    "period_start",
    "amount",
    "unit",
    "message",
    "created_at",
    "updated_at",
    "run_id",
}


def session(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def planned(db):
    world = supply_world(demand={1: 150.0})
    world["run"] = run_plan()
    return world


def test_alert_items_carry_the_contract_fields_and_filter_on_them(planned, erp):
    api = erp(scopes=["alerts:read"])
    body = api.get("/api/v1/alerts/").json()
    assert body["results"] and CONTRACT_FIELDS <= set(body["results"][0])
    overload = api.get("/api/v1/alerts/", {"type": "capacity_overload"}).json()["results"]
    assert len(overload) == 1
    item = overload[0]
    assert (item["work_center_code"], item["period_start"], item["unit"]) == ("WC0", HORIZON[1].isoformat(), "hours")
    assert float(item["amount"]) == pytest.approx(50) and item["run_id"] == planned["run"].pk
    for key in ("severity", "status", "work_center_code", "period_start", "unit", "run_id", "id"):
        filtered = api.get("/api/v1/alerts/", {"type": "capacity_overload", key: item[key]}).json()["results"]
        assert [a["id"] for a in filtered] == [item["id"]], key
    assert api.get("/api/v1/alerts/", {"work_center_code": "NOPE"}).json()["results"] == []
    assert api.get("/api/v1/alerts/", {"product_sku": "P0", "type": "stockout_risk"}).json()["results"]
    csv = api.get("/api/v1/alerts/?format=csv")
    assert csv.status_code == 200
    text = b"".join(csv.streaming_content).decode()
    assert text.splitlines()[0].startswith("id,type,severity,status,work_center_code")


def test_alerts_need_the_read_scope(planned, erp):
    assert erp(scopes=["master:write"]).get("/api/v1/alerts/").status_code == 403


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_token_with_alerts_write_acknowledges_and_resolves(planned, erp, action):
    alert = CapacityAlert.objects.get(type="capacity_overload")
    assert erp(scopes=["alerts:read"], name="ro").post(f"/api/v1/alerts/{alert.pk}/{action}").status_code == 403
    response = erp(scopes=["alerts:write"], name="rw").post(f"/api/v1/alerts/{alert.pk}/{action}")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == {"acknowledge": "acknowledged", "resolve": "resolved"}[action]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("ops_lead", True),
        ("planner", True),
        ("admin", True),
        ("executive", False),
        ("sales_manager", False),
        ("sales_rep", False),
    ],
)
def test_only_ops_leads_planners_and_admins_act_on_alerts_via_session(planned, role, allowed):
    alert = CapacityAlert.objects.get(type="capacity_overload")
    client = session(user_with_roles(f"u-{role}", role))
    ack = client.post(f"/api/v1/alerts/{alert.pk}/acknowledge")
    res = client.post(f"/api/v1/alerts/{alert.pk}/resolve", {"note": "extra shift"}, format="json")
    alert.refresh_from_db()
    if allowed:
        assert (ack.status_code, res.status_code) == (200, 200)
        assert alert.status == "resolved" and alert.resolution == "extra shift"
    else:
        assert (ack.status_code, res.status_code) == (403, 403)
        assert alert.status == "open"


def test_resolved_alert_cannot_be_acknowledged(planned):
    alert = CapacityAlert.objects.get(type="capacity_overload")
    client = session(user_with_roles("ops", "ops_lead"))
    client.post(f"/api/v1/alerts/{alert.pk}/resolve")
    response = client.post(f"/api/v1/alerts/{alert.pk}/acknowledge")
    assert response.status_code == 409 and response.json()["error"]["code"] == "invalid_transition"


def test_sales_managers_see_only_target_alerts_of_their_territories(db):
    from inventory.models import ProductFamily

    manager, own, other = manager_with_territory()
    family = ProductFamily.objects.create(code="PMP", name="Pumps")
    mine = make_alerts(2, territory=own, family=family, type_="target_not_buildable")
    make_alerts(2, territory=other, family=family, type_="target_not_buildable", start=10)
    make_alerts(2, territory=own, family=family, type_="capacity_overload", start=20)  # not a target alert
    client = session(manager)
    ids = {a["id"] for a in client.get("/api/v1/alerts/").json()["results"]}
    assert ids == {a.pk for a in mine}
    assert client.post(f"/api/v1/alerts/{mine[0].pk}/acknowledge").status_code == 403
    rep = session(user_with_roles("rep", "sales_rep"))
    assert rep.get("/api/v1/alerts/").status_code == 403


def test_post_plan_run_without_forecast_answers_202_then_polls_completed(db, erp):
    supply_world()
    api = erp(scopes=["plans:run", "plans:read"])
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.post("/api/v1/plan-runs/", {"forecast": False}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"id", "status", "url"} and body["status"] == "queued"
    assert body["url"].endswith(f"/api/v1/plan-runs/{body['id']}/")
    run = api.get(f"/api/v1/plan-runs/{body['id']}/").json()
    assert run["status"] == "completed" and run["percent"] == 100
    assert run["plan_lines_count"] == 18 and run["horizon_periods"] == 18
    assert run["trigger"] == "api" and run["started_at"] and run["finished_at"]


def test_post_plan_run_starts_a_forecast_that_hands_over_to_it(db, erp):
    from forecasting.models import ForecastRun

    api = erp(scopes=["plans:run"])
    response = api.post("/api/v1/plan-runs/", {"as_of": "2027-03-15"}, format="json")
    assert response.status_code == 202
    run = PlanRun.objects.get(pk=response.json()["id"])
    assert run.horizon_start.isoformat() == "2027-03-01"
    forecast = ForecastRun.objects.get(pk=run.forecast_run_id)
    assert forecast.parameters["follow_up"] == {"name": "sop.plan_run", "id": run.pk}


def test_plan_runs_need_the_run_scope_or_role(db, erp):
    assert erp(scopes=["plans:read"]).post("/api/v1/plan-runs/", {"forecast": False}, format="json").status_code == 403
    rep = session(user_with_roles("rep", "sales_manager"))
    assert rep.post("/api/v1/plan-runs/", {"forecast": False}, format="json").status_code == 403


def test_capacity_load_supply_plan_and_positions_with_csv(planned, erp):
    from decimal import Decimal

    from inventory.models import InventorySnapshot

    InventorySnapshot.objects.create(
        product=planned["products"][0],
        location=planned["location"],
        as_of=HORIZON[0],
        on_hand=Decimal("30"),
        allocated=Decimal("5"),
    )
    api = erp(scopes=["plans:read", "inventory:read"])  # positions are inventory data
    load = api.get("/api/v1/capacity-load/", {"period_start": HORIZON[1].isoformat()}).json()["results"]
    assert len(load) == 1 and load[0]["utilisation"] == pytest.approx(1.5)
    assert load[0]["work_center_code"] == "WC0" and load[0]["plant_code"] == "PL1"
    plan = api.get("/api/v1/supply-plan/", {"product_sku": "P0", "with_shortfall": "true"}).json()["results"]
    assert [p["period_start"] for p in plan] == [HORIZON[1].isoformat()]
    assert plan[0]["shortfall_qty"] == pytest.approx(50)
    positions = api.get("/api/v1/inventory-positions/").json()["results"]
    assert positions[0]["product_sku"] == "P0" and float(positions[0]["available"]) == 25
    for path in ("capacity-load", "supply-plan", "inventory-positions"):
        response = api.get(f"/api/v1/{path}/?format=csv")
        assert response.status_code == 200
        assert len(b"".join(response.streaming_content).decode().splitlines()) > 1, path
