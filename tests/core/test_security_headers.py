"""Security headers: a Content-Security-Policy without inline script (and no page that needs
one), Permissions-Policy, ``Cache-Control: no-store`` on pay, and X-Forwarded-Proto trusted
only behind a configured proxy. (tests/e2e/test_csp.py checks the pages in Chromium.)"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import AS_OF

ROOT = Path(__file__).resolve().parents[2]
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_the_policy_allows_no_inline_script_and_no_foreign_origin(db, client):
    response = client.get("/accounts/login/")
    csp = csp_directives(response)
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no CDN
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'self'"]
    assert all("http" not in value for values in csp.values() for value in values)
    features = dict(part.strip().split("=") for part in response["Permissions-Policy"].split(","))
    assert features["camera"] == features["geolocation"] == features["microphone"] == "()"


def test_no_template_holds_an_inline_script_or_event_handler():
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        offenders += [f"{template.relative_to(ROOT)}: {m.group(0)}" for m in INLINE_SCRIPT.finditer(text)]
        offenders += [f"{template.relative_to(ROOT)}: {m.group(0)}" for m in INLINE_HANDLER.finditer(text)]
    assert not offenders, offenders


def test_rendered_pages_carry_no_inline_script(demo, login):
    from forecasting import services as forecasting
    from forecasting.models import ForecastSeries
    from inventory.models import Product
    from sop.services import plan_run_create, plan_run_execute
    from tests.core.test_access_matrix import plain_pages

    forecast = forecasting.forecast_run_create(as_of=AS_OF, trigger="command", parameters={"chunk_size": 50})
    forecasting.forecast_run_execute(forecast)
    plan_run_execute(run_id=plan_run_create(as_of=AS_OF, trigger="command").pk)
    series = ForecastSeries.objects.filter(status="ok").order_by("id").first()
    pages = plain_pages() + [
        f"/supply/products/{Product.objects.order_by('id').first().sku}/",
        f"/forecasts/runs/{series.run_id}/series/{series.pk}/",
    ]
    client, checked = login("admin"), 0
    for path in pages:
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), (path, INLINE_SCRIPT.search(html).group(0))
        assert not INLINE_HANDLER.search(html), (path, INLINE_HANDLER.search(html).group(0))
        checked += 1
    assert checked >= 5


PAY_URLS = [
    "/compensation/",
    "/compensation/plans/",
    "/compensation/disputes/",
    "/compensation/payroll.csv",
    "/api/v1/statements/",
    "/api/v1/statements/payroll.csv",
    "/api/v1/credits/?format=csv",
    "/api/v1/comp-plans/",
    "/api/v1/comp-periods/",
    "/api/v1/disputes/",
    "/",
]


def test_pay_pages_and_pay_api_responses_are_never_stored(demo, login):
    from compensation.models import Statement

    admin = login("admin")
    statement = Statement.objects.order_by("id").first()
    urls = PAY_URLS + [
        f"/compensation/statements/{statement.pk}/",
        f"/compensation/statements/{statement.pk}.csv",
        f"/api/v1/statements/{statement.pk}/",
        f"/api/v1/statements/{statement.pk}.csv",
    ]
    for url in urls:
        response = admin.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    what_if = admin.post("/api/v1/comp-what-if", {"plan_code": "nope"}, content_type="application/json")
    assert "no-store" in what_if["Cache-Control"]  # errors about pay too
    denied = login("ops").get("/api/v1/statements/")
    assert denied.status_code == 403 and "no-store" in denied["Cache-Control"]
    assert "no-store" not in admin.get("/api/v1/products/").get("Cache-Control", "")


def test_forwarded_proto_is_ignored_unless_a_proxy_is_trusted(settings):
    from django.test import RequestFactory

    request = RequestFactory().get("/", HTTP_X_FORWARDED_PROTO="https")
    assert settings.SECURE_PROXY_SSL_HEADER is None and not request.is_secure()
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert request.is_secure()


@pytest.mark.parametrize(
    ("value", "expected"), [("", "None"), ("0", "None"), ("1", "('HTTP_X_FORWARDED_PROTO', 'https')")]
)
def test_the_proxy_header_is_trusted_only_with_django_trust_proxy(value, expected):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["DJANGO_TRUST_PROXY"] = value
    out = subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.SECURE_PROXY_SSL_HEADER)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == expected
