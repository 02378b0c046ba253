"""The territories part of the ERP contract, through HTTP: bulk upserts (territories, users,
assignments, rules, quotas), realignment from a date, accounts' territory and attainment."""

import json

import pytest

from core.models import IngestBatch
from territories.models import AccountAssignment, Quota, Territory, TerritoryAssignment

SCOPES = ("master:write", "sales:write", "territories:write", "quotas:write", "users:write")


def post(api, resource, rows, **headers):
    return api.post(f"/api/v1/{resource}/bulk", data=json.dumps(rows), content_type="application/json", **headers)


def ok(response):
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.fixture
def world(erp):
    """A region R (managed by boss) with territories T1 (alice) and T2 (bob), one account."""
    api = erp(scopes=SCOPES)
    ok(post(api, "product-families", [{"code": "PMP", "name": "Pumps"}]))
    ok(
        post(
            api, "products", [{"sku": "P1", "name": "Pump", "family_code": "PMP", "unit_price": "10", "unit_cost": "6"}]
        )
    )
    ok(
        post(
            api,
            "users",
            [
                {
                    "username": "boss",
                    "email": "boss@x.example",
                    "first_name": "Bo",
                    "last_name": "Ss",
                    "roles": ["sales_manager"],
                },
                {"username": "alice", "first_name": "Alice", "roles": ["sales_rep"], "manager_username": "boss"},
                {"username": "bob", "first_name": "Bob", "roles": ["sales_rep"], "manager_username": "boss"},
            ],
        )
    )
    ok(
        post(
            api,
            "territories",
            [
                {"code": "T1", "name": "Territory 1", "parent_code": "R"},
                {"code": "R", "name": "Region", "manager_username": "boss"},
                {"code": "T2", "name": "Territory 2", "parent_code": "R"},
            ],
        )
    )
    ok(
        post(
            api,
            "territory-assignments",
            [
                {
                    "rep_username": "alice",
                    "territory_code": "T1",
                    "role": "primary",
                    "share": "100",
                    "valid_from": "2026-01-01",
                },
                {"rep_username": "bob", "territory_code": "T2", "share": 100, "valid_from": "2026-01-01"},
            ],
        )
    )
    ok(post(api, "accounts", [{"external_id": "A1", "name": "Acme", "country": "US", "postal_code": "02110"}]))
    return api


def test_territories_bulk_keeps_the_tree_paths(world):
    assert dict(Territory.objects.values_list("code", "path")) == {"R": "/R/", "T1": "/R/T1/", "T2": "/R/T2/"}
    body = world.get("/api/v1/territories/T1/").json()
    assert body | {"updated_at": None} == {
        "code": "T1",
        "name": "Territory 1",
        "parent_code": "R",
        "manager_username": None,
        "level": "",
        "path": "/R/T1/",
        "updated_at": None,
    }
    again = ok(post(world, "territories", [{"code": "T1", "name": "Territory 1", "parent_code": "R"}]))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)
    cycle = post(world, "territories", [{"code": "R", "name": "Region", "parent_code": "T1"}])
    assert cycle.status_code == 400
    assert cycle.json()["error"]["details"]["errors"][0]["code"] == "cycle"
    assert Territory.objects.get(code="R").parent is None


def test_users_bulk_sets_roles_and_manager_without_passwords(world):
    from django.contrib.auth import get_user_model

    alice = get_user_model().objects.get(username="alice")
    assert not alice.has_usable_password()
    assert alice.profile.manager.username == "boss"
    listed = world.get("/api/v1/users/alice/").json()
    assert listed == {
        "username": "alice",
        "email": "",
        "first_name": "Alice",
        "last_name": "",
        "roles": ["sales_rep"],
        "manager_username": "boss",
        "is_active": True,
    }
    csv = "username,roles,manager_username\nalice,sales_rep;planner,boss\n"
    response = world.post("/api/v1/users/bulk", data=csv.encode(), content_type="text/csv")
    assert ok(response)["updated"] == 1
    assert world.get("/api/v1/users/alice/").json()["roles"] == ["planner", "sales_rep"]
    bad = post(
        world,
        "users",
        [
            {"username": "mallory", "roles": ["admin"]},
            {"username": "eve", "roles": ["wizard"], "manager_username": "nobody"},
            {"username": "pw", "password": "secret"},
        ],
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_columns"
    bad = post(
        world,
        "users",
        [
            {"username": "mallory", "roles": ["admin"]},
            {"username": "eve", "roles": ["wizard"], "manager_username": "nobody"},
        ],
    )
    errors = bad.json()["error"]["details"]["errors"]
    assert [(e["row"], e["field"], e["code"]) for e in errors] == [
        (0, "roles", "invalid_role"),
        (1, "manager_username", "unknown_reference"),
        (1, "roles", "invalid_role"),
    ]
    assert not get_user_model().objects.filter(username__in=["mallory", "eve"]).exists()


def test_users_bulk_never_touches_or_makes_an_administrator(world):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    User = get_user_model()
    chief = User.objects.create_user("chief", email="chief@x.example", password="pw")
    chief.groups.add(Group.objects.get(name="admin"))  # an administrator by role, not a superuser
    User.objects.create_superuser("root", "root@x.example", "pw")
    attack = post(
        world,
        "users",
        [
            {"username": "chief", "email": "evil@x.example", "roles": ["sales_rep"], "is_active": "false"},
            {"username": "root", "roles": ["planner"]},
            {"username": "alice", "roles": ["sales_rep", "admin"]},
        ],
    )
    assert attack.status_code == 400
    errors = attack.json()["error"]["details"]["errors"]
    assert [(e["row"], e["field"], e["code"]) for e in errors] == [
        (0, "username", "protected_user"),
        (1, "username", "protected_user"),
        (2, "roles", "invalid_role"),
    ]
    assert "administrators and API clients are not managed" in errors[0]["message"]
    chief.refresh_from_db()
    assert (chief.email, chief.is_active, [g.name for g in chief.groups.all()]) == ("chief@x.example", True, ["admin"])
    assert User.objects.get(username="root").is_active
    assert [g.name for g in User.objects.get(username="alice").groups.all()] == ["sales_rep"]


def test_users_bulk_needs_the_users_scope(erp, world):
    other = erp(scopes=("master:write",), name="crm")
    response = post(other, "users", [{"username": "x"}])
    assert response.status_code == 403


def test_primary_shares_not_100_are_rejected_with_a_clear_message(world):
    response = post(
        world,
        "territory-assignments",
        [{"rep_username": "bob", "territory_code": "T1", "share": "30", "valid_from": "2026-03-01"}],
    )
    assert response.status_code == 400
    error = response.json()["error"]["details"]["errors"][0]
    assert error["row"] == 0 and error["code"] == "primary_shares_invalid"
    assert error["message"] == (
        "Territory T1: primary credit shares total 130 % from 2026-03-01 onwards "
        "(alice 100 %, bob 30 %); they must total exactly 100 %."
    )
    assert TerritoryAssignment.objects.count() == 2  # nothing written
    # A 70/30 split from March is fine when alice's row is split at the same time.
    ok(
        post(
            world,
            "territory-assignments",
            [
                {
                    "rep_username": "alice",
                    "territory_code": "T1",
                    "share": "100",
                    "valid_from": "2026-01-01",
                    "valid_to": "2026-02-28",
                },
                {"rep_username": "alice", "territory_code": "T1", "share": "70", "valid_from": "2026-03-01"},
                {"rep_username": "bob", "territory_code": "T1", "share": "30", "valid_from": "2026-03-01"},
            ],
        )
    )


def test_idempotent_replay_and_conflict_on_a_dedicated_resource(world):
    rows = [
        {
            "plan_code": "FY26",
            "rep_username": "alice",
            "period_start": "2026-06-01",
            "measure": "revenue",
            "amount": "2000",
        }
    ]
    first = post(world, "quotas", rows, HTTP_IDEMPOTENCY_KEY="q-1")
    again = post(world, "quotas", rows, HTTP_IDEMPOTENCY_KEY="q-1")
    assert again.status_code == 200 and again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert IngestBatch.objects.filter(resource="quotas", status="applied").count() == 1
    other = post(world, "quotas", rows + rows, HTTP_IDEMPOTENCY_KEY="q-1")
    assert other.status_code == 409


def test_an_expired_idempotency_key_can_be_used_again_on_a_dedicated_resource(world, settings):
    import datetime as dt

    from django.utils import timezone

    from core.models import IdempotencyRecord

    rows = [
        {
            "plan_code": "FY26",
            "rep_username": "alice",
            "period_start": "2026-06-01",
            "measure": "revenue",
            "amount": "2000",
        }
    ]
    ok(post(world, "quotas", rows, HTTP_IDEMPOTENCY_KEY="q-old"))
    IdempotencyRecord.objects.update(
        created_at=timezone.now() - dt.timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS + 1)
    )
    rows[0]["amount"] = "2500"  # another body: a new batch, not a 409
    again = post(world, "quotas", rows, HTTP_IDEMPOTENCY_KEY="q-old")
    assert again.status_code == 200, again.json()
    assert "Idempotent-Replayed" not in again and again.json()["updated"] == 1
    assert IdempotencyRecord.objects.filter(key="q-old").count() == 1


def test_quota_rows_are_checked_and_approved_plans_are_locked(world):
    bad = post(
        world,
        "quotas",
        [
            {
                "plan_code": "FY26",
                "rep_username": "alice",
                "territory_code": "T1",
                "period_start": "2026-06-01",
                "measure": "revenue",
                "amount": "1",
            },
            {
                "plan_code": "FY26",
                "territory_code": "T1",
                "period_start": "2026-06-15",
                "measure": "units",
                "family_code": "PMP",
                "amount": "-3",
            },
        ],
    )
    codes = {(e["row"], e["code"]) for e in bad.json()["error"]["details"]["errors"]}
    assert codes == {(0, "one_owner"), (1, "not_month_start"), (1, "below_minimum")}
    created = ok(
        post(
            world,
            "quotas",
            [
                {
                    "plan_code": "FY26",
                    "territory_code": "T1",
                    "period_start": "2026-06-01",
                    "measure": "units",
                    "family_code": "PMP",
                    "amount": "40",
                },
                {
                    "plan_code": "FY26",
                    "territory_code": "T1",
                    "period_start": "2026-06-01",
                    "measure": "units",
                    "amount": "90",
                },
            ],
        )
    )
    assert created["created"] == 2 and Quota.objects.count() == 2
    from territories.models import QuotaPlan

    QuotaPlan.objects.filter(code="FY26").update(status="submitted")
    locked = post(
        world,
        "quotas",
        [
            {
                "plan_code": "FY26",
                "territory_code": "T1",
                "period_start": "2026-07-01",
                "measure": "units",
                "amount": "1",
            }
        ],
    )
    assert locked.json()["error"]["details"]["errors"][0]["code"] == "plan_not_draft"


def test_a_july_move_credits_june_to_the_old_territory_and_july_to_the_new(world):
    # Rules → A1 belongs to T1 from January.
    ok(
        post(
            world,
            "assignment-rules",
            [{"code": "R-021", "territory_code": "T1", "postal_prefix": "021", "country": "US", "priority": 10}],
        )
    )
    dry = world.post(
        "/api/v1/territory-realignments/", {"effective_from": "2026-01-01", "dry_run": True}, format="json"
    ).json()
    assert dry["counts"]["moved"] == 1 and not AccountAssignment.objects.exists()
    applied = world.post(
        "/api/v1/territory-realignments/", {"effective_from": "2026-01-01", "dry_run": False}, format="json"
    ).json()
    assert applied["moved"][0] | {"revenue_l12m": 0, "forecast_n12m": 0} == {
        "external_id": "A1",
        "from_territory_code": None,
        "to_territory_code": "T1",
        "revenue_l12m": 0,
        "forecast_n12m": 0,
    }
    # The rule changes; from 1 July A1 belongs to T2.
    ok(
        post(
            world,
            "assignment-rules",
            [{"code": "R-021", "territory_code": "T2", "postal_prefix": "021", "country": "US", "priority": 10}],
        )
    )
    moved = world.post(
        "/api/v1/territory-realignments/", {"effective_from": "2026-07-01", "dry_run": False}, format="json"
    ).json()
    assert [(m["from_territory_code"], m["to_territory_code"]) for m in moved["moved"]] == [("T1", "T2")]
    assert world.get("/api/v1/accounts/A1/?as_of=2026-06-30").json()["territory_code"] == "T1"
    assert world.get("/api/v1/accounts/A1/?as_of=2026-07-01").json()["territory_code"] == "T2"

    ok(
        post(
            world,
            "sales-lines",
            [
                {
                    "external_id": "L1",
                    "order_date": "2026-06-30",
                    "account_external_id": "A1",
                    "product_sku": "P1",
                    "quantity": "10",
                    "net_amount": "1000",
                    "status": "invoiced",
                },
                {
                    "external_id": "L2",
                    "order_date": "2026-07-01",
                    "account_external_id": "A1",
                    "product_sku": "P1",
                    "quantity": "5",
                    "net_amount": "500",
                    "status": "shipped",
                },
                {
                    "external_id": "L3",
                    "order_date": "2026-07-10",
                    "account_external_id": "A1",
                    "product_sku": "P1",
                    "quantity": "1",
                    "net_amount": "100",
                    "status": "returned",
                },
                {
                    "external_id": "L4",
                    "order_date": "2026-07-11",
                    "account_external_id": "A1",
                    "product_sku": "P1",
                    "quantity": "9",
                    "net_amount": "900",
                    "status": "cancelled",
                },
            ],
        )
    )
    ok(
        post(
            world,
            "quotas",
            [
                {
                    "plan_code": "FY26",
                    "rep_username": "alice",
                    "period_start": "2026-06-01",
                    "measure": "revenue",
                    "amount": "2000",
                },
                {
                    "plan_code": "FY26",
                    "rep_username": "bob",
                    "period_start": "2026-07-01",
                    "measure": "revenue",
                    "amount": "800",
                },
            ],
        )
    )

    def attainment(query):
        response = world.get(f"/api/v1/attainment/?{query}")
        assert response.status_code == 200, response.json()
        body = response.json()
        return body["quota"], body["actual"], body["attainment_pct"]

    assert attainment("period_start=2026-06-01&rep_username=alice") == ("2000.00", "1000.00", "50.00")
    assert attainment("period_start=2026-07-01&rep_username=alice") == (None, "0.00", None)
    # July: 500 shipped − 100 returned; the cancelled line does not count.
    assert attainment("period_start=2026-07-01&rep_username=bob") == ("800.00", "400.00", "50.00")
    assert attainment("period_start=2026-06-01&territory_code=T1")[1] == "1000.00"
    assert attainment("period_start=2026-07-01&territory_code=R")[1] == "400.00"
    ytd = world.get("/api/v1/attainment/?period_start=2026-07-01&rep_username=bob").json()
    assert ytd["ytd_actual"] == "400.00"


def test_rules_with_no_one_or_several_matches(world):
    ok(
        post(
            world,
            "accounts",
            [
                {"external_id": "A2", "name": "Nobody's", "country": "US", "postal_code": "99999"},
                {
                    "external_id": "A3",
                    "name": "Contested",
                    "country": "US",
                    "postal_code": "03100",
                    "industry": "Mining",
                },
            ],
        )
    )
    ok(
        post(
            world,
            "assignment-rules",
            [
                {"code": "G-021", "territory_code": "T1", "postal_prefix": "021", "priority": 10},
                {"code": "G-031", "territory_code": "T1", "postal_prefix": "031", "priority": 10},
                {"code": "I-MIN", "territory_code": "T2", "industry": "mining", "priority": 10},
            ],
        )
    )
    body = world.post("/api/v1/territory-realignments/", {"effective_from": "2026-01-01"}, format="json").json()
    assert body["dry_run"] is True
    assert [m["external_id"] for m in body["moved"]] == ["A1"]
    assert body["unassigned"] == [{"external_id": "A2", "current_territory_code": None}]
    assert body["conflicts"] == [
        {
            "external_id": "A3",
            "current_territory_code": None,
            "candidate_territory_codes": ["T1", "T2"],
            "rule_codes": ["G-031", "I-MIN"],
        }
    ]
    assert not AccountAssignment.objects.exists()


def test_realignment_needs_the_territories_scope(erp, world):
    other = erp(scopes=("master:write",), name="crm")
    response = other.post("/api/v1/territory-realignments/", {"effective_from": "2026-01-01"}, format="json")
    assert response.status_code == 403


def test_quota_plan_workflow_and_csv_export_through_the_api(world, erp):
    ok(
        post(
            world,
            "quotas",
            [
                {
                    "plan_code": "FY26",
                    "territory_code": "T1",
                    "period_start": "2026-06-01",
                    "measure": "revenue",
                    "amount": "1500.50",
                }
            ],
        )
    )
    submitted = world.post("/api/v1/quota-plans/FY26/submit", {"comment": "first cut"}, format="json")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    same_client = world.post("/api/v1/quota-plans/FY26/approve", {}, format="json")
    assert same_client.status_code == 403 and same_client.json()["error"]["code"] == "four_eyes"
    approver = erp(scopes=("quotas:write",), name="planning-system")
    approved = approver.post("/api/v1/quota-plans/FY26/approve", {}, format="json").json()
    assert approved["status"] == "approved" and approved["approved_by"] == "api:planning-system"
    assert world.post("/api/v1/quota-plans/FY26/approve", {}, format="json").status_code == 409
    csv = world.get("/api/v1/quotas/?format=csv")
    assert b"".join(csv.streaming_content).decode().splitlines() == [
        "plan_code,rep_username,territory_code,period_start,measure,family_code,amount",
        "FY26,,T1,2026-06-01,revenue,,1500.50",
    ]


def test_a_signed_in_manager_bulk_writes_quotas_of_their_subtree_only(world):
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    outside = Territory.objects.create(code="Z", name="Elsewhere", path="/Z/")
    boss = APIClient()
    boss.force_authenticate(get_user_model().objects.get(username="boss"))
    response = post(
        boss,
        "quotas",
        [
            {
                "plan_code": "FY26",
                "rep_username": "alice",
                "period_start": "2026-06-01",
                "measure": "revenue",
                "amount": "10",
            },
            {
                "plan_code": "FY26",
                "territory_code": outside.code,
                "period_start": "2026-06-01",
                "measure": "revenue",
                "amount": "10",
            },
        ],
    )
    assert response.status_code == 400
    assert [(e["row"], e["code"]) for e in response.json()["error"]["details"]["errors"]] == [(1, "out_of_scope")]
    ok(
        post(
            boss,
            "quotas",
            [
                {
                    "plan_code": "FY26",
                    "rep_username": "alice",
                    "period_start": "2026-06-01",
                    "measure": "revenue",
                    "amount": "10",
                }
            ],
        )
    )
    assert post(boss, "territories", [{"code": "Q", "name": "Q"}]).status_code == 403
