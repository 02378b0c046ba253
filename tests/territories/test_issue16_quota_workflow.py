"""Quota workflow defects of issue 16 (each test failed before its fix)."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from territories import services
from territories.models import Quota, QuotaPlan, Territory

pytestmark = pytest.mark.django_db


def user(name):
    return get_user_model().objects.get(username=name)


def submitted(demo):
    return QuotaPlan.objects.get(status="submitted")  # the demo's next-year plan, submitted by "manager"


def test_the_submitter_sees_no_approve_button_and_the_executive_does(demo, login):
    plan = submitted(demo)
    assert plan.submitted_by.username == "manager"
    mine = login("manager").get(f"/territories/quotas/{plan.code}/").content.decode()
    assert 'value="approve"' not in mine and 'value="submit"' not in mine
    executive = login("exec")
    page = executive.get(f"/territories/quotas/{plan.code}/").content.decode()
    assert 'value="approve"' in page and 'value="return"' in page
    executive.post(f"/territories/quotas/{plan.code}/", {"action": "approve", "comment": "Agreed."})
    plan.refresh_from_db()
    assert plan.status == "approved" and plan.approved_by.username == "exec"
    # An executive reviews; never edits quotas.
    response = executive.post(f"/territories/quotas/{plan.code}/", {"action": "set", "owner": "rep1", "amount": "1"})
    assert response.status_code == 403


def test_quota_plans_opens_the_list_and_marks_superseded_versions(demo, login):
    old = QuotaPlan.objects.get(status="approved")
    newer = services.quota_plan_create(code=f"FY{old.fiscal_year}-v2", fiscal_year=old.fiscal_year)
    QuotaPlan.objects.filter(pk=newer.pk).update(
        status="approved", approved_by=user("exec"), approved_at=timezone.now()
    )
    client = login("manager")
    response = client.get("/territories/quotas/")
    assert response.status_code == 200 and response.templates[0].name == "territories/quota_plans.html"
    standing = {p.code: p.standing for p in response.context["plans"]}
    assert standing[old.code] == "superseded" and standing[newer.code] == "in_force"
    assert "superseded" in client.get(f"/territories/quotas/{old.code}/").content.decode()


def test_the_of_menu_lists_each_node_once_and_units_allocation_returns_to_units(demo, login):
    client = login("manager")
    client.post("/territories/quotas/", {"code": "FY2027-v2", "fiscal_year": "2027"})
    plan = QuotaPlan.objects.get(code="FY2027-v2")
    page = client.get(f"/territories/quotas/{plan.code}/")
    codes = [n.code for n in page.context["nodes"]]
    assert codes and len(codes) == len(set(codes))
    region = Territory.objects.get(manager=user("manager"))
    response = client.post(
        f"/territories/quotas/{plan.code}/",
        {
            "action": "allocate",
            "target": "1000",
            "basis": "even",
            "owner_kind": "territory",
            "node": region.code,
            "measure": "units",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("?measure=units")


def test_editing_one_quota_puts_no_ramp_badge_on_a_rep_who_is_not_new(demo, login):
    client = login("manager")
    client.post("/territories/quotas/", {"code": "FY2027-v2", "fiscal_year": "2027"})
    plan = QuotaPlan.objects.get(code="FY2027-v2")
    region = Territory.objects.get(manager=user("manager"))
    client.post(
        f"/territories/quotas/{plan.code}/",
        {
            "action": "allocate",
            "target": "1200000",
            "basis": "even",
            "owner_kind": "rep",
            "node": region.code,
            "measure": "revenue",
            "ramp": "on",
        },
    )
    grid = client.get(f"/territories/quotas/{plan.code}/").context["grid"]
    veteran = next(o for o in grid["owners"] if not o["ramped"])
    month = plan_months(plan)[3]
    client.post(
        f"/territories/quotas/{plan.code}/",
        {
            "action": "set",
            "measure": "revenue",
            "owner_kind": "rep",
            "owner": veteran["owner"],
            "period_start": month.isoformat(),
            "amount": "12345",
        },
    )
    assert (
        Quota.objects.get(plan=plan, rep__username=veteran["owner"], period_start=month, measure="revenue").amount
        == 12345
    )
    grid = client.get(f"/territories/quotas/{plan.code}/").context["grid"]
    assert next(o for o in grid["owners"] if o["owner"] == veteran["owner"])["ramped"] is False


def plan_months(plan):
    from territories.selectors import fiscal_year_months

    return fiscal_year_months(fiscal_year=plan.fiscal_year)


def test_the_buildability_panel_belongs_to_the_version_shown_and_checks_a_draft(demo, login):
    from inventory.models import ProductFamily
    from sop.models import CapacityAlert, FamilyPlan, PlanRun

    approved = QuotaPlan.objects.get(status="approved")
    pumps = ProductFamily.objects.get(code="PMP")
    region = Territory.objects.get(manager=user("manager"))
    leaf = Territory.objects.filter(path__startswith=region.path, children__isnull=True).first()
    month = dt.date(approved.fiscal_year, 7, 1)
    CapacityAlert.objects.create(
        fingerprint="t1",
        type="target_not_buildable",
        severity="critical",
        family=pumps,
        territory=region,
        period_start=month,
        amount=120,
        unit="units",
        message="Pumps quota of the approved plan: 120 units short.",
    )
    run = PlanRun.objects.create(
        as_of=dt.date(approved.fiscal_year, 6, 15),
        horizon_start=dt.date(approved.fiscal_year, 6, 1),
        status=PlanRun.Status.COMPLETED,
        finished_at=timezone.now(),
    )
    FamilyPlan.objects.create(
        run=run,
        family=pumps,
        period_start=month,
        demand_qty=1000,
        forecast_qty=1000,
        target_qty=0,
        feasible_qty=300,
        unserved_qty=700,
        not_buildable_qty=0,
    )
    draft = services.quota_plan_create(code=f"FY{approved.fiscal_year}-draft", fiscal_year=approved.fiscal_year)
    Quota.objects.create(plan=draft, territory=leaf, family=pumps, measure="units", period_start=month, amount=500)
    client = login("manager")
    page = client.get(f"/territories/quotas/{draft.code}/")
    assert page.context["alerts"] == []  # the approved version's alert is not this draft's
    html = page.content.decode()
    assert "120 units short" not in html
    rows = page.context["check"]["rows"]
    assert [(r["territory_code"], r["period_start"], round(r["short_qty"])) for r in rows] == [
        (leaf.code, month, 200)
    ]  # min(500, 1000) − 300
    assert "Targets the plants cannot build" in html and f"#{run.pk}" in html
    # The version the reconciliation reads still shows its alerts.
    assert "120 units short" in client.get(f"/territories/quotas/{approved.code}/").content.decode()
