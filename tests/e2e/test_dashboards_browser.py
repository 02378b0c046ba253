"""Each role signs in and its home draws its charts in Chromium, with no console error and no
CSP violation; the chart's table and CSV link are there for each chart."""

import os

import pytest

from tests.e2e.test_browser import CHROMIUM, SHOTS, browser_page, live_server_sessions, sign_in  # noqa: F401
from tests.e2e.test_csp import Watcher

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Chromium: apt-get install chromium"),
]

HOMES = {
    "manager": ["territory_attainment", "rep_attainment", "forecast"],
    "ops": ["severity", "aged", "bottlenecks"],
    "planner": ["accuracy"],
    "rep1": ["pace"],
    "exec": ["revenue", "severity"],
}


@pytest.mark.django_db(transaction=True)
def test_each_role_home_draws_its_charts(live_server, browser_page, monkeypatch):  # noqa: F811
    from home.demo import seed_demo
    from sop.models import PlanRun
    from sop.services import plan_run_create, plan_run_execute
    from tests.conftest import AS_OF

    seed_demo(scale="tiny", seed=7, as_of=AS_OF)
    if not PlanRun.objects.exists():
        plan_run_execute(run_id=plan_run_create(as_of=AS_OF, trigger="command").pk)
    monkeypatch.setattr("dashboards.views.today", lambda: AS_OF)
    page = browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    watcher = Watcher(page)
    for username, chart_ids in HOMES.items():
        page.context.clear_cookies()
        sign_in(page, live_server.url, username)
        page.wait_for_load_state("networkidle")
        for chart_id in chart_ids:
            drawn = page.evaluate(
                """(id) => { const c = document.querySelector(`#${id} canvas`);
                             const chart = c && window.Chart && window.Chart.getChart(c);
                             return chart ? chart.data.datasets.length : 0; }""",
                chart_id,
            )
            assert drawn > 0, (username, chart_id)
            assert page.locator(f"#{chart_id} table tbody tr").count() > 0, (username, chart_id)
            assert page.locator(f"#{chart_id} .chart-text").inner_text().strip(), (username, chart_id)
            # its numbers as CSV and as XLSX
            assert page.locator(f"#{chart_id} a[download]").count() == 2
        # Keyboard: the first Tab stop is the skip link, which leads to the main content; a
        # chart's table opens from the keyboard.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#main"
        page.focus(f"#{chart_ids[0]} summary")
        page.keyboard.press("Enter")
        assert page.locator(f"#{chart_ids[0]} table").is_visible()
        page.screenshot(path=str(SHOTS / f"dashboard-{username}.png"), full_page=True)
        watcher.check()
