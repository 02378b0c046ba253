"""Screenshots of every role's home page, per language, for the README (docs/screenshots/).

    python manage.py screenshots                       # en, de, it; serves the app itself
    python manage.py screenshots --languages de,it     # again after new translations
    python manage.py screenshots --base-url http://127.0.0.1:8000   # a server already running

The demo company must be loaded (``seed_demo`` and ``run_pipeline``, as ``make run`` does).
The language is asked for as a browser does (``Accept-Language`` and the language cookie).
Needs Debian's Chromium (``apt-get install chromium``) and Playwright (requirements-dev.txt).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from core.demo import DEMO_PASSWORD
from dashboards.serving import ROOT, served

#: demo login → file name (role) of each home page
HOMES = {
    "manager": "sales-manager",
    "ops": "operations-lead",
    "planner": "planner",
    "rep1": "sales-rep",
    "exec": "executive",
}


class Command(BaseCommand):
    help = "Take screenshots of every role's home page in each language (docs/screenshots/)."

    def add_arguments(self, parser):
        parser.add_argument("--languages", default="en,de,it", help="comma-separated language codes")
        parser.add_argument("--output", default=str(ROOT / "docs" / "screenshots"))
        parser.add_argument("--base-url", default="", help="a running server (default: start one on loopback)")
        parser.add_argument("--users", default=",".join(HOMES), help="demo logins to sign in as")
        parser.add_argument("--width", type=int, default=1360)

    def handle(self, *args, **options):
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        if not Path(chromium).exists():
            raise CommandError("Chromium is needed: apt-get install chromium")
        languages = [code.strip() for code in options["languages"].split(",") if code.strip()]
        known = {code for code, _name in settings.LANGUAGES}
        unknown = [code for code in languages if code not in known and code.split("-")[0] not in known]
        if unknown:
            raise CommandError(
                f"Unknown language(s) {', '.join(unknown)}; settings.LANGUAGES has {', '.join(sorted(known))}."
            )
        users = [u.strip() for u in options["users"].split(",") if u.strip()]
        out = Path(options["output"])
        out.mkdir(parents=True, exist_ok=True)
        if options["base_url"]:
            self._shoot(options["base_url"].rstrip("/"), chromium, languages, users, out, options["width"])
        else:
            call_command("collectstatic", interactive=False, verbosity=0)  # the server's static files
            with served(workers=2) as base:
                self._shoot(base, chromium, languages, users, out, options["width"])

    def _shoot(self, base: str, chromium: str, languages: list[str], users: list[str], out: Path, width: int):
        # Here, not at the top: playwright is a development tool, absent from production images.
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=chromium,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
            )
            try:
                for language in languages:
                    for username in users:
                        context = browser.new_context(
                            viewport={"width": width, "height": 900},
                            locale=language,
                            extra_http_headers={"Accept-Language": language},
                        )
                        context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
                        page = context.new_page()
                        errors: list[str] = []
                        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
                        page.on(
                            "response",
                            lambda r, errors=errors: (
                                errors.append(f"{r.url}: HTTP {r.status}")
                                if r.status >= 400 and not r.url.endswith("/favicon.ico")
                                else None
                            ),
                        )
                        page.goto(f"{base}/accounts/login/")
                        page.fill("#id_username", username)
                        page.fill("#id_password", DEMO_PASSWORD)
                        page.click("button[type=submit]")
                        page.wait_for_url(f"{base}/")
                        page.wait_for_load_state("networkidle")
                        if errors:
                            raise CommandError(f"{username} ({language}): {'; '.join(errors)}")
                        path = out / f"home-{HOMES.get(username, username)}-{language}.png"
                        page.screenshot(path=str(path), full_page=True)
                        context.close()
                        self.stdout.write(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
            finally:
                browser.close()
