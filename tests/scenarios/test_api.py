"""The scenarios API contract (issue 15): paths, fields, status codes, scopes and denials."""

import csv
import io

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from scenarios import services
from scenarios.kpis import KPI_KEYS
from scenarios.models import Scenario
from sop import cycle_services
from tests.sop.cycle_world import MONTH, cycle_world

BASE = "/api/v1/scenarios/"
CUT = {
    "type": "capacity",
    "work_center_code": "WC1",
    "period_from": "2027-04-01",
    "period_to": "2027-05-01",
    "change_pct": -80,
}
LIFT = {"type": "demand", "family_code": "PMP", "period_from": "2027-03-01", "period_to": "2027-05-01", "factor": 1.15}


@pytest.fixture
def world(db):
    world = cycle_world()
    world["cycle"] = cycle_services.cycle_create(month=MONTH, user=world["users"]["planner"])
    return world


def session(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def create(user, changes, name="Casting line −20 %", cycle="2027-03-01"):
    return session(user).post(BASE, {"name": name, "cycle": cycle, "changes": changes}, format="json")


def finish(pk: int) -> None:
    Scenario.objects.filter(pk=pk).update(status=Scenario.Status.QUEUED)
    services.scenario_run_execute(scenario_id=pk)


def test_create_run_read_and_compare(world, monkeypatch):
    planner = world["users"]["planner"]
    created = create(planner, [CUT])
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["id"] and body["status"] == "draft" and body["cycle"] == "2027-03-01" and body["changes"] == [CUT]

    monkeypatch.setattr("core.runs.require_queue", lambda: None)
    started = session(planner).post(f"{BASE}{body['id']}/run", format="json")
    assert started.status_code == 202, started.content
    assert set(started.json()) == {"id", "status", "url"} and started.json()["status"] == "queued"
    assert started.json()["url"].endswith(f"/api/v1/scenarios/{body['id']}/")

    finish(body["id"])
    detail = session(world["users"]["exec"]).get(f"{BASE}{body['id']}/").json()
    assert detail["status"] == "completed" and list(detail["kpis"]) == list(KPI_KEYS)

    other = create(planner, [LIFT], name="Pumps +15 %").json()
    finish(other["id"])
    compared = session(world["users"]["mgr_east"]).get(f"{BASE}compare", {"ids": f"{body['id']},{other['id']}"})
    assert compared.status_code == 200, compared.content
    data = compared.json()
    assert set(data["base"]) == set(KPI_KEYS)
    assert [s["id"] for s in data["scenarios"]] == [body["id"], other["id"]]
    first = data["scenarios"][0]
    assert {"id", "name", "kpis", "delta"} <= set(first) and set(first["delta"]) == set(KPI_KEYS)
    assert first["delta"]["overload_hours"] == first["kpis"]["overload_hours"] - data["base"]["overload_hours"] == 20
    lifted = data["scenarios"][1]
    assert float(lifted["delta"]["revenue"]) > 0

    as_csv = session(planner).get(f"{BASE}compare", {"ids": f"{body['id']},{other['id']}", "format": "csv"})
    assert as_csv.status_code == 200 and as_csv["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(as_csv.streaming_content).decode())))
    assert rows[0][:3] == ["kpi", "base", f"Casting line −20 % (#{body['id']})"]
    assert [r[0] for r in rows[1:]] == list(KPI_KEYS)
    as_xlsx = session(planner).get(f"{BASE}compare", {"ids": str(body["id"]), "format": "xlsx", "family_code": "PMP"})
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    header, *values = list(sheet.values)
    assert header[:4] == ("family_code", "period_start", "measure", "base")
    assert {v[0] for v in values} == {"PMP"} and len(values) == 3 * 6  # 3 months × 6 measures


def test_bad_changes_answer_400_naming_index_and_field(world):
    response = create(
        world["users"]["planner"],
        [
            CUT,
            {
                "type": "capacity",
                "work_center_code": "NOPE",
                "period_from": "2027-04-01",
                "period_to": "2027-05-01",
                "change_hours": 10,
            },
            {
                "type": "demand",
                "product_sku": "P1",
                "period_from": "2027-05-01",
                "period_to": "2027-04-01",
                "factor": 0,
            },
        ],
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and "Change 1, field work_center_code" in error["message"]
    assert {(d["index"], d["field"]) for d in error["details"]["changes"]} == {
        (1, "work_center_code"),
        (2, "period_to"),
        (2, "factor"),
    }
    assert Scenario.objects.count() == 0
    assert create(world["users"]["planner"], [CUT], cycle="2030-01-01").status_code == 400
    assert create(world["users"]["planner"], "not a list").status_code == 400


def test_compare_refuses_unknown_and_unrun_scenarios(world):
    planner = world["users"]["planner"]
    draft = create(planner, [CUT]).json()
    assert session(planner).get(f"{BASE}compare", {"ids": "999999"}).status_code == 404
    assert session(planner).get(f"{BASE}compare", {"ids": "x,1"}).status_code == 400
    response = session(planner).get(f"{BASE}compare", {"ids": str(draft["id"])})
    assert response.status_code == 400 and "run them first" in response.json()["error"]["message"]


def test_roles_and_scopes(world, erp):
    draft = create(world["users"]["planner"], [CUT]).json()
    rep = session(world["users"]["rep"])
    assert rep.get(BASE).status_code == 403
    assert rep.get(f"{BASE}{draft['id']}/").status_code == 403
    assert create(world["users"]["rep"], [CUT]).status_code == 403
    assert rep.post(f"{BASE}{draft['id']}/run").status_code == 403

    reader = erp(scopes=["cycles:read"])
    assert reader.get(BASE).status_code == 200
    assert reader.post(BASE, {"name": "x", "cycle": None, "changes": [CUT]}, format="json").status_code == 403
    assert reader.post(f"{BASE}{draft['id']}/run").status_code == 403
    wrong = erp(scopes=["plans:read"], name="plans-only")
    assert wrong.get(BASE).status_code == 403
    writer = erp(scopes=["cycles:write"], name="cycles-writer")
    assert (
        writer.post(BASE, {"name": "ERP scenario", "cycle": None, "changes": [CUT]}, format="json").status_code == 201
    )
    assert session(world["users"]["ops"]).get(f"{BASE}999999/").status_code == 404


def test_an_error_asked_as_xlsx_or_csv_answers_json(world):
    planner = session(world["users"]["planner"])
    for fmt in ("xlsx", "csv"):
        response = planner.get(f"{BASE}compare", {"ids": "0", "format": fmt})
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
