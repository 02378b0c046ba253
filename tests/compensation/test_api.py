"""The compensation API contract: plans and assignments by natural key, period close (202 +
poll or 200), statements with lines and source sales lines, CSV exports, disputes, what-if, and
the access matrix (zero leaks)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest

from compensation.models import CompAssignment, CompPlan, Statement
from tests.compensation.conftest import FEB, JAN

D = Decimal
TIERS = [
    {"from": "0", "to": "1000", "rate": "1"},
    {"from": "1000", "to": "3000", "rate": "2"},
    {"from": "3000", "to": "8000", "rate": "3"},
    {"from": "8000", "to": "20000", "rate": "5"},
]


def post_json(api, url, rows, **headers):
    return api.post(url, data=json.dumps(rows), content_type="application/json", **headers)


def csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    return list(csv.DictReader(io.StringIO(body)))


# --- plans and assignments --------------------------------------------------------------------


def test_comp_plans_bulk_upsert_by_code_versions_changes(erp, db):
    api = erp(scopes=["comp:write", "comp:read"], name="payroll")
    plan = {
        "code": "STEP",
        "name": "Step",
        "valid_from": "2025-01-01",
        "valid_to": "",
        "measure": "revenue",
        "basis": "transaction",
        "tier_on": "amount",
        "mode": "marginal",
        "tiers": TIERS,
        "threshold": "",
        "cap": "",
    }
    first = post_json(api, "/api/v1/comp-plans/bulk", [plan], HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 200, first.json()
    assert (first.json()["created"], first.json()["updated"]) == (1, 0)
    assert post_json(api, "/api/v1/comp-plans/bulk", [plan], HTTP_IDEMPOTENCY_KEY="k1")["Idempotent-Replayed"]
    assert post_json(api, "/api/v1/comp-plans/bulk", [plan]).json()["unchanged"] == 1
    changed = dict(plan, cap="500")
    assert post_json(api, "/api/v1/comp-plans/bulk", [changed]).json()["updated"] == 1
    detail = api.get("/api/v1/comp-plans/STEP/").json()
    assert (detail["version"], detail["cap"], detail["cap_kind"]) == (2, "500.00", "payout")
    assert detail["tiers"][1] == {"from": "1000", "to": "3000", "rate": "2"}
    # CSV with the compact tier notation gives the same plan.
    body = "code,name,valid_from,basis,mode,tiers\nCSV1,From CSV,2025-01-01,transaction,marginal,0-1000:1;1000-:2\n"
    assert api.post("/api/v1/comp-plans/bulk", data=body, content_type="text/csv").status_code == 200
    assert CompPlan.objects.get(code="CSV1").tiers == [
        {"from": "0", "to": "1000", "rate": "1"},
        {"from": "1000", "to": "", "rate": "2"},
    ]


def test_comp_plans_key_rules_match_the_other_bulk_resources(erp, db, settings):
    from django.utils import timezone

    from core.models import IdempotencyRecord, IngestBatch

    api = erp(scopes=["comp:write", "comp:read"], name="payroll")
    plan = {
        "code": "K",
        "name": "Keyed",
        "valid_from": "2025-01-01",
        "basis": "transaction",
        "mode": "marginal",
        "tiers": TIERS,
    }
    too_long = post_json(api, "/api/v1/comp-plans/bulk", [plan], HTTP_IDEMPOTENCY_KEY="x" * 256)
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "invalid_idempotency_key"
    assert post_json(api, "/api/v1/comp-plans/bulk", [plan], HTTP_IDEMPOTENCY_KEY="c-1").status_code == 200
    assert (
        post_json(api, "/api/v1/comp-plans/bulk", [dict(plan, name="Other")], HTTP_IDEMPOTENCY_KEY="c-1").status_code
        == 409
    )
    IdempotencyRecord.objects.update(
        created_at=timezone.now() - dt.timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS + 1)
    )
    renamed = post_json(api, "/api/v1/comp-plans/bulk", [dict(plan, name="Other")], HTTP_IDEMPOTENCY_KEY="c-1")
    assert renamed.status_code == 200 and renamed.json()["updated"] == 1
    assert IngestBatch.objects.filter(resource="comp-plans", status="applied").count() == 2


def test_comp_plans_bulk_lists_every_bad_row_and_writes_nothing(erp, db):
    api = erp(scopes=["comp:write"], name="payroll")
    rows = [
        {"code": "OK", "name": "ok", "valid_from": "2025-01-01", "tiers": TIERS},
        {
            "code": "GAP",
            "name": "gap",
            "valid_from": "2025-01-01",
            "tiers": [{"from": "0", "to": "10", "rate": "1"}, {"from": "20", "to": "", "rate": "2"}],
        },
        {"code": "BAD", "name": "bad", "valid_from": "01/01/2025", "tiers": TIERS, "mode": "sideways"},
    ]
    response = post_json(api, "/api/v1/comp-plans/bulk", rows)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_rows" and error["details"]["invalid_rows"] == 2
    assert {(e["row"], e["field"]) for e in error["details"]["errors"]} >= {(1, "tiers"), (2, "valid_from")}
    assert not CompPlan.objects.exists()


def test_comp_assignments_bulk_by_rep_plan_and_valid_from(erp, shop):
    api = erp(scopes=["comp:write", "comp:read"], name="payroll")
    shop.plan("FIVE")
    rows = [
        {"rep_username": "alice", "plan_code": "FIVE", "valid_from": "2025-01-01", "valid_to": "", "quota": "1000"},
        {"rep_username": "bob", "plan_code": "FIVE", "valid_from": "2025-01-01", "valid_to": "2025-06-30"},
    ]
    response = post_json(api, "/api/v1/comp-assignments/bulk", rows)
    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 2
    rows[0]["quota"] = "1500"
    assert post_json(api, "/api/v1/comp-assignments/bulk", rows).json()["updated"] == 1
    assert CompAssignment.objects.get(rep=shop.alice).quota == D("1500")
    bad = post_json(
        api,
        "/api/v1/comp-assignments/bulk",
        [{"rep_username": "nobody", "plan_code": "NOPE", "valid_from": "2025-01-01"}],
    )
    assert bad.status_code == 400
    listed = api.get("/api/v1/comp-assignments/?rep_username=alice").json()["results"]
    assert [(r["rep_username"], r["plan_code"], r["quota"]) for r in listed] == [("alice", "FIVE", "1500.00")]
    assert (
        erp(scopes=["comp:read"], name="reader")
        .post("/api/v1/comp-assignments/bulk", data="[]", content_type="application/json")
        .status_code
        == 403
    )


# --- close and statements ---------------------------------------------------------------------


def test_close_answers_202_then_the_period_polls_closed_and_statements_follow_the_contract(
    erp, shop, django_capture_on_commit_callbacks
):
    api = erp(scopes=["comp:write", "comp:read"], name="payroll")
    shop.assign(shop.alice, shop.plan("FIVE", "5"))
    shop.assign(shop.bob, shop.plan("THREE", "3"))
    shop.sale(dt.date(2025, 1, 10), "10000", external_id="SO-1")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/comp-periods/2025-01-01/close")
    assert response.status_code == 202
    assert response.json()["url"].endswith("/api/v1/comp-periods/2025-01-01/")
    polled = api.get("/api/v1/comp-periods/2025-01-01/").json()
    assert (polled["status"], polled["run_status"], polled["statement_count"]) == ("closed", "completed", 2)
    again = api.post("/api/v1/comp-periods/2025-01-01/close")
    assert again.status_code == 200 and again.json()["status"] == "closed"

    results = api.get("/api/v1/statements/", {"rep_username": "alice", "period_start": "2025-01-01"}).json()["results"]
    (st,) = results
    assert (st["rep_username"], st["period_start"], st["status"], st["total"]) == (
        "alice",
        "2025-01-01",
        "closed",
        "300.00",
    )
    (line,) = st["lines"]
    assert (line["component"], line["amount"], line["source_sales_line_ids"]) == ("commission", "300.00", ["SO-1"])

    lines = csv_rows(api.get(f"/api/v1/statements/{st['id']}.csv"))
    assert [(r["component"], r["amount"], r["source_sales_line_ids"]) for r in lines] == [
        ("commission", "300.00", "SO-1")
    ]
    payroll = csv_rows(api.get("/api/v1/statements/payroll.csv", {"period_start": "2025-01-01"}))
    assert {(r["rep_username"], r["total"]) for r in payroll} == {("alice", "300.00"), ("bob", "120.00")}


def test_close_of_a_later_period_before_an_earlier_open_one_fails_in_the_run(
    erp, shop, django_capture_on_commit_callbacks
):
    api = erp(scopes=["comp:write", "comp:read"], name="payroll")
    shop.assign(shop.alice, shop.plan("FIVE"))
    from compensation.services import comp_period_compute

    comp_period_compute(period_start=JAN)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/comp-periods/2025-02-01/close").status_code == 202
    polled = api.get(f"/api/v1/comp-periods/{FEB.isoformat()}/").json()
    assert polled["run_status"] == "failed" and "2025-01" in polled["run_error"]
    assert api.post("/api/v1/comp-periods/2025-02-31/close").status_code == 400


def test_disputes_through_the_api(shop, login):
    from compensation.services import comp_period_close

    shop.assign(shop.alice, shop.plan("FIVE"))
    shop.sale(dt.date(2025, 1, 10), "1000")
    comp_period_close(period_start=JAN)
    line_id = Statement.objects.get(rep=shop.alice).lines.get().pk
    alice, boss, carol = login("alice"), login("boss"), login("carol")
    assert carol.post("/api/v1/disputes/", {"line_id": line_id, "reason": "x"}).status_code == 404
    raised = alice.post("/api/v1/disputes/", {"line_id": line_id, "reason": "Too low"})
    assert raised.status_code == 201 and raised.json()["status"] == "open"
    pk = raised.json()["id"]
    assert carol.get(f"/api/v1/disputes/{pk}/").status_code == 404
    assert alice.post(f"/api/v1/disputes/{pk}/close").status_code == 409
    answered = boss.post(f"/api/v1/disputes/{pk}/answer", {"answer": "60 % share"})
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    assert alice.post(f"/api/v1/disputes/{pk}/close").json()["status"] == "closed"


def test_what_if_api_for_admin_and_manager(shop, login):
    plan = shop.plan("FIVE", "5")
    shop.assign(shop.alice, plan)
    shop.assign(shop.carol, plan)
    shop.sale(dt.date(2025, 1, 10), "10000")
    shop.sale(dt.date(2025, 1, 11), "1000", territory=shop.t2)
    body = {
        "plan_code": "FIVE",
        "period_from": "2025-01-01",
        "period_to": "2025-01-31",
        "changes": {"tiers": [{"from": "0", "to": "", "rate": "10"}]},
    }
    everyone = login("boss_admin").post("/api/v1/comp-what-if", body, content_type="application/json").json()
    assert (everyone["total_current"], everyone["total_changed"]) == ("350.00", "700.00")  # 6,000 + 1,000
    team = login("boss").post("/api/v1/comp-what-if", body, content_type="application/json").json()
    assert [r["rep_username"] for r in team["reps"]] == ["alice"]
    assert (team["total_current"], team["total_changed"]) == ("300.00", "600.00")
    assert login("ops_lead").post("/api/v1/comp-what-if", body, content_type="application/json").status_code == 403


# --- the access matrix on the demo company ----------------------------------------------------

# Tiny demo: NE-T1 rep1; NE-T2 rep2 60 % + rep3 40 %; overlay rep7 on both (manager's region);
# SE-T1 rep4 then rep5; SE-T2 rep6; overlay rep8 (manager2's region).
VISIBLE = {
    "rep1": {"rep1"},
    "rep2": {"rep2"},
    "rep3": {"rep3"},
    "rep6": {"rep6"},
    "manager": {"rep1", "rep2", "rep3", "rep7"},
    "admin": {"rep1", "rep2", "rep3", "rep4", "rep5", "rep6", "rep7", "rep8"},
}
NO_PAY = ["ops", "planner", "exec"]


@pytest.mark.parametrize("username", sorted(VISIBLE))
def test_access_matrix_api_zero_leaks(demo, login, username):
    client = login(username)
    expected = VISIBLE[username]
    listed = client.get("/api/v1/statements/?page_size=1000").json()["results"]
    assert {s["rep_username"] for s in listed} == expected
    own_total = sum(D(s["total"]) for s in listed)
    visible_ids = {s["id"] for s in listed}
    assert visible_ids == set(Statement.objects.filter(rep__username__in=expected).values_list("id", flat=True))
    for statement in Statement.objects.all():
        detail = client.get(f"/api/v1/statements/{statement.pk}/")
        exported = client.get(f"/api/v1/statements/{statement.pk}.csv")
        if statement.pk in visible_ids:
            assert detail.status_code == 200 and exported.status_code == 200
        else:
            assert detail.status_code == 404 and exported.status_code == 404
    listed_csv = csv_rows(client.get("/api/v1/statements/?format=csv"))
    assert {r["rep_username"] for r in listed_csv} == expected
    payroll = csv_rows(client.get("/api/v1/statements/payroll.csv"))
    assert {r["rep_username"] for r in payroll} <= expected
    assert sum(D(r["total"]) for r in payroll) == sum(D(s["total"]) for s in listed if s["status"] == "closed")
    assert own_total == sum(Statement.objects.filter(rep__username__in=expected).values_list("total", flat=True))
    credits = client.get("/api/v1/credits/?page_size=1000").json()["results"]
    if username != "admin":  # (admin also sees the managers' roll-up credits)
        assert {c["rep_username"] for c in credits} <= expected | {username}
    assignments = client.get("/api/v1/comp-assignments/?page_size=1000").json()["results"]
    assert {a["rep_username"] for a in assignments} == expected
    plans = {p["code"] for p in client.get("/api/v1/comp-plans/").json()["results"]}
    assert plans == set(CompPlan.objects.filter(assignments__rep__username__in=expected).values_list("code", flat=True))
    disputes = client.get("/api/v1/disputes/").json()["results"]
    assert all(d["raised_by"] in expected for d in disputes)


@pytest.mark.parametrize("username", NO_PAY)
def test_roles_without_pay_see_no_pay_at_all(demo, login, username):
    client = login(username)
    statement = Statement.objects.first()
    for url in [
        "/api/v1/statements/",
        f"/api/v1/statements/{statement.pk}/",
        f"/api/v1/statements/{statement.pk}.csv",
        "/api/v1/statements/payroll.csv",
        "/api/v1/credits/",
        "/api/v1/comp-plans/",
        "/api/v1/comp-assignments/",
        "/api/v1/disputes/",
    ]:
        assert client.get(url).status_code == 403, url


def test_an_erp_token_without_comp_read_sees_no_pay(demo, erp):
    api = erp(scopes=["sales:write"], name="sales-only")
    assert api.get("/api/v1/statements/").status_code == 403
    payroll = erp(scopes=["comp:read"], name="payroll")
    assert len(payroll.get("/api/v1/statements/?page_size=1000").json()["results"]) == Statement.objects.count()


def test_spiff_for_a_product_through_the_api(erp, shop):
    api = erp(scopes=["comp:write"], name="payroll")
    response = api.post("/api/v1/spiffs/for-product", {"sku": "SKU-1", "quantity": "10"}, format="json")
    assert response.status_code == 201
    assert (response.json()["amount"], response.json()["budget"], response.json()["skus"]) == (
        "5.00",
        "50.00",
        ["SKU-1"],
    )
    assert api.post("/api/v1/spiffs/for-product", {"sku": "NOPE", "quantity": "1"}, format="json").status_code == 404
    assert (
        erp(scopes=["comp:read"], name="reader")
        .post("/api/v1/spiffs/for-product", {"sku": "SKU-1", "quantity": "1"}, format="json")
        .status_code
        == 403
    )
