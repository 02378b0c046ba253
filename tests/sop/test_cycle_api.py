"""The S&OP cycle's API contract (issue 14): paths, fields, status codes, scopes."""

import csv
import io

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from tests.sop.cycle_world import MAR, MONTH, cycle_world

BASE = "/api/v1/plan-cycles/"
CYCLE = f"{BASE}{MONTH.isoformat()}/"

#: Who may call each new endpoint through the session (roles) and with a token (scope).
#: For the lead to merge into the authorisation matrix of tests/api (issue 12, part A).
#: "service" = the scope or role lets the call through; the service then checks the stage
#: owner, the measure and the caller's territories (tested below and in test_cycle_services).
AUTHORISATION = {
    ("GET", "plan-cycles/"): {
        "scope": "cycles:read",
        "roles": {"admin", "planner", "ops_lead", "executive", "sales_manager"},
    },
    ("POST", "plan-cycles/"): {"scope": "cycles:write", "roles": {"admin", "planner"}},
    ("GET", "plan-cycles/{month}/"): {
        "scope": "cycles:read",
        "roles": {"admin", "planner", "ops_lead", "executive", "sales_manager"},
    },
    ("POST", "plan-cycles/{month}/advance"): {"scope": "cycles:write", "roles": "service: the stage's owner role"},
    ("POST", "plan-cycles/{month}/send-back"): {"scope": "cycles:write", "roles": "service: the stage's owner role"},
    ("POST", "plan-cycles/{month}/plan-run"): {"scope": "cycles:write", "roles": {"admin", "planner", "ops_lead"}},
    ("GET", "plan-cycles/{month}/demand-plan/"): {
        "scope": "cycles:read",
        "roles": {"admin", "planner", "ops_lead", "executive", "sales_manager (own rows)"},
    },
    ("POST", "plan-cycles/{month}/demand-plan/edits"): {
        "scope": "cycles:write",
        "roles": {"admin", "planner (consensus)", "sales_manager (sales_override, own rows)"},
    },
    ("GET", "plan-cycles/{month}/decisions/"): {
        "scope": "cycles:read",
        "roles": {"admin", "planner", "ops_lead", "executive", "sales_manager"},
    },
    ("POST", "plan-cycles/{month}/decisions/"): {
        "scope": "cycles:write",
        "roles": {"admin", "planner", "ops_lead", "executive", "sales_manager"},
    },
    ("GET", "plan-cycles/{month}/plan/"): {
        "scope": "cycles:read",
        "roles": {"admin", "planner", "ops_lead", "executive", "sales_manager"},
    },
    ("POST", "webhooks/"): {"scope": "webhooks:write", "roles": {"admin"}},
    ("GET", "webhooks/{id}/deliveries/"): {"scope": "webhooks:write", "roles": {"admin"}},
}


@pytest.fixture
def world(db):
    return cycle_world()


def session(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def cycle(world):
    response = session(world["users"]["planner"]).post(BASE, {"month": MONTH.isoformat()}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def family_rows(user, **params):
    response = session(user).get(f"{CYCLE}demand-plan/", {"level": "family", **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_create_and_read_cycles(world, cycle):
    assert {k: cycle[k] for k in ("month", "stage", "status", "published_at")} == {
        "month": "2027-03-01",
        "stage": "data",
        "status": "open",
        "published_at": None,
    }
    assert [s["code"] for s in cycle["stages"]] == [
        "data",
        "demand_review",
        "supply_review",
        "executive_review",
        "published",
    ]
    assert set(cycle["stages"][0]) >= {
        "code",
        "owner_role",
        "owner_username",
        "due_date",
        "status",
        "completed_at",
        "completed_by",
    }
    planner = session(world["users"]["planner"])
    again = planner.post(BASE, {"month": "2027-03-01"}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "cycle_exists"
    assert planner.post(BASE, {"month": "2027-03-15"}, format="json").status_code == 400
    listed = session(world["users"]["exec"]).get(BASE).json()["results"]
    assert [c["month"] for c in listed] == ["2027-03-01"]
    assert session(world["users"]["mgr_east"]).get(CYCLE).json()["stage"] == "data"
    assert session(world["users"]["rep"]).get(CYCLE).status_code == 403
    assert session(world["users"]["ops"]).post(BASE, {"month": "2027-04-01"}, format="json").status_code == 403
    assert planner.get(f"{BASE}2031-01-01/").status_code == 404


def test_advance_by_stage_owners_only(world, cycle):
    users = world["users"]
    for _ in range(2):
        assert session(users["planner"]).post(f"{CYCLE}advance", {"comment": "ok"}, format="json").status_code == 200
    denied = session(users["planner"]).post(f"{CYCLE}advance", {}, format="json")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "permission_denied"
    body = session(users["ops"]).post(f"{CYCLE}advance", {"comment": "capacity agreed"}, format="json").json()
    assert body["stage"] == "executive_review"
    assert body["stages"][2]["completed_by"] == "ops" and body["stages"][2]["status"] == "done"
    published = session(users["exec"]).post(f"{CYCLE}advance", {"comment": "approved"}, format="json").json()
    assert published["status"] == "published" and published["published_at"]
    late = session(users["exec"]).post(f"{CYCLE}advance", {}, format="json")
    assert late.status_code == 409 and late.json()["error"]["code"] == "cycle_published"


def test_demand_plan_levels_edits_and_etags(world, cycle):
    planner, other = world["users"]["planner"], world["users"]["planner2"]
    pmp = [r for r in family_rows(planner, period_start=MAR.isoformat()) if r["family_code"] == "PMP"][0]
    assert {
        k: pmp[k]
        for k in ("family_code", "period_start", "statistical", "consensus", "target", "sales_override", "feasible")
    } == {
        "family_code": "PMP",
        "period_start": "2027-03-01",
        "statistical": 180.0,
        "consensus": 180,
        "target": 900.0,
        "sales_override": None,
        "feasible": None,
    }
    edit = {
        "level": "family",
        "family_code": "PMP",
        "period_start": "2027-03-01",
        "measure": "consensus",
        "value": 1200,
        "reason": "trade fair orders",
    }
    first = session(planner).post(f"{CYCLE}demand-plan/edits", {**edit, "etag": pmp["etag"]}, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["consensus"] == 1200 and first.json()["etag"] != pmp["etag"]
    stale = session(other).post(
        f"{CYCLE}demand-plan/edits", {**edit, "value": 5}, format="json", HTTP_IF_MATCH=f'"{pmp["etag"]}"'
    )
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "precondition_failed"
    assert [r for r in family_rows(planner, period_start="2027-03-01") if r["family_code"] == "PMP"][0][
        "consensus"
    ] == 1200
    unsent = session(other).post(f"{CYCLE}demand-plan/edits", {**edit, "value": 5}, format="json")
    assert unsent.status_code == 428
    bad = session(planner).post(f"{CYCLE}demand-plan/edits", {**edit, "value": -3, "reason": ""}, format="json")
    assert bad.status_code == 400 and set(bad.json()["error"]["details"]) == {"value", "reason"}
    products = (
        session(planner)
        .get(f"{CYCLE}demand-plan/", {"level": "product", "family_code": "PMP", "period_start": "2027-03-01"})
        .json()["results"]
    )
    assert {r["product_sku"]: r["consensus"] for r in products} == {"P1": 1000, "P2": 200, "P3": 0}
    total = session(planner).get(f"{CYCLE}demand-plan/", {"level": "total"}).json()["results"]
    assert [r["consensus"] for r in total] == [1240, 220, 220]


def test_sales_managers_edit_their_input_in_their_territories_only(world, cycle):
    mgr = world["users"]["mgr_east"]
    rows = session(mgr).get(f"{CYCLE}demand-plan/", {"level": "territory"}).json()["results"]
    assert {r["territory_code"] for r in rows} == {"EAST-1", "EAST-2"}
    edit = {
        "level": "territory",
        "territory_code": "EAST-1",
        "period_start": "2027-03-01",
        "measure": "sales_override",
        "value": 120,
        "reason": "key account order",
        "etag": rows[0]["etag"],
    }
    assert session(mgr).post(f"{CYCLE}demand-plan/edits", edit, format="json").status_code == 200
    outside = session(mgr).post(f"{CYCLE}demand-plan/edits", {**edit, "territory_code": "WEST-1"}, format="json")
    assert outside.status_code == 403
    measure = session(mgr).post(f"{CYCLE}demand-plan/edits", {**edit, "measure": "consensus"}, format="json")
    assert measure.status_code == 403 and measure.json()["error"]["code"] == "permission_denied"
    assert session(world["users"]["rep"]).get(f"{CYCLE}demand-plan/").status_code == 403


def test_published_plan_downloads_equal_the_api_rows_and_edits_are_refused(world, cycle):
    users = world["users"]
    planner = session(users["planner"])
    assert planner.get(f"{CYCLE}plan/").status_code == 409
    for user in ("planner", "planner", "ops", "exec"):
        assert session(users[user]).post(f"{CYCLE}advance", {}, format="json").status_code == 200
    rows = planner.get(f"{CYCLE}plan/").json()
    assert len(rows) == 4 * 3 and set(rows[0]) == {
        "product_sku",
        "family_code",
        "period_start",
        "consensus",
        "feasible",
        "production",
    }
    body = planner.get(f"{CYCLE}plan/", {"format": "csv"})
    text = b"".join(body.streaming_content).decode()
    parsed = list(csv.DictReader(io.StringIO(text)))
    as_text = [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows]
    assert parsed == as_text
    book = load_workbook(io.BytesIO(planner.get(f"{CYCLE}plan/", {"format": "xlsx"}).content))
    sheet = list(book.active.iter_rows(values_only=True))
    assert list(sheet[0]) == list(rows[0])
    assert [(r[0], r[2].date().isoformat(), r[3]) for r in sheet[1:]] == [
        (r["product_sku"], r["period_start"], r["consensus"]) for r in rows
    ]
    demand_csv = b"".join(
        planner.get(f"{CYCLE}demand-plan/", {"level": "family", "format": "csv"}).streaming_content
    ).decode()
    assert len(list(csv.DictReader(io.StringIO(demand_csv)))) == len(family_rows(users["planner"]))
    etag = family_rows(users["planner"])[0]["etag"]
    frozen = planner.post(
        f"{CYCLE}demand-plan/edits",
        {
            "level": "family",
            "family_code": "PMP",
            "period_start": "2027-03-01",
            "measure": "consensus",
            "value": 1,
            "reason": "late",
            "etag": etag,
        },
        format="json",
    )
    assert frozen.status_code == 409 and frozen.json()["error"]["code"] == "cycle_published"


def test_decisions_are_listed_and_recorded(world, cycle):
    ops = session(world["users"]["ops"])
    made = ops.post(
        f"{CYCLE}decisions/",
        {
            "topic": "Overtime on WC1",
            "decision": "Saturdays in March",
            "work_center_code": "WC1",
            "owner_username": "ops",
            "due_date": "2027-02-20",
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["work_center_code"] == "WC1" and made.json()["owner_username"] == "ops"
    listed = session(world["users"]["exec"]).get(f"{CYCLE}decisions/").json()
    assert [d["topic"] for d in listed] == ["Overtime on WC1"]
    assert ops.post(f"{CYCLE}decisions/", {"topic": "x", "family_code": "NOPE"}, format="json").status_code == 400


def test_tokens_need_the_cycle_scopes(world, cycle, erp):
    reader = erp(scopes=["cycles:read"], name="erp-reader")
    assert reader.get(CYCLE).status_code == 200
    assert reader.get(f"{CYCLE}demand-plan/", {"level": "total"}).status_code == 200
    denied = reader.post(f"{CYCLE}decisions/", {"topic": "x"}, format="json")
    assert denied.status_code == 403 and "cycles:write" in denied.json()["error"]["message"]
    other = erp(scopes=["plans:read"], name="erp-plans")
    assert other.get(CYCLE).status_code == 403
    assert (
        other.post(
            "/api/v1/webhooks/", {"url": "https://erp.example/hook", "events": ["plan.published"]}, format="json"
        ).status_code
        == 403
    )
