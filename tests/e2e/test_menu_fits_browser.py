"""The header menu in Chromium (issue 16): at 1,360 px every entry of the widest menu (the
admin's) is on screen in one row, in English, German and Italian; at 800 px it wraps onto
rows of its own but hides nothing. Screenshots land in var/screenshots/menu-<lang>-<width>.png."""

import os

import pytest

# The browser fixtures of the end-to-end tests (Playwright driving Debian's Chromium).
from tests.e2e.test_browser import CHROMIUM, SHOTS, browser_page, live_server_sessions, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Chromium: apt-get install chromium"),
]


def header_layout(page) -> dict:
    return page.evaluate(
        """() => {
          const nav = document.querySelector('nav.mainnav');
          const who = document.querySelector('header .who').getBoundingClientRect();
          const links = [...nav.querySelectorAll('a')].map(a => {
            const r = a.getBoundingClientRect();
            return {text: a.innerText, left: r.left, right: r.right, top: r.top, bottom: r.bottom};
          });
          return {links, navOverflow: nav.scrollWidth - nav.clientWidth, who: {left: who.left, right: who.right,
                  top: who.top, bottom: who.bottom}, pageOverflow: document.documentElement.scrollWidth - innerWidth};
        }"""
    )


@pytest.mark.django_db(transaction=True)
def test_the_widest_menu_fits_one_row_at_1360_px_in_every_language(live_server, browser_page):  # noqa: F811
    from home.demo import seed_demo
    from tests.conftest import AS_OF

    seed_demo(scale="tiny", seed=7, as_of=AS_OF, cycles=False)
    page, base = browser_page, live_server.url
    sign_in(page, base, "admin")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for language in ("it", "de", "en"):
        with page.expect_navigation():  # the switch submits itself; wait for the new page
            page.select_option("select[name=language]", language)
        page.wait_for_load_state("networkidle")
        for width in (1360, 800):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/")
            page.screenshot(path=str(SHOTS / f"menu-{language}-{width}.png"))
            layout = header_layout(page)
            links = layout["links"]
            assert len(links) >= 12, links  # the admin sees every area
            assert layout["navOverflow"] <= 0, (language, width, "the menu scrolls: entries are hidden")
            assert layout["pageOverflow"] <= 0, (language, width, "the page scrolls sideways")
            for link in links:
                assert link["left"] >= 0 and link["right"] <= width, (language, width, link)
            if width == 1360:
                rows = {round(link["top"]) for link in links}
                assert len(rows) == 1, (language, "the menu wraps at 1,360 px", links)
            # No entry lies under the user's corner (name, language, sign out).
            who = layout["who"]
            for link in links:
                apart = link["right"] <= who["left"] or link["top"] >= who["bottom"] or link["bottom"] <= who["top"]
                assert apart, (language, width, link, who)
