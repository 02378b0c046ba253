"""Issue 16 in Chromium: the language switch, a capacity cell saved by an ops lead, the menu
at 800 px, the demand-vs-feasible bars, the favicon."""

import datetime as dt
import os

import pytest

# The browser fixtures of the end-to-end tests (Playwright driving Debian's Chromium).
from tests.e2e.test_browser import CHROMIUM, browser_page, live_server_sessions, sign_in  # noqa: F401
from tests.e2e.test_csp import Watcher

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Chromium: apt-get install chromium"),
]


@pytest.mark.django_db(transaction=True)
def test_language_switch_capacity_save_and_narrow_menu(live_server, browser_page):  # noqa: F811
    from home.demo import seed_demo
    from sop import services as supply
    from sop.models import CapacityCalendar
    from tests.conftest import AS_OF
    from tests.i18n.test_languages import english_left

    seed_demo(scale="tiny", seed=7, as_of=AS_OF, cycles=False)
    supply.plan_run_execute(run_id=supply.plan_run_create(as_of=AS_OF).pk)
    page, base = browser_page, live_server.url
    watch = Watcher(page)
    sign_in(page, base, "ops")

    # The header switch: German, then Italian, with no English message left on the pages.
    for language, sign_out in (("de", "Abmelden"), ("it", "Esci")):
        with page.expect_navigation():  # the switch submits itself; wait for the new page
            page.select_option("select[name=language]", language)
        page.wait_for_load_state("networkidle")
        assert sign_out in page.inner_text("header")
        for path in ("/", "/supply/alerts/", "/data/upload/"):
            watch.open(f"{base}{path}")
            assert page.get_attribute("html", "lang") == language
            assert english_left(page.content(), language) == [], (language, path)
    with page.expect_navigation():  # the switch submits itself; wait for the new page
        page.select_option("select[name=language]", "en")
    page.wait_for_load_state("networkidle")
    assert "Sign out" in page.inner_text("header")

    # The favicon is served.
    icon = page.get_attribute("link[rel=icon]", "href")
    assert page.request.get(f"{base}{icon}").status == 200

    # An ops lead edits a capacity cell pre-filled from the calendar and saves it.
    cell = CapacityCalendar.objects.filter(period_start__gte=dt.date(2026, 7, 1)).order_by("period_start").first()
    watch.open(f"{base}/supply/capacity/{cell.work_center.code}/{cell.period_start.isoformat()}/")
    assert page.evaluate("document.querySelector('form.toolbar').checkValidity()")
    page.fill("input[name=downtime_hours]", "12")
    page.click("form.toolbar button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "Capacity saved" in page.inner_text(".messages")
    cell.refresh_from_db()
    assert cell.downtime_hours == 12

    # The demand-vs-feasible bars keep a half-bar margin at both ends (not clipped).
    product = cell.work_center.routings.select_related("product").first().product
    watch.open(f"{base}/supply/products/{product.sku}/")
    assert page.evaluate("Chart.getChart('feas-chart').options.scales.x.offset") is True

    # At 800 px every menu entry is on screen, and the alerts table's actions are reachable.
    page.set_viewport_size({"width": 800, "height": 900})
    watch.open(f"{base}/supply/alerts/")
    for link in page.query_selector_all("nav.mainnav a"):
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 800, link.inner_text()
    button = page.query_selector("table button:text-is('Acknowledge')")
    assert button is not None  # the tiny demo's plan run raises open alerts
    button.scroll_into_view_if_needed()
    assert button.is_visible()
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 800
    watch.check()
