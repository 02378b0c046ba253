"""The S&OP cycle's pages: who sees them, what they show, flat query counts."""

import datetime as dt

import pytest
from django.test import Client

from sop import cycle_selectors, cycle_services
from sop.models import Decision
from tests.sop.cycle_world import AS_OF, MAR, MONTH, cycle_world, grow, sell

M = MONTH.isoformat()


@pytest.fixture
def world(db):
    return cycle_world()


@pytest.fixture
def cycle(world):
    return cycle_services.cycle_create(month=MONTH, user=world["users"]["planner"])


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


PAGES = [
    "/supply/cycle/",
    f"/supply/cycle/?month={M}",
    f"/supply/cycle/{M}/demand/",
    f"/supply/cycle/{M}/supply/",
    f"/supply/cycle/{M}/executive/",
    f"/supply/cycle/{M}/decisions/",
    "/supply/cycle/versions/",
]


def test_every_cycle_page_opens_for_the_cycle_roles_and_not_for_reps(world, cycle):
    for name in ("planner", "ops", "exec", "admin", "mgr_east"):
        client = signed_in(world["users"][name])
        for page in PAGES:
            assert client.get(page).status_code == 200, (name, page)
    rep = signed_in(world["users"]["rep"])
    for page in PAGES:
        assert rep.get(page).status_code == 403, page


def test_the_demand_review_shows_the_grid_and_the_editable_cells_by_role(world, cycle):
    planner = signed_in(world["users"]["planner"]).get(f"/supply/cycle/{M}/demand/").content.decode()
    assert 'data-measure="consensus"' in planner and 'data-measure="sales_override"' not in planner
    assert 'data-family_code="PMP" data-period="2027-03-01" data-measure="consensus" data-etag="0-6"' in planner
    assert 'id="chart-data"' in planner and "js/cycle.js" in planner and "<script>" not in planner
    manager = signed_in(world["users"]["mgr_east"]).get(f"/supply/cycle/{M}/demand/").content.decode()
    assert 'data-measure="sales_override"' in manager and 'data-measure="consensus"' not in manager
    assert 'data-family="VLV"' not in manager  # V1 sells in WEST only
    ops = signed_in(world["users"]["ops"]).get(f"/supply/cycle/{M}/demand/").content.decode()
    assert 'input class="cell"' not in ops


def test_owners_advance_from_the_page_and_see_their_stage_on_the_home_page(world, cycle):
    planner = signed_in(world["users"]["planner"])
    home = planner.get("/").content.decode()
    assert 'id="cycle-panel"' in home and "2027-03-01" in home
    response = planner.post(f"/supply/cycle/{M}/advance/", {"comment": "actuals loaded"})
    assert response.status_code == 302
    cycle.refresh_from_db()
    assert cycle.stage == "demand_review"
    ops_home = signed_in(world["users"]["ops"]).get("/").content.decode()
    assert "No stage of the cycle waits for you." in ops_home
    back = planner.post(f"/supply/cycle/{M}/send-back/", {"comment": ""}, follow=True).content.decode()
    assert "a comment is required" in back


def test_decisions_are_recorded_from_the_page(world, cycle):
    ops = signed_in(world["users"]["ops"])
    ops.post(
        f"/supply/cycle/{M}/decision/",
        {"topic": "Overtime", "family_code": "PMP", "work_center_code": "WC1", "due_date": "2027-02-20"},
    )
    item = Decision.objects.get(cycle=cycle)
    assert (item.topic, item.family.code, item.work_center.code) == ("Overtime", "PMP", "WC1")
    page = ops.get(f"/supply/cycle/{M}/decisions/").content.decode()
    assert "Overtime" in page


def test_demand_review_query_count_stays_flat(world, cycle, django_assert_max_num_queries):
    client = signed_in(world["users"]["planner"])
    client.get(f"/supply/cycle/{M}/demand/")
    with django_assert_max_num_queries(30):
        client.get(f"/supply/cycle/{M}/demand/")
    cycle_services.decision_create(cycle=cycle, user=world["users"]["planner"], topic="t")
    with django_assert_max_num_queries(30):
        client.get(f"/supply/cycle/{M}/executive/")
    with django_assert_max_num_queries(30):
        client.get(f"/supply/cycle/{M}/supply/")
    assert AS_OF and MAR


def history_of(cycle, user, **filters) -> dict[str, float]:
    chart = cycle_selectors.demand_chart(cycle=cycle, user=user, filters=filters)
    return {label: units for label, units in zip(chart["labels"], chart["history"], strict=True) if units}


def test_the_chart_history_is_the_actuals_the_cycle_opened_with_then_the_sales_since(world):
    # Given sales before the cycle opens (the forecast of 2027-02-10 was fitted up to January):
    sell("P1", "EAST-1", dt.date(2025, 2, 27), 99)  # before the 24 months the chart shows
    sell("P1", "EAST-1", dt.date(2026, 1, 15), 10)
    sell("P2", None, dt.date(2026, 12, 3), 4)  # credited to no territory
    sell("P1", "EAST-1", dt.date(2027, 1, 5), 5)
    sell("V1", "WEST-1", dt.date(2027, 1, 20), 7)
    sell("P1", "EAST-1", dt.date(2027, 1, 21), 100, status="cancelled")  # not demand
    sell("P1", "EAST-2", dt.date(2027, 2, 2), 3)  # the month the cycle is worked in
    planner, users = world["users"]["planner"], world["users"]
    cycle = cycle_services.cycle_create(month=MONTH, user=planner)
    assert cycle.history_through == dt.date(2027, 1, 1)
    # When more sales arrive after it opened: February's show, a late January line does not
    # (the months up to January are the actuals its forecast and seasonal naive were computed on).
    sell("P1", "EAST-1", dt.date(2027, 2, 9), 2)
    sell("V1", "WEST-1", dt.date(2027, 1, 30), 50)
    # Then every viewer sees the months in their scope and filters:
    assert history_of(cycle, planner) == {"2026-01": 10, "2026-12": 4, "2027-01": 12, "2027-02": 5}
    assert history_of(cycle, planner, family_code="PMP") == {"2026-01": 10, "2026-12": 4, "2027-01": 5, "2027-02": 5}
    assert history_of(cycle, planner, territory_code="EAST-1") == {"2026-01": 10, "2027-01": 5, "2027-02": 2}
    assert history_of(cycle, planner, region_code="WEST") == {"2027-01": 7}
    assert history_of(cycle, users["mgr_east"]) == {"2026-01": 10, "2027-01": 5, "2027-02": 5}
    assert history_of(cycle, users["mgr_west"]) == {"2027-01": 7}
    assert history_of(cycle, users["ops"]) == {}  # operations leads see no sales lines, nor their sums
    chart = cycle_selectors.demand_chart(cycle=cycle, user=planner)
    assert chart["labels"][0] == "2025-03" and chart["labels"][23] == "2027-02" and len(chart["labels"]) == 24 + 3
    assert chart["statistical"][24:] == [220.0, 220.0, 220.0] and chart["history"][24:] == [None] * 3
    page = signed_in(planner).get(f"/supply/cycle/{M}/demand/?family_code=PMP").content.decode()
    assert '"2026-12", "2027-01"' in page and "4.0, 5.0, 5.0" in page


def _cycle_with_activity(world, *, edits: int, decisions: int):
    """A cycle with edits, decisions and a finished plan run (so every page has all it shows)."""
    from sop.services import plan_run_execute

    users = world["users"]
    cycle = cycle_services.cycle_create(month=MONTH, user=users["planner"])
    for i in range(edits):
        row = cycle_selectors.demand_plan_row(
            cycle=cycle, user=users["planner"], level="family", keys={"family_code": "PMP"}, period_start=MAR
        )
        cycle_services.demand_plan_edit(
            cycle=cycle,
            user=users["planner"],
            level="family",
            keys={"family_code": "PMP"},
            period_start=MAR,
            measure="consensus",
            value=200 + i,
            reason="growth",
            etag=row["etag"],
        )
    for i in range(decisions):
        cycle_services.decision_create(
            cycle=cycle,
            user=users["ops"],
            topic=f"Decision {i}",
            family_code="PMP",
            work_center_code="WC1",
            owner_id=users["planner"].pk,
        )
    run = cycle_services.cycle_plan_run_start(cycle=cycle, user=users["ops"], as_of=AS_OF)
    assert plan_run_execute(run_id=run.pk).status == "completed"
    return cycle


COUNTED = [
    "/supply/cycle/",
    f"/supply/cycle/?month={M}",
    f"/supply/cycle/{M}/demand/",
    f"/supply/cycle/{M}/demand/?family_code=PMP&territory_code=EAST",
    f"/supply/cycle/{M}/supply/",
    f"/supply/cycle/{M}/executive/",
    f"/supply/cycle/{M}/decisions/",
    "/supply/cycle/versions/",
    f"/api/v1/plan-cycles/{M}/demand-plan/?level=family",
    f"/api/v1/plan-cycles/{M}/demand-plan/?level=territory",
]


def _queries(world) -> dict[tuple[str, str], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for name in ("planner", "mgr_east", "exec"):
        client = signed_in(world["users"][name])
        for url in COUNTED:
            client.get(url)  # warm the per-process caches (roles, organisation settings)
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200, (name, url)
            counts[(name, url)] = len(ctx)
    return counts


def test_cycle_pages_query_counts_stay_flat_as_data_grows(world, django_assert_max_num_queries):
    # Given the small world's cycle with 1 edit and 1 decision, measured page by page:
    small = _queries_of(world, edits=1, decisions=1)
    # When the data grows (a family of 6 products sold in 7 territories, 4 of them new, 14
    # months of their sales, more quotas, 5 edits, 6 decisions) and the cycle is opened again:
    cycle_services.cycle_delete(cycle=cycle_selectors.cycle_for(user=world["users"]["planner"], month=MONTH))
    grow(world)
    grown = _queries_of(world, edits=5, decisions=6)
    # Then no page runs more queries than before.
    assert {k: v for k, v in grown.items() if v > small[k]} == {}
    assert max(small.values()) <= 30
    planner = signed_in(world["users"]["planner"])
    planner.get(f"/supply/cycle/{M}/demand/")
    with django_assert_max_num_queries(small[("planner", f"/supply/cycle/{M}/demand/")]):
        planner.get(f"/supply/cycle/{M}/demand/")


def _queries_of(world, *, edits: int, decisions: int) -> dict[tuple[str, str], int]:
    _cycle_with_activity(world, edits=edits, decisions=decisions)
    return _queries(world)


def test_the_demand_grid_shows_an_edit_and_the_plans_feasible_on_the_next_view(world, cycle):
    """The grid's sums are kept per process while the cycle row is unchanged (``core.memo``):
    an edit (new revision) and the cycle's plan run (feasible quantities) both show at once."""
    from sop.services import plan_run_execute
    from tests.sop.test_cycle_services import edit

    planner = signed_in(world["users"]["planner"])
    first = planner.get(f"/supply/cycle/{M}/demand/").context["grid"]
    assert first["rows"][0]["cells"][0]["feasible"] is None
    edit(cycle, world["users"]["planner"], 1200)
    pmp = next(r for r in planner.get(f"/supply/cycle/{M}/demand/").context["grid"]["rows"] if r["key"] == "PMP")
    march = next(c for c in pmp["cells"] if c and c["period_start"] == MAR)
    assert march["consensus"] == 1200 and march["etag"] != "0-6"
    run = cycle_services.cycle_plan_run_start(cycle=cycle, user=world["users"]["ops"], as_of=AS_OF)
    planner.get(f"/supply/cycle/{M}/demand/")  # viewed while the run is queued
    assert plan_run_execute(run_id=run.pk).status == "completed"
    pmp = next(r for r in planner.get(f"/supply/cycle/{M}/demand/").context["grid"]["rows"] if r["key"] == "PMP")
    march = next(c for c in pmp["cells"] if c and c["period_start"] == MAR)
    assert march["feasible"] is not None and march["feasible"] > 0
