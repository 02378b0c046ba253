"""The Content-Security-Policy in a real browser: every page with charts or scripts still works
(charts drawn, run progress polled, form helpers, the API docs, the admin) and Chromium reports
no CSP violation on any of them."""

import os

import pytest

# The browser fixtures of the end-to-end tests (Playwright driving Debian's Chromium).
from tests.e2e.test_browser import CHROMIUM, browser_page, live_server_sessions, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Chromium: apt-get install chromium"),
]

WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " in " + e.sourceFile));
"""


class Watcher:
    """Collects CSP violations (DOM events) and console errors of every page opened."""

    def __init__(self, page):
        self.page, self.problems = page, []
        page.add_init_script(WATCH_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"{page.url}: {exc}"))
        page.on("response", self._response)

    def _console(self, msg):
        # A failed load is reported below with its URL (the browser asks for /favicon.ico).
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self.problems.append(f"{self.page.url}: {msg.text}")

    def _response(self, response):
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.problems.append(f"{response.url}: HTTP {response.status}")

    def open(self, url: str):
        response = self.page.goto(url)
        assert response.status == 200, (url, response.status)
        assert "script-src 'self'" in response.headers["content-security-policy"]
        self.page.wait_for_load_state("networkidle")
        return response

    def check(self):
        violations = self.page.evaluate("window.__csp")
        assert not violations, violations
        assert not [p for p in self.problems if "Content Security Policy" in p or "Content-Security-Policy" in p], (
            self.problems
        )
        assert not self.problems, self.problems


@pytest.mark.django_db(transaction=True)
def test_pages_with_scripts_work_under_the_policy(live_server, browser_page):  # noqa: F811
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from compensation.models import Statement
    from forecasting import services as forecasting
    from forecasting.models import ForecastSeries
    from home.demo import seed_demo
    from inventory.models import Product
    from sop.models import PlanRun
    from sop.services import plan_run_create, plan_run_execute
    from territories.models import QuotaPlan
    from tests.conftest import AS_OF

    seed_demo(scale="tiny", seed=7, as_of=AS_OF)
    forecast = forecasting.forecast_run_create(as_of=AS_OF, trigger="command", parameters={"chunk_size": 50})
    forecasting.forecast_run_execute(forecast)
    plan_run_execute(run_id=plan_run_create(as_of=AS_OF, trigger="command").pk)
    base, page = live_server.url, browser_page
    watch = Watcher(page)

    sign_in(page, base, "admin")
    watch.check()

    # Charts: Chart.js drew on every canvas (the chart code comes from static files now).
    product = Product.objects.order_by("id").first()
    watch.open(f"{base}/supply/products/{product.sku}/")
    assert page.evaluate("['inv-chart', 'feas-chart'].every((id) => Chart.getChart(document.getElementById(id)))")
    series = ForecastSeries.objects.filter(status="ok").order_by("id").first()
    watch.open(f"{base}/forecasts/runs/{series.run_id}/series/{series.pk}/")
    assert page.evaluate("Chart.getChart(document.getElementById('chart')).data.datasets.length") == 6

    # A running plan run polls its API resource and reloads once it has finished.
    running = plan_run_create(as_of=AS_OF, trigger="command")
    PlanRun.objects.filter(pk=running.pk).update(status="running", percent=40)
    watch.open(f"{base}/supply/runs/{running.pk}/")
    page.wait_for_selector("#run-percent:has-text('40 %')")
    PlanRun.objects.filter(pk=running.pk).update(status="completed", percent=100)
    page.wait_for_selector("#run-status:has-text('Completed')", timeout=15_000)

    # What-if scenarios (the demo runs two): the comparison chart, forecast value added, and a
    # running scenario's progress.
    from scenarios.models import Scenario

    ids = ",".join(str(pk) for pk in Scenario.objects.order_by("id").values_list("id", flat=True))
    watch.open(f"{base}/scenarios/compare/?ids={ids}&family=")
    assert page.evaluate("Chart.getChart(document.getElementById('compare-chart')).data.datasets.length") == 3
    watch.open(f"{base}/scenarios/accuracy/?level=family")
    assert page.evaluate("Chart.getChart(document.getElementById('accuracy-chart')).data.datasets.length") == 4
    scenario = Scenario.objects.order_by("id").first()
    Scenario.objects.filter(pk=scenario.pk).update(status="running", percent=40)
    watch.open(f"{base}/scenarios/{scenario.pk}/")
    page.wait_for_selector("#run-percent:has-text('40 %')")
    Scenario.objects.filter(pk=scenario.pk).update(status="completed", percent=100)
    page.wait_for_selector("#run-status:has-text('Completed')", timeout=15_000)

    # Form helpers that used to be inline handlers.
    plan = QuotaPlan.objects.order_by("id").first()
    watch.open(f"{base}/territories/quotas/{plan.code}/")
    with page.expect_navigation():
        page.select_option("select[name=measure]", "units")
    assert page.url.endswith("?measure=units")
    watch.open(f"{base}/compensation/periods/")
    page.fill("input[name=month]", "2026-03")
    assert page.input_value("input[name=period_start]") == "2026-03-01"
    statement = Statement.objects.order_by("id").first()
    watch.open(f"{base}/compensation/statements/{statement.pk}/")
    page.evaluate("window.print = () => { window.__printed = true; }")
    page.click("button[data-print]")
    assert page.evaluate("window.__printed === true")

    # The API docs (Swagger UI's start-up script is a file; ReDoc was dropped).
    watch.open(f"{base}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)

    # DRF's browsable API (session users reach the API from the browser too).
    watch.open(f"{base}/api/v1/alerts/")
    assert page.evaluate("typeof window.jQuery") == "function"  # its scripts loaded

    # The admin, and celery-beat's schedule form (its inline script moved to a static file).
    watch.open(f"{base}/admin/")
    crontab = CrontabSchedule.objects.create(minute="0", hour="2")
    task = PeriodicTask.objects.create(name="nightly (test)", task="planning.nightly", crontab=crontab)
    watch.open(f"{base}/admin/django_celery_beat/periodictask/{task.pk}/change/")
    page.select_option("#id_crontab", str(crontab.pk))
    page.dispatch_event("#id_crontab", "change")
    assert "Translation:" in page.inner_text(".field-crontab .help")
    watch.check()
