"""End to end in headless Chromium: sign in, open pages, start a forecast run from the browser."""

import os
import shutil
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Chromium: apt-get install chromium"),
]


@pytest.fixture(scope="session")
def live_server_sessions(django_db_setup, live_server, django_db_blocker):
    """The live server's request threads keep their database connections (CONN_MAX_AGE) for
    the whole session; on PostgreSQL end them once it is over, or the test database cannot
    be dropped."""
    yield live_server
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                cursor.execute(f"SELECT pg_terminate_backend(pid) {others}")
                for _ in range(100):  # a terminated backend takes a moment to exit
                    cursor.execute(f"SELECT count(*) {others}")
                    if not cursor.fetchone()[0]:
                        break
                    time.sleep(0.05)
        connection.close()


@pytest.fixture
def browser_page(live_server_sessions):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop shares the test thread
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1360, "height": 900})
        yield page
        browser.close()


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", username)
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.mark.django_db(transaction=True)
def test_manager_signs_in_and_sees_their_region(live_server, browser_page):
    from home.demo import seed_demo
    from tests.conftest import AS_OF

    seed_demo(scale="tiny", seed=7, as_of=AS_OF)
    page = browser_page
    sign_in(page, live_server.url, "manager")
    assert "Sales manager" in page.inner_text("header")
    assert "Your territories" in page.inner_text("main")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "home-manager.png"), full_page=True)
    response = page.goto(f"{live_server.url}/forecasts/")
    assert response.status == 403


@pytest.mark.django_db(transaction=True)
def test_planner_starts_a_forecast_run_from_the_browser(live_server, browser_page):
    from home.demo import seed_demo
    from tests.conftest import AS_OF

    seed_demo(scale="tiny", seed=7, as_of=AS_OF)
    page = browser_page
    sign_in(page, live_server.url, "planner")
    page.click("nav >> text=Forecasts")
    page.click("text=Run forecasts now")
    page.wait_for_url("**/forecasts/runs/*/")
    page.wait_for_selector("#run-status:has-text('Completed')", timeout=60_000)
    page.screenshot(path=str(SHOTS / "forecast-run.png"), full_page=True)
    page.click("table >> nth=-1 >> tbody tr >> nth=0 >> a")
    page.wait_for_selector("canvas#chart")
    page.screenshot(path=str(SHOTS / "forecast-series.png"), full_page=True)
