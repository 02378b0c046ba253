"""Promoting a scenario into its cycle: decisions, audited consensus edits, a quota change
request, once."""

import pytest
from rest_framework.test import APIClient

from core.models import AuditEvent
from scenarios import services
from scenarios.models import QuotaChangeRequest, Scenario
from sop import cycle_services
from sop.models import Decision, DemandPlanEdit
from tests.sop.cycle_world import MONTH, cycle_world, grain

CHANGES = [
    {
        "type": "capacity",
        "work_center_code": "WC1",
        "period_from": "2027-04-01",
        "period_to": "2027-05-01",
        "change_hours": 80,
    },
    {"type": "demand", "product_sku": "P1", "period_from": "2027-03-01", "period_to": "2027-03-01", "factor": 1.2},
    {
        "type": "target",
        "family_code": "PMP",
        "territory_code": "EAST",
        "period_from": "2027-03-01",
        "period_to": "2027-04-01",
        "factor": 0.9,
    },
]


@pytest.fixture
def world(db):
    world = cycle_world()
    world["cycle"] = cycle_services.cycle_create(month=MONTH, user=world["users"]["planner"])
    return world


def ran(world, changes=CHANGES) -> Scenario:
    scenario = services.scenario_create(
        name="Saturday shift", cycle=world["cycle"], changes=changes, user=world["users"]["planner"]
    )
    Scenario.objects.filter(pk=scenario.pk).update(status=Scenario.Status.QUEUED)
    return services.scenario_run_execute(scenario_id=scenario.pk)


def session(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_promote_records_decisions_edits_and_a_quota_request_once(world):
    scenario = ran(world)
    before = grain(world["cycle"])
    planner = session(world["users"]["planner"])
    response = planner.post(f"/api/v1/scenarios/{scenario.pk}/promote")
    assert response.status_code == 200, response.content
    created = response.json()
    assert len(created["decisions"]) == 1 and "WC1" in created["decisions"][0]["topic"]
    decision = Decision.objects.get(pk=created["decisions"][0]["id"])
    assert decision.cycle == world["cycle"] and decision.work_center.code == "WC1"
    assert decision.owner is not None and decision.due_date is not None
    # P1 in March: 100 (EAST-1) + 50 (EAST-2) = 150 × 1.2 = 180, spread 120 / 60
    assert created["consensus_edits"] == [
        {"level": "product", "keys": {"product_sku": "P1"}, "period_start": "2027-03-01", "before": 150, "after": 180}
    ]
    after = grain(world["cycle"])
    assert (after[("P1", "EAST-1")], after[("P1", "EAST-2")]) == (120, 60)
    assert after[("V1", "WEST-1")] == before[("V1", "WEST-1")]
    edit = DemandPlanEdit.objects.get(cycle=world["cycle"])
    assert edit.measure == "consensus" and "Saturday shift" in edit.reason and edit.user.username == "planner"
    request = QuotaChangeRequest.objects.get()
    assert (request.family.code, request.territory.code, str(request.factor)) == ("PMP", "EAST", "0.9000")
    assert AuditEvent.objects.filter(action="scenario.promote", object_id=str(scenario.pk)).count() == 1

    again = planner.post(f"/api/v1/scenarios/{scenario.pk}/promote")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_promoted"
    assert Decision.objects.count() == 1 and DemandPlanEdit.objects.count() == 1
    assert QuotaChangeRequest.objects.count() == 1


def test_promote_is_refused_to_other_roles_unrun_scenarios_and_tokens_that_only_read(world, erp):
    scenario = ran(world)
    for name in ("ops", "exec", "mgr_east"):
        assert session(world["users"][name]).post(f"/api/v1/scenarios/{scenario.pk}/promote").status_code == 403
    assert session(world["users"]["rep"]).post(f"/api/v1/scenarios/{scenario.pk}/promote").status_code == 403
    assert erp(scopes=["cycles:read"]).post(f"/api/v1/scenarios/{scenario.pk}/promote").status_code == 403
    draft = services.scenario_create(
        name="draft", cycle=world["cycle"], changes=CHANGES, user=world["users"]["planner"]
    )
    response = session(world["users"]["planner"]).post(f"/api/v1/scenarios/{draft.pk}/promote")
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_run"
    assert Decision.objects.count() == 0


def test_the_pages_list_show_compare_and_promote(world, django_assert_max_num_queries):
    from django.test import Client

    scenario = ran(world)
    client = Client()
    client.force_login(world["users"]["planner"])
    assert client.get("/scenarios/").status_code == 200
    page = client.get(f"/scenarios/{scenario.pk}/")
    assert page.status_code == 200 and b"Saturday shift" in page.content
    with django_assert_max_num_queries(12):
        compare = client.get(f"/scenarios/compare/?ids={scenario.pk}&family=PMP")
    assert compare.status_code == 200 and b"compare-data" in compare.content
    assert client.post(f"/scenarios/{scenario.pk}/promote/").status_code == 302
    assert Scenario.objects.get(pk=scenario.pk).promoted_at is not None
    rep = Client()
    rep.force_login(world["users"]["rep"])
    assert rep.get("/scenarios/").status_code == 403
    ops = Client()
    ops.force_login(world["users"]["ops"])
    assert ops.post(f"/scenarios/{scenario.pk}/promote/").status_code == 403


def test_the_admin_lists_scenarios_and_quota_change_requests(world):
    from django.test import Client

    admin = world["users"]["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    admin_client = Client()
    admin_client.force_login(admin)
    scenario = ran(world)
    services.scenario_promote(scenario=scenario, user=world["users"]["planner"])
    assert admin_client.get("/admin/scenarios/scenario/").status_code == 200
    assert admin_client.get(f"/admin/scenarios/scenario/{scenario.pk}/change/").status_code == 200
    assert admin_client.get("/admin/scenarios/quotachangerequest/").status_code == 200
