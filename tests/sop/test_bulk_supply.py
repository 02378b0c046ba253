"""Bulk ingestion of plants, work centers, capacity, routings and stock through HTTP: created /
updated / unchanged, idempotency, all-or-nothing with every bad row named, scopes."""

from __future__ import annotations

import json

import pytest

from inventory.models import (
    InventoryLot,
    InventoryPolicy,
    InventorySnapshot,
    Location,
    Product,
    ProductFamily,
)
from sop.models import CapacityCalendar, Plant, Routing, WorkCenter

pytestmark = pytest.mark.django_db


def post(api, resource, rows, **headers):
    return api.post(f"/api/v1/{resource}/bulk", data=json.dumps(rows), content_type="application/json", **headers)


@pytest.fixture
def master():
    family = ProductFamily.objects.create(code="PMP", name="Pumps")
    for sku in ("P1", "P2"):
        Product.objects.create(sku=sku, name=sku, family=family, unit_price=10, unit_cost=5)
    Location.objects.create(code="WH", name="Warehouse")


@pytest.fixture
def ops_api(erp):
    return erp(scopes=["capacity:write", "inventory:write"], name="erp-supply")


def load_capacity(api):
    assert post(api, "plants", [{"code": "PL1", "name": "Dayton"}]).status_code == 200
    assert (
        post(
            api,
            "work-centers",
            [
                {"code": "WC1", "name": "Assembly", "plant_code": "PL1"},
                {"code": "WC2", "name": "Pack", "plant_code": "PL1"},
            ],
        ).status_code
        == 200
    )


def test_capacity_chain_upserts_by_natural_key(master, ops_api):
    load_capacity(ops_api)
    rows = [
        {"work_center_code": "WC1", "period_start": "2027-01-01", "available_hours": "320.5"},
        {"work_center_code": "WC1", "period_start": "2027-02-01", "available_hours": "300"},
    ]
    first = post(ops_api, "capacity", rows).json()
    assert (first["created"], first["updated"], first["unchanged"]) == (2, 0, 0)
    rows[1]["available_hours"] = "280"
    second = post(ops_api, "capacity", rows).json()
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 1, 1)
    entry = CapacityCalendar.objects.get(work_center__code="WC1", period_start="2027-02-01")
    assert str(entry.available_hours) == "280.00" and entry.downtime_hours == 0
    routing = [
        {"product_sku": "P1", "work_center_code": "WC1", "hours_per_unit": "1.25"},
        {"product_sku": "P1", "work_center_code": "WC2", "hours_per_unit": "0.1"},
    ]
    assert post(ops_api, "routings", routing).json()["created"] == 2
    assert Routing.objects.filter(product__sku="P1").count() == 2
    assert WorkCenter.objects.get(code="WC2").plant == Plant.objects.get(code="PL1")
    listed = ops_api.get("/api/v1/capacity/", {"work_center_code": "WC1"}).json()["results"]
    assert [r["period_start"] for r in listed] == ["2027-01-01", "2027-02-01"]


def test_capacity_rows_are_all_or_nothing_and_every_bad_row_is_named(master, ops_api):
    load_capacity(ops_api)
    rows = [
        {"work_center_code": "WC1", "period_start": "2027-01-01", "available_hours": "10"},
        {"work_center_code": "WC9", "period_start": "2027-01-01", "available_hours": "10"},
        {"work_center_code": "WC1", "period_start": "2027-01-15", "available_hours": "10"},
        {"work_center_code": "WC2", "period_start": "2027-01-01", "available_hours": "-1"},
        {"work_center_code": "WC1", "period_start": "2027-01-01", "available_hours": "12"},
    ]
    response = post(ops_api, "capacity", rows)
    assert response.status_code == 400
    errors = {(e["row"], e["field"], e["code"]) for e in response.json()["error"]["details"]["errors"]}
    assert (1, "work_center_code", "unknown_reference") in errors
    assert (2, "period_start", "not_month_start") in errors
    assert any(e[0] == 3 and e[1] == "available_hours" for e in errors)
    assert (4, "work_center_code", "duplicate_key") in errors
    assert not CapacityCalendar.objects.exists()
    bad_routing = post(ops_api, "routings", [{"product_sku": "P1", "work_center_code": "WC1", "hours_per_unit": "0"}])
    assert bad_routing.status_code == 400 and not Routing.objects.exists()


def test_idempotency_key_replays_and_conflicts(master, ops_api):
    load_capacity(ops_api)
    rows = [{"work_center_code": "WC1", "period_start": "2027-03-01", "available_hours": "100"}]
    first = post(ops_api, "capacity", rows, HTTP_IDEMPOTENCY_KEY="cap-1")
    again = post(ops_api, "capacity", rows, HTTP_IDEMPOTENCY_KEY="cap-1")
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    other = post(ops_api, "capacity", [{**rows[0], "available_hours": "90"}], HTTP_IDEMPOTENCY_KEY="cap-1")
    assert other.status_code == 409
    assert CapacityCalendar.objects.get().available_hours == 100


def test_stock_snapshots_lots_and_policies(master, ops_api):
    snaps = [
        {
            "product_sku": "P1",
            "location_code": "WH",
            "as_of": "2027-01-31",
            "on_hand": "120",
            "on_order": "30",
            "allocated": "10",
        },
        {"product_sku": "P2", "location_code": "WH", "as_of": "2027-01-31", "on_hand": "5"},
    ]
    assert post(ops_api, "inventory-snapshots", snaps).json()["created"] == 2
    assert post(ops_api, "inventory-snapshots", snaps).json()["unchanged"] == 2
    assert InventorySnapshot.objects.get(product__sku="P2").allocated == 0
    lots = [
        {
            "external_id": "L1",
            "product_sku": "P1",
            "location_code": "WH",
            "received_on": "2025-06-01",
            "quantity": "80",
        },
        {
            "external_id": "L2",
            "product_sku": "P1",
            "location_code": "WH",
            "received_on": "2026-12-01",
            "quantity": "40",
        },
    ]
    assert post(ops_api, "inventory-lots", lots).json()["created"] == 2
    assert InventoryLot.objects.count() == 2
    policies = [
        {
            "product_sku": "P1",
            "location_code": "WH",
            "lead_time_days": "30",
            "service_level": "0.95",
            "max_build_ahead_periods": "2",
        },
        {"product_sku": "P2", "location_code": "WH", "safety_stock": "12"},
    ]
    assert post(ops_api, "inventory-policies", policies).json()["created"] == 2
    p2 = InventoryPolicy.objects.get(product__sku="P2")
    assert p2.service_level is None and p2.safety_stock == 12 and p2.max_build_ahead_periods == 0
    positions = ops_api.get("/api/v1/inventory-positions/", {"product_sku": "P1"}).json()["results"]
    assert float(positions[0]["available"]) == 110


def test_policy_rows_need_a_service_level_in_range_or_a_safety_stock(master, ops_api):
    rows = [
        {"product_sku": "P1", "location_code": "WH", "service_level": "1.5"},
        {"product_sku": "P2", "location_code": "WH"},
    ]
    response = post(ops_api, "inventory-policies", rows)
    assert response.status_code == 400
    errors = {(e["row"], e["code"]) for e in response.json()["error"]["details"]["errors"]}
    assert errors == {(0, "out_of_range"), (1, "required")}
    assert not InventoryPolicy.objects.exists()


@pytest.mark.parametrize(
    ("resource", "scope"),
    [
        ("plants", "capacity:write"),
        ("work-centers", "capacity:write"),
        ("capacity", "capacity:write"),
        ("routings", "capacity:write"),
        ("inventory-snapshots", "inventory:write"),
        ("inventory-lots", "inventory:write"),
        ("inventory-policies", "inventory:write"),
    ],
)
def test_each_resource_needs_its_write_scope(master, erp, resource, scope):
    other = "inventory:write" if scope == "capacity:write" else "capacity:write"
    response = post(erp(scopes=["master:write", other]), resource, [])
    assert response.status_code == 403
    assert post(erp(scopes=[scope], name="right"), resource, []).status_code == 200
