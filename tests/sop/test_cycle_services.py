"""The S&OP cycle's services on a hand-countable world (tests/sop/cycle_world.py)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from core.errors import ApplicationError
from sop import cycle_selectors, cycle_services
from sop.models import CapacityAlert, DemandPlanEdit, PlanCycle
from tests.sop.cycle_world import APR, AS_OF, MAR, MAY, MONTH, cycle_world, grain


@pytest.fixture
def world(db):
    return cycle_world()


@pytest.fixture
def cycle(world):
    return cycle_services.cycle_create(month=MONTH, user=world["users"]["planner"])


def family_row(cycle, user, period=MAR, family="PMP", **filters):
    return cycle_selectors.demand_plan_row(
        cycle=cycle, user=user, level="family", keys={"family_code": family, **filters}, period_start=period
    )


def edit(cycle, user, value, *, level="family", keys=None, period=MAR, measure="consensus", etag=None):
    keys = {"family_code": "PMP"} if keys is None else keys
    if etag is None:
        etag = cycle_selectors.demand_plan_row(cycle=cycle, user=user, level=level, keys=keys, period_start=period)[
            "etag"
        ]
    return cycle_services.demand_plan_edit(
        cycle=cycle,
        user=user,
        level=level,
        keys=keys,
        period_start=period,
        measure=measure,
        value=value,
        reason="meeting of the 8th",
        etag=etag,
    )


def test_a_new_cycle_copies_the_forecast_with_stages_due_on_working_days(world, cycle):
    assert cycle.stage == "data" and cycle.status == "open" and cycle.lines_count == 7 * 3
    stages = list(cycle.stages.values_list("code", "owner_role", "due_date", "status"))
    # February 2027 starts on a Monday: working days 3, 8, 12, 15, 16 of the default calendar.
    assert stages == [
        ("data", "planner", dt.date(2027, 2, 3), "active"),
        ("demand_review", "planner", dt.date(2027, 2, 10), "pending"),
        ("supply_review", "ops_lead", dt.date(2027, 2, 16), "pending"),
        ("executive_review", "executive", dt.date(2027, 2, 19), "pending"),
        ("published", "executive", dt.date(2027, 2, 22), "pending"),
    ]
    # Consensus starts at the statistical forecast; the quotas land as targets by forecast share:
    # EAST's 900 PMP units in March over P1@EAST-1 (100), P1@EAST-2 (50), P2@EAST-1 (0), P3@EAST-2 (0).
    assert grain(cycle) == {
        ("P1", "EAST-1"): 100,
        ("P1", "EAST-2"): 50,
        ("P2", "EAST-1"): 0,
        ("P2", "WEST-1"): 30,
        ("P3", "EAST-2"): 0,
        ("P3", "WEST-1"): 0,
        ("V1", "WEST-1"): 40,
    }
    assert grain(cycle, "target") == {
        ("P1", "EAST-1"): 600,
        ("P1", "EAST-2"): 300,
        ("P2", "EAST-1"): 0,
        ("P2", "WEST-1"): None,
        ("P3", "EAST-2"): 0,
        ("P3", "WEST-1"): None,
        ("V1", "WEST-1"): None,
    }
    assert grain(cycle, "target", APR)[("P2", "WEST-1")] == 100
    with pytest.raises(ApplicationError) as exc:
        cycle_services.cycle_create(month=MONTH, user=world["users"]["planner"])
    assert exc.value.status_code == 409


def test_a_family_edit_to_1200_spreads_in_proportion_and_every_level_sums_exactly(world, cycle):
    planner = world["users"]["planner"]
    row = edit(cycle, planner, 1200)
    # 1,200 × 100/180 = 666.67, × 50/180 = 333.33, × 30/180 = 200; the zero rows stay 0. Floors
    # 666 + 333 + 200 = 1,199; the spare unit goes to the largest remainder (.67: P1@EAST-1).
    assert grain(cycle) == {
        ("P1", "EAST-1"): 667,
        ("P1", "EAST-2"): 333,
        ("P2", "EAST-1"): 0,
        ("P2", "WEST-1"): 200,
        ("P3", "EAST-2"): 0,
        ("P3", "WEST-1"): 0,
        ("V1", "WEST-1"): 40,
    }
    assert row["consensus"] == 1200 and row["etag"] == "1-6"
    by = {
        level: {
            tuple(v for k, v in r.items() if k.endswith(("_sku", "_code"))): r["consensus"]
            for r in cycle_selectors.demand_plan_rows(
                cycle=cycle, user=planner, level=level, filters={"period_start": MAR}
            )
        }
        for level in ("product", "family", "territory", "region", "total")
    }
    assert by["family"] == {("PMP",): 1200, ("VLV",): 40}
    assert by["product"] == {("P1", "PMP"): 1000, ("P2", "PMP"): 200, ("P3", "PMP"): 0, ("V1", "VLV"): 40}
    assert by["territory"] == {("EAST-1", "EAST"): 667, ("EAST-2", "EAST"): 333, ("WEST-1", "WEST"): 240}
    assert by["region"] == {("EAST",): 1000, ("WEST",): 240}
    assert by["total"] == {(): 1240}
    audit = DemandPlanEdit.objects.get(cycle=cycle)
    assert (
        audit.user,
        audit.level,
        audit.keys,
        audit.period_start,
        audit.measure,
        audit.before,
        audit.after,
        audit.reason,
        audit.rows_changed,
    ) == (planner, "family", {"family_code": "PMP"}, MAR, "consensus", 180.0, 1200.0, "meeting of the 8th", 3)


def test_all_zero_rows_spread_by_the_forecast_then_evenly(world, cycle):
    planner = world["users"]["planner"]
    edit(cycle, planner, 0, period=APR)
    assert set(grain(cycle, period=APR).values()) == {0, 30, 40} - {30} | {0, 40}
    # Every PMP row is 0 now: 7 units go by the statistical forecast 100 : 50 : 30 → 3.89, 1.94,
    # 1.17 → floors 3, 1, 1 and two spare units to the largest remainders (.94, then .89).
    edit(cycle, planner, 7, period=APR)
    april = grain(cycle, period=APR)
    assert (april[("P1", "EAST-1")], april[("P1", "EAST-2")], april[("P2", "WEST-1")]) == (4, 2, 1)
    # P3 has no forecast anywhere: 5 units go evenly, 2.5 each, the spare unit to the earlier row.
    edit(cycle, planner, 5, level="product", keys={"product_sku": "P3"}, period=MAY)
    may = grain(cycle, period=MAY)
    assert (may[("P3", "EAST-2")], may[("P3", "WEST-1")]) == (3, 2)


def test_the_second_editor_gets_412_and_the_first_value_stands(world, cycle):
    first, second = world["users"]["planner"], world["users"]["planner2"]
    seen = family_row(cycle, second)["etag"]
    edit(cycle, first, 1200)
    with pytest.raises(ApplicationError) as exc:
        edit(cycle, second, 999, etag=seen)
    assert exc.value.status_code == 412 and exc.value.code == "precondition_failed"
    assert family_row(cycle, first)["consensus"] == 1200
    assert DemandPlanEdit.objects.filter(cycle=cycle).count() == 1


def test_a_sales_manager_edits_the_sales_input_of_their_territories_only(world, cycle):
    mgr = world["users"]["mgr_east"]
    # Their PMP row in March is EAST's: P1@EAST-1 100, P1@EAST-2 50, P2@EAST-1 0, P3@EAST-2 0.
    row = family_row(cycle, mgr)
    assert row["consensus"] == 150 and row["sales_override"] is None
    row = edit(cycle, mgr, 300, measure="sales_override")
    assert row["sales_override"] == 300
    overrides = grain(cycle, "sales_override")
    assert overrides == {
        ("P1", "EAST-1"): 200,
        ("P1", "EAST-2"): 100,
        ("P2", "EAST-1"): 0,
        ("P3", "EAST-2"): 0,
        ("P2", "WEST-1"): None,
        ("P3", "WEST-1"): None,
        ("V1", "WEST-1"): None,
    }
    # The planner sees the input beside the consensus.
    assert family_row(cycle, world["users"]["planner"])["sales_override"] == 300
    for kwargs in (
        {"keys": {"family_code": "PMP", "territory_code": "WEST"}, "etag": "0-3"},
        {"level": "territory", "keys": {"territory_code": "WEST-1"}, "etag": "0-3"},
        {"level": "region", "keys": {"region_code": "WEST"}, "etag": "0-4"},
    ):
        with pytest.raises(ApplicationError) as exc:
            edit(cycle, mgr, 10, measure="sales_override", **kwargs)
        assert exc.value.status_code == 403, kwargs
    with pytest.raises(ApplicationError) as exc:
        edit(cycle, mgr, 10, measure="consensus")
    assert exc.value.status_code == 403
    with pytest.raises(ApplicationError) as exc:
        edit(cycle, world["users"]["planner"], 10, measure="sales_override")
    assert exc.value.status_code == 403
    assert grain(cycle)[("P1", "EAST-1")] == 100


def test_stages_advance_by_their_owners_only_and_a_send_back_needs_a_reason(world, cycle):
    users = world["users"]
    cycle = cycle_services.cycle_advance(cycle=cycle, user=users["planner"], comment="actuals in")
    cycle = cycle_services.cycle_advance(cycle=cycle, user=users["planner"])
    assert cycle.stage == "supply_review" and cycle.plan_run_id
    with pytest.raises(ApplicationError) as exc:
        cycle_services.cycle_advance(cycle=cycle, user=users["planner"])
    assert exc.value.status_code == 403
    with pytest.raises(ApplicationError) as exc:
        cycle_services.cycle_send_back(cycle=cycle, user=users["ops"], comment="  ")
    assert exc.value.code == "comment_required"
    cycle = cycle_services.cycle_send_back(cycle=cycle, user=users["ops"], comment="P1 needs a second look")
    assert cycle.stage == "demand_review"
    assert cycle.stages.get(code="demand_review").comment == "P1 needs a second look"
    cycle = cycle_services.cycle_advance(cycle=cycle, user=users["planner"])
    cycle = cycle_services.cycle_advance(cycle=cycle, user=users["ops"])
    with pytest.raises(ApplicationError):
        cycle_services.cycle_advance(cycle=cycle, user=users["ops"])
    cycle = cycle_services.cycle_advance(cycle=cycle, user=users["exec"], comment="approved")
    assert cycle.status == PlanCycle.Status.PUBLISHED and cycle.published_by == users["exec"]
    for call in (
        lambda: cycle_services.cycle_advance(cycle=cycle, user=users["exec"]),
        lambda: edit(cycle, users["planner"], 1, etag="0-6"),
    ):
        with pytest.raises(ApplicationError) as exc:
            call()
        assert exc.value.status_code == 409


def test_the_cycle_plan_run_reconciles_the_consensus_and_raises_hand_worked_alerts(world, cycle):
    from sop.services import plan_run_execute

    users = world["users"]
    edit(cycle, users["planner"], 1200)  # March: P1 1,000 units (1,000 h), P2 200 units (400 h)
    run = cycle_services.cycle_plan_run_start(cycle=cycle, user=users["ops"], as_of=AS_OF)
    run = plan_run_execute(run_id=run.pk)
    assert run.status == "completed", run.error
    alerts = {
        (
            a.type,
            a.family_id and a.family.code,
            a.territory_id and a.territory.code,
            a.work_center_id and a.work_center.code,
            a.period_start,
        ): (a.severity, a.amount)
        for a in CapacityAlert.objects.select_related("family", "territory", "work_center")
    }
    # WC1 in March: 1,400 h of load on 1,000 h available → 400 h over, critical.
    assert alerts[("capacity_overload", None, None, "WC1", MAR)] == ("critical", 400)
    # Both products are cut to 1,000/1,400 = 5/7 of their need: P1 714.29 + P2 142.86 = 857.14
    # feasible; EAST's quota of 900 asks min(900, 1,200) − 857.14 = 42.86 the plants cannot
    # build: 4.8 % of the quota → warning.
    assert alerts[("target_not_buildable", "PMP", "EAST", None, MAR)] == ("warning", Decimal("42.86"))
    # WEST's April quota of 100 against its consensus of 30 (P2@WEST-1) → 70 above, 233 % → critical.
    assert alerts[("target_at_risk", "PMP", "WEST", None, APR)] == ("critical", 70)
    # The feasible quantities are back in the demand plan, shared by consensus per product.
    feasible = grain(cycle, "feasible")
    assert feasible[("P1", "EAST-1")] == pytest.approx(1000 * 5 / 7 * 667 / 1000, abs=1e-3)
    assert feasible[("P2", "WEST-1")] == pytest.approx(200 * 5 / 7, abs=1e-3)
    cycle.refresh_from_db()
    assert cycle.plan_run_id == run.pk
    review = cycle_selectors.supply_review(cycle=cycle)
    march = review["rows"][0]["cells"][0]
    assert (
        march["consensus"],
        round(march["feasible"], 2),
        round(march["shortfall"], 2),
        march["bottleneck"],
        march["utilisation"],
    ) == (1200, 857.14, 342.86, "WC1", 140)


def test_decisions_link_what_they_concern(world, cycle):
    item = cycle_services.decision_create(
        cycle=cycle,
        user=world["users"]["ops"],
        topic="Overtime on WC1",
        decision="Saturday shifts in March",
        family_code="PMP",
        work_center_code="WC1",
        due_date=MAR,
    )
    assert (item.family.code, item.work_center.code, item.status) == ("PMP", "WC1", "open")
    with pytest.raises(ApplicationError) as exc:
        cycle_services.decision_create(cycle=cycle, user=world["users"]["ops"], topic="x", product_sku="NOPE")
    assert exc.value.details == {"product": "No product 'NOPE'."}
    with translation.override("de"), pytest.raises(ApplicationError) as exc:
        cycle_services.decision_create(cycle=cycle, user=world["users"]["ops"], topic="x", work_center_code="WC9")
    assert exc.value.details == {"work_center": "Kein Arbeitsplatz 'WC9'."}
    with pytest.raises(ApplicationError) as exc:
        cycle_services.decision_create(cycle=cycle, user=world["users"]["rep"], topic="x")
    assert exc.value.status_code == 403


def test_the_next_cycle_starts_from_the_published_consensus(world, cycle):
    users = world["users"]
    edit(cycle, users["planner"], 1200, period=APR)
    for user in ("planner", "planner", "ops", "exec"):
        cycle = cycle_services.cycle_advance(cycle=cycle, user=users[user])
    nxt = cycle_services.cycle_create(month=APR, user=users["planner"])
    assert nxt.previous_cycle == cycle
    assert grain(nxt, period=APR)[("P1", "EAST-1")] == grain(cycle, period=APR)[("P1", "EAST-1")] == 667
    # May was planned at the statistical forecast in both.
    changes = {c["family_code"]: c for c in cycle_selectors.changes_since_previous(cycle=nxt)}
    assert changes["PMP"]["previous"] == changes["PMP"]["current"] == 1200 + 180
