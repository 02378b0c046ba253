"""The S&OP cycle in headless Chromium: a sales manager enters their input, the planner edits
a family's consensus and sees that input beside it, the stages pass, the executive publishes."""

import os

import pytest

# The browser fixtures of the first browser test, shared (fixtures are found by name).
from tests.e2e.test_browser import CHROMIUM, SHOTS, browser_page, live_server_sessions, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Chromium")]
MONTH = "2026-07-01"


def switch_user(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    sign_in(page, base, username)


@pytest.mark.django_db(transaction=True)
def test_planner_edits_a_family_sees_the_manager_input_and_the_executive_publishes(live_server, browser_page):  # noqa: F811
    from home.demo import seed_demo
    from sop.models import DemandPlanLine, PlanCycle
    from tests.conftest import AS_OF

    seed_demo(scale="tiny", seed=7, as_of=AS_OF)
    page, base = browser_page, live_server.url
    demand = f"{base}/supply/cycle/{MONTH}/demand/"

    # The sales manager gives their input on the first family of their territories for August.
    sign_in(page, base, "manager")
    page.click("nav >> text=S&OP cycle")
    page.goto(demand)
    cell = page.locator('input.cell[data-measure="sales_override"][data-period="2026-08-01"]').first
    family = cell.get_attribute("data-family_code")
    page.fill("#edit-reason", "Tender won in the north")
    cell.fill("77")
    with page.expect_navigation():  # saved, then the page reloads with the stored rows
        cell.press("Tab")

    # The planner sets that family's consensus for August and sees the manager's 77 beside it.
    switch_user(page, base, "planner")
    page.goto(demand)
    page.fill("#edit-reason", "Agreed in the demand review")
    consensus = page.locator(
        f'input.cell[data-measure="consensus"][data-family_code="{family}"][data-period="2026-08-01"]'
    )
    consensus.fill("500")
    with page.expect_navigation():
        consensus.press("Tab")
    block = page.locator(f'tbody.family[data-family="{family}"]')
    assert block.locator('input[data-measure="consensus"][data-period="2026-08-01"]').input_value() == "500"
    assert "77" in block.locator("tr.m-sales_override").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "cycle-demand-review.png"), full_page=True)
    total = sum(
        DemandPlanLine.objects.filter(cycle__month=MONTH, family__code=family, period_start="2026-08-01").values_list(
            "consensus", flat=True
        )
    )
    assert total == 500

    # Demand review done (planner), supply review done (ops), the executive publishes.
    page.click("#advance")
    page.wait_for_selector("text=Supply review")
    switch_user(page, base, "ops")
    page.goto(f"{base}/supply/cycle/{MONTH}/supply/")
    page.click("#advance")
    page.wait_for_load_state("load")
    switch_user(page, base, "exec")
    page.goto(f"{base}/supply/cycle/{MONTH}/executive/")
    page.wait_for_selector("canvas#chart")
    page.fill(".stage-actions input[name=comment]", "Approved")
    page.click("#advance")
    page.wait_for_selector("text=this version is frozen and read-only")
    page.screenshot(path=str(SHOTS / "cycle-published.png"), full_page=True)
    assert PlanCycle.objects.get(month=MONTH).status == "published"
    page.goto(demand)
    assert page.locator("input.cell").count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_company_without_territories_edits_its_no_territory_row_in_the_demand_review(live_server, browser_page):  # noqa: F811
    from sop import cycle_services
    from sop.models import DemandPlanLine
    from tests.sop.cycle_world import MONTH as CYCLE_MONTH
    from tests.sop.cycle_world import no_territory_world

    world = no_territory_world()
    planner = world["users"]["planner"]
    planner.set_password("demo")
    planner.save()
    cycle_services.cycle_create(month=CYCLE_MONTH, user=planner)
    page, base = browser_page, live_server.url
    sign_in(page, base, "planner")
    page.goto(f"{base}/supply/cycle/{CYCLE_MONTH.isoformat()}/demand/")
    # The family's territories: one row, "No territory", editable.
    page.click('button.expand[data-family="PMP"][data-by="territory"]')
    detail = page.locator('tbody.detail[data-family="PMP"]')
    detail.locator("tr.m-statistical th", has_text="No territory").wait_for()
    cell = detail.locator('input.cell[data-measure="consensus"][data-period="2027-03-01"]')
    assert cell.get_attribute("data-no-territory") == "territory_code" and cell.input_value() == "90"
    page.fill("#edit-reason", "Trade fair orders")
    cell.fill("120")
    with page.expect_navigation():
        cell.press("Tab")
    assert dict(
        DemandPlanLine.objects.filter(cycle__month=CYCLE_MONTH, period_start="2027-03-01").values_list(
            "product__sku", "consensus"
        )
    ) == {"P1": 80, "P2": 40, "V1": 0}
    assert "no territory" in page.locator("body").inner_text()
