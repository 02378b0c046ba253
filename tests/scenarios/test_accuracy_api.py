"""Forecast value added from published cycles and the actuals stored since: API and page."""

import csv
import datetime as dt
import io

import pytest
from django.test import Client
from openpyxl import load_workbook
from rest_framework.test import APIClient

from sop import cycle_services
from sop.models import DemandPlanActual, PlanCycle
from tests.sop.cycle_world import MONTH, cycle_world

URL = "/api/v1/forecast-accuracy/"


@pytest.fixture
def world(db):
    world = cycle_world()
    users = world["users"]
    cycle = cycle_services.cycle_create(month=MONTH, user=users["planner"])
    for user in (users["planner"], users["planner"], users["ops"], users["exec"]):
        cycle = cycle_services.cycle_advance(cycle=cycle, user=user, comment="")
    assert cycle.is_published
    # The next cycle stored March's sales: 90 units of pumps in EAST-1, nothing else.
    later = PlanCycle.objects.create(month=dt.date(2027, 4, 1), horizon_periods=3, history_through=dt.date(2027, 3, 1))
    east1 = world["territories"]["EAST-1"]
    DemandPlanActual.objects.create(
        cycle=later,
        family=world["families"]["PMP"],
        territory=east1,
        region=world["territories"]["EAST"],
        period_start=MONTH,
        units=90,
    )
    world["cycle"] = cycle
    return world


def session(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_total_at_lag_1(world):
    response = session(world["users"]["planner"]).get(URL, {"lag": 1, "level": "total", "months": 12})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["actuals_through"] == "2027-03-01"
    [row] = body["results"]
    # March as published: statistical 100 + 50 + 30 + 40 = 220, seasonal naive 0; sold 90
    assert row["months"] == 1 and row["actual_units"] == 90
    assert row["statistical_wape"] == 144.44 and row["naive_wape"] == 100.0
    assert row["fva_statistical"] == -44.44
    assert row["statistical_bias"] == 144.44
    assert {
        "naive_wape",
        "statistical_wape",
        "sales_override_wape",
        "consensus_wape",
        "naive_bias",
        "statistical_bias",
        "sales_override_bias",
        "consensus_bias",
        "fva_statistical",
        "fva_sales_override",
        "fva_consensus",
        "months",
    } <= set(row)
    at_lag_2 = session(world["users"]["planner"]).get(URL, {"lag": 2}).json()
    assert at_lag_2["results"] == []  # April's actuals are not in yet


def test_by_family_and_region_and_a_managers_scope(world):
    families = {
        r["family_code"]: r for r in session(world["users"]["exec"]).get(URL, {"level": "family"}).json()["results"]
    }
    assert families["PMP"]["actual_units"] == 90 and families["PMP"]["statistical_wape"] == 100.0  # 180 vs 90
    assert families["VLV"]["statistical_wape"] is None  # 40 forecast, nothing sold
    managers = {
        r["sales_manager"]: r
        for r in session(world["users"]["planner"]).get(URL, {"level": "sales_manager"}).json()["results"]
    }
    assert managers["mgr_east"]["statistical_wape"] == 66.67  # 150 forecast in the east, 90 sold
    assert managers["mgr_west"]["statistical_wape"] is None and managers["mgr_west"]["months"] == 1
    west = session(world["users"]["mgr_west"]).get(URL, {"level": "region"}).json()["results"]
    assert [r["region_code"] for r in west] == ["WEST"] and west[0]["actual_units"] == 0


def test_by_demand_planner_of_each_family(world):
    """Pumps are the planner's, valves planner2's; a family nobody plans is the row of no planner."""
    from inventory.models import ProductFamily

    users = world["users"]
    ProductFamily.objects.filter(code="PMP").update(planner=users["planner"])
    ProductFamily.objects.filter(code="VLV").update(planner=users["planner2"])
    response = session(users["exec"]).get(URL, {"level": "planner"})
    assert response.status_code == 200, response.content
    planners = {r["planner"]: r for r in response.json()["results"]}
    # March as published: pumps 100 + 50 + 30 = 180 statistical against 90 sold → WAPE 100 %;
    # valves 40 forecast, nothing sold → no WAPE, measured over the month all the same.
    assert planners["planner"]["actual_units"] == 90 and planners["planner"]["statistical_wape"] == 100.0
    assert planners["planner2"]["statistical_wape"] is None and planners["planner2"]["months"] == 1
    ProductFamily.objects.filter(code="VLV").update(planner=None)
    again = session(users["exec"]).get(URL, {"level": "planner"}).json()["results"]
    assert [r["planner"] for r in again] == ["planner", None]
    family = session(users["exec"]).get("/api/v1/product-families/PMP/").json()
    assert family["planner_username"] == "planner"
    # The page names the planner and the row of families nobody plans; the export keeps usernames.
    client = Client()
    client.force_login(users["exec"])
    page = client.get("/scenarios/accuracy/?level=planner", HTTP_ACCEPT_LANGUAGE="de")
    labels = {row["key"]: row["label"] for row in page.context["rows"]}
    assert labels["planner"] == (users["planner"].get_full_name() or "planner")
    assert "kein Disponent" in page.content.decode()
    text = client.get("/scenarios/accuracy/?level=planner&export=csv").content.decode("utf-8-sig")
    assert {r[0] for r in csv.reader(io.StringIO(text), delimiter=",")} >= {"planner", "no demand planner"}


def test_denials_bad_parameters_and_the_page(world, erp):
    assert session(world["users"]["rep"]).get(URL).status_code == 403
    assert erp(scopes=["plans:read"]).get(URL).status_code == 403
    assert erp(scopes=["cycles:read"], name="reader").get(URL).status_code == 200
    bad = session(world["users"]["planner"]).get(URL, {"lag": 0, "level": "planet"})
    assert bad.status_code == 400 and {"lag", "level"} <= set(bad.json()["error"]["details"])
    client = Client()
    client.force_login(world["users"]["planner"])
    page = client.get("/scenarios/accuracy/?level=family")
    assert page.status_code == 200 and b"accuracy-data" in page.content and b"PMP" in page.content
    # the page's table as the viewer's CSV dialect (German: ";" and a decimal comma) and XLSX
    client.post("/language/", {"language": "de", "next": "/"})
    text = client.get("/scenarios/accuracy/?level=family&export=csv").content.decode("utf-8-sig")
    rows = {r[0]: r for r in csv.reader(io.StringIO(text), delimiter=";")}
    assert rows["PMP"][4] == "100,0" and len(rows) == 1 + len(page.context["rows"])
    book = load_workbook(io.BytesIO(client.get("/scenarios/accuracy/?level=family&export=xlsx").content))
    assert [r[0] for r in book.active.iter_rows(min_row=2, values_only=True)] == [
        r["key"] for r in page.context["rows"]
    ]
    rep = Client()
    rep.force_login(world["users"]["rep"])
    assert rep.get("/scenarios/accuracy/").status_code == 403
    assert rep.get("/scenarios/accuracy/?export=xlsx").status_code == 403


def test_the_executive_review_shows_the_figures(world):
    client = Client()
    client.force_login(world["users"]["exec"])
    page = client.get("/supply/cycle/2027-03-01/executive/").content.decode()
    assert "Forecast value added (lag 1, WAPE %)" in page and "144.44" in page and "-44.44" in page
