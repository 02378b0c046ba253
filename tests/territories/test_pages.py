"""Territory and quota pages: what a manager, a rep and others see, and the query counts."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from territories import selectors
from territories.models import Account, AssignmentRule, Quota, QuotaPlan, Territory

PAGES = [
    "/territories/",
    "/territories/quotas/?all=1",
    "/territories/attainment/",
    "/territories/attainment/?kind=territory",
    "/territories/balancing/",
    "/territories/rules/",
    "/territories/realignment/",
]


def user(name):
    return get_user_model().objects.get(username=name)


@pytest.mark.parametrize("path", PAGES)
def test_pages_open_for_a_manager_and_the_admin(demo, login, path):
    for name in ("manager", "admin"):
        assert login(name).get(path).status_code == 200, (name, path)


def test_a_rep_sees_their_own_territory_quota_and_attainment_only(demo, login):
    rep = login("rep1")
    tree = rep.get("/territories/")
    own = set(Territory.objects.for_user(user("rep1")).values_list("code", flat=True))
    assert [row["code"] for row in tree.context["rows"]] == sorted(own)
    assert len(own) == 1
    plan = QuotaPlan.objects.get(status="approved")
    page = rep.get(f"/territories/quotas/{plan.code}/")
    assert [o["owner"] for o in page.context["grid"]["owners"]] == ["rep1"]
    assert page.context["roll_up"] == []
    attainment = rep.get("/territories/attainment/")
    assert [row["owner"] for row in attainment.context["rows"]] == ["rep1"]
    for path in ("/territories/rules/", "/territories/realignment/", "/territories/balancing/"):
        assert rep.get(path).status_code == 403
    assert rep.get("/territories/attainment/lines/?kind=rep&owner=rep2&period=2026-05-01").status_code == 403
    assert rep.post(f"/territories/quotas/{plan.code}/", {"action": "submit"}).status_code == 403


def test_a_manager_sees_exactly_their_subtree(demo, login):
    manager = user("manager")
    region = Territory.objects.get(manager=manager)
    subtree = Territory.objects.filter(path__startswith=region.path)
    client = login("manager")

    tree = client.get("/territories/")
    assert [row["code"] for row in tree.context["rows"]] == list(
        subtree.order_by("path").values_list("code", flat=True)
    )
    reps = set(
        get_user_model()
        .objects.filter(territory_assignments__territory__in=subtree, territory_assignments__valid_to__isnull=True)
        .values_list("username", flat=True)
    ) | set(get_user_model().objects.filter(profile__manager=manager).values_list("username", flat=True))
    plan = QuotaPlan.objects.get(status="approved")
    grid = client.get(f"/territories/quotas/{plan.code}/").context["grid"]
    assert {o["owner"] for o in grid["owners"]} <= reps
    expected_quotas = Quota.objects.filter(plan=plan, measure="revenue", rep__username__in=reps).count()
    assert sum(1 for o in grid["owners"] for c in o["cells"] if c["amount"] is not None) == expected_quotas
    rules = client.get("/territories/rules/").context["rules"]
    assert len(rules) == AssignmentRule.objects.filter(territory__in=subtree).count()
    assert len(rules) < AssignmentRule.objects.count()
    attainment = client.get("/territories/attainment/").context["rows"]
    # Overlay specialists earn credit without a quota of their own.
    assert {o["owner"] for o in grid["owners"]} <= {row["owner"] for row in attainment} <= reps


def test_manager_counts_through_the_api(demo, login):
    from rest_framework.test import APIClient

    manager = user("manager")
    api = APIClient()
    api.force_authenticate(manager)
    region = Territory.objects.get(manager=manager)
    today = timezone.localdate()
    accounts = Account.objects.owned_by(Q_subtree(region), today).count()
    assert accounts < Account.objects.count()
    body = api.get("/api/v1/accounts/?page_size=1000").json()
    assert len(body["results"]) == accounts
    territories = api.get("/api/v1/territories/?page_size=1000").json()["results"]
    assert len(territories) == Territory.objects.filter(path__startswith=region.path).count()
    visible = set(selectors.visible_reps(user=manager).values_list("username", flat=True))
    quotas = api.get("/api/v1/quotas/?page_size=1000&measure=revenue").json()["results"]
    assert {q["rep_username"] for q in quotas} <= visible  # overlay reps carry no quota
    assert len(quotas) == Quota.objects.filter(measure="revenue", rep__username__in=visible).count()
    users = api.get("/api/v1/users/?page_size=1000").json()["results"]
    assert {u["username"] for u in users} == visible | {"manager"}
    outside = Territory.objects.exclude(path__startswith=region.path).filter(children__isnull=True).first()
    assert api.get(f"/api/v1/attainment/?territory_code={outside.code}").status_code == 404

    rep = APIClient()
    rep.force_authenticate(user("rep1"))
    assert [u["username"] for u in rep.get("/api/v1/users/").json()["results"]] == ["rep1"]
    assert {q["rep_username"] for q in rep.get("/api/v1/quotas/?page_size=1000").json()["results"]} == {"rep1"}
    assert rep.get("/api/v1/attainment/?rep_username=rep1&period_start=2026-05-01").status_code == 200
    assert rep.get("/api/v1/attainment/?rep_username=rep2&period_start=2026-05-01").status_code == 404


@pytest.mark.parametrize(
    ("username", "allowed"),
    [("admin", True), ("manager", True), ("rep1", True), ("exec", True), ("ops", False), ("planner", False)],
)
def test_attainment_page_and_api_follow_one_rule(demo, login, username, allowed):
    region = Territory.objects.filter(manager__username="manager").first()
    client = login(username)
    page = client.get("/territories/attainment/?kind=territory&measure=margin")
    api = client.get(f"/api/v1/attainment/?territory_code={region.code}&measure=margin&period_start=2026-05-01")
    if allowed:
        assert page.status_code == 200
        assert api.status_code in (200, 404)  # 404: a region the rep may not see
    else:
        assert (page.status_code, api.status_code) == (403, 403)
        assert api.json()["error"]["code"] == "permission_denied"
        assert client.get("/api/v1/quotas/").status_code == 403


def test_another_regions_manager_cannot_return_the_company_plan_through_the_api(demo, login):
    plan = QuotaPlan.objects.get(status="submitted")
    response = login("manager2").post(
        f"/api/v1/quota-plans/{plan.code}/return", {"comment": "no"}, content_type="application/json"
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "out_of_scope"
    plan.refresh_from_db()
    assert plan.status == "submitted"


def Q_subtree(region):
    from django.db.models import Q

    return Q(territory__path__startswith=region.path)


def test_quota_plan_workflow_through_the_page(demo, login):
    plan = QuotaPlan.objects.get(status="submitted")
    manager = login("manager")
    response = manager.post(f"/territories/quotas/{plan.code}/", {"action": "approve"}, follow=True)
    assert "other than who submitted" in response.content.decode()  # the manager submitted it in the demo
    # Another region's manager may neither approve nor return the company-wide plan.
    manager2 = login("manager2")
    for action in ("approve", "return"):
        response = manager2.post(
            f"/territories/quotas/{plan.code}/", {"action": action, "comment": "Mine now."}, follow=True
        )
        assert (
            f"covers territories beyond the ones you manage: only an administrator or a manager of all of "
            f"them may {action} it." in response.content.decode()
        )
    plan.refresh_from_db()
    assert plan.status == "submitted"
    admin = login("admin")
    admin.post(f"/territories/quotas/{plan.code}/", {"action": "approve", "comment": "Looks right."})
    plan.refresh_from_db()
    assert plan.status == "approved" and plan.approved_by.username == "admin"
    page = manager2.get(f"/territories/quotas/{plan.code}/")
    assert [c.text for c in page.context["comments"]] == ["Looks right."]


def test_top_down_allocation_from_the_page_sums_exactly(demo, login):
    client = login("manager")
    client.post("/territories/quotas/?all=1", {"code": "FY2027-v2", "fiscal_year": "2027"})
    plan = QuotaPlan.objects.get(code="FY2027-v2")
    region = Territory.objects.get(manager=user("manager"))
    client.post(
        f"/territories/quotas/{plan.code}/",
        {
            "action": "allocate",
            "target": "1000000",
            "basis": "even",
            "owner_kind": "territory",
            "node": region.code,
            "measure": "revenue",
        },
    )
    quotas = Quota.objects.filter(plan=plan)
    assert sum(q.amount for q in quotas) == 1_000_000
    leaves = region.children.count()
    assert quotas.values("territory").distinct().count() == leaves
    page = client.get(f"/territories/quotas/{plan.code}/")
    region_row = next(n for n in page.context["roll_up"] if n["code"] == region.code)
    assert region_row["target"] == 1_000_000 and region_row["gap"] == 0


def test_the_quota_page_shows_target_not_buildable_alerts(demo, login):
    from inventory.models import ProductFamily
    from sop.models import CapacityAlert

    plan = QuotaPlan.objects.get(status="approved")
    region = Territory.objects.get(manager=user("manager"))
    CapacityAlert.objects.create(
        fingerprint="t1",
        type="target_not_buildable",
        severity="critical",
        family=ProductFamily.objects.get(code="PMP"),
        territory=region,
        period_start=dt.date(plan.fiscal_year, 7, 1),
        amount=120,
        unit="units",
        message="Pumps quota for 2026-07 is 120 units above what the plants can build.",
    )
    page = login("manager").get(f"/territories/quotas/{plan.code}/").content.decode()
    assert "Targets the plants cannot build" in page and "120 units above" in page
    assert "120 units above" not in login("manager2").get(f"/territories/quotas/{plan.code}/").content.decode()


def test_demo_peak_units_quota_of_pumps_is_35_percent_above_history(demo):
    months = selectors.fiscal_year_months(fiscal_year=2026)
    units = selectors.family_unit_quotas(period_starts=months)
    by_month = units.loc[units["family_code"] == "PMP"].groupby("period_start")["quota_qty"].sum()
    from django.db.models import Sum

    from sales.models import SalesOrderLine

    july_2025 = (
        SalesOrderLine.objects.counting()
        .filter(
            product__family__code="PMP",
            order_date__gte=dt.date(2025, 7, 1),
            order_date__lt=dt.date(2025, 8, 1),
            territory__isnull=False,
        )
        .values("territory")
        .annotate(q=Sum("quantity"))
    )
    expected = sum(round(row["q"] * 135 / 100) for row in july_2025)
    assert by_month[dt.date(2026, 7, 1)] == pytest.approx(float(expected), abs=len(july_2025))


def test_page_queries_stay_flat_as_data_grows(demo, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    plan = QuotaPlan.objects.get(status="approved")
    paths = [
        "/territories/",
        "/territories/attainment/",
        "/territories/attainment/?kind=territory",
        "/territories/balancing/",
        f"/territories/quotas/{plan.code}/",
        "/territories/rules/",
        "/territories/realignment/",
    ]
    client = login("manager")

    def counts():
        out = {}
        for path in paths:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(path).status_code == 200
            out[path] = len(queries)
        return out

    before = counts()
    _grow()
    after = counts()
    assert all(after[p] <= before[p] <= 35 for p in paths), (before, after)


def _grow():
    """More accounts, territories, rules and quotas under the manager's region."""
    from territories.models import AccountAssignment

    region = Territory.objects.get(manager=user("manager"))
    plan = QuotaPlan.objects.get(status="approved")
    for i in range(5):
        leaf = Territory.objects.create(code=f"X{i}", name=f"Extra {i}", parent=region, path=f"{region.path}X{i}/")
        AssignmentRule.objects.create(code=f"XR{i}", territory=leaf, postal_prefix=f"9{i}")
        Quota.objects.create(plan=plan, territory=leaf, period_start=dt.date(plan.fiscal_year, 1, 1), amount=10)
        for j in range(10):
            account = Account.objects.create(external_id=f"X{i}-{j}", name="extra")
            AccountAssignment.objects.create(account=account, territory=leaf, valid_from=dt.date(2020, 1, 1))


def test_with_the_demo_a_peak_family_quota_is_not_buildable_and_the_quota_page_shows_it(demo, login):
    """Acceptance: the demo's pump quotas (+35 % in the summer peak) exceed what the plants
    can build; the supply reconciliation raises ``target_not_buildable`` and the manager sees
    it on the quota page."""
    from forecasting import services as forecasting
    from sop import services as supply
    from sop.models import CapacityAlert

    as_of = dt.date(2026, 6, 15)
    forecasting.forecast_run_execute(forecasting.forecast_run_create(as_of=as_of))
    supply.plan_run_execute(run_id=supply.plan_run_create(as_of=as_of).pk)
    alerts = CapacityAlert.objects.filter(type="target_not_buildable")
    assert alerts.filter(family__code="PMP", period_start__month__in=(7, 8, 9)).exists()
    manager = user("manager")
    plan = QuotaPlan.objects.get(status="approved")
    page = login("manager").get(f"/territories/quotas/{plan.code}/")
    shown = page.context["alerts"]
    assert shown and {a["family__code"] for a in shown} == {"PMP"}
    assert (
        len(shown)
        == CapacityAlert.objects.for_user(manager)
        .active()
        .filter(type="target_not_buildable", period_start__year=plan.fiscal_year)
        .count()
    )
    assert "Targets the plants cannot build" in page.content.decode()
