"""The app degrades instead of crashing when its dependencies go: Redis refused or hung
(a private redis-server, stopped or frozen) and PostgreSQL cut off (a proxy in front of it,
with the app served by gunicorn as in production)."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid

import pytest
from django.test import override_settings

from forecasting.models import ForecastRun
from tests.conftest import AS_OF
from tests.services import (
    ROOT,
    PrivateRedis,
    TcpProxy,
    free_port,
    real_broker,
    stop_process_group,
    wait_for,
)


def redis_settings(url: str) -> dict:
    """The production cache settings (config/settings.py), pointed at ``url``."""
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.fixture
def planner(db):
    from home.demo import seed_demo

    seed_demo(scale="tiny", seed=11, as_of=AS_OF)


@pytest.mark.parametrize("outage", ["stopped", "hung"])
def test_with_redis_down_the_api_serves_pages_render_and_a_start_leaves_no_phantom_run(
    planner, erp, login, outage, caplog
):
    from core.api import throttling

    throttling.ClientRateThrottle.shared_down_until = 0.0
    api = erp(scopes=["forecasts:run", "plans:read"])
    page = login("planner")
    runs_before = ForecastRun.objects.count()
    with (
        PrivateRedis() as redis,
        override_settings(CACHES=redis_settings(redis.url)),
        real_broker(f"test-outage-{uuid.uuid4().hex[:6]}", url=redis.url),
    ):
        assert api.get("/api/v1/forecast-runs/").status_code == 200  # counted in Redis
        redis.stop() if outage == "stopped" else redis.freeze()
        started = time.monotonic()
        # Reads still answer: the rate limiter counts in this process (and says so).
        assert api.get("/api/v1/forecast-runs/").status_code == 200
        assert "rate limits: the shared cache is unreachable" in caplog.text
        assert page.get("/forecasts/").status_code == 200
        # A start answers 503 with the error body and Retry-After, and records nothing.
        response = api.post(
            "/api/v1/forecast-runs/", data=json.dumps({"as_of": "2026-06-15"}), content_type="application/json"
        )
        assert response.status_code == 503 and int(response["Retry-After"]) > 0
        assert response.json()["error"]["code"] == "service_unavailable"
        answer = page.post("/forecasts/runs/start/", follow=True)
        assert answer.status_code == 200 and "task queue is not reachable" in answer.content.decode()
        assert page.post("/supply/runs/start/", {"forecast": "1"}, follow=True).status_code == 200
        assert ForecastRun.objects.count() == runs_before  # the demo's own cycle forecast only
        # /healthz names what is down within 2 s, and nothing more.
        health_started = time.monotonic()
        health = page.get("/healthz")
        assert time.monotonic() - health_started < 2
        body = health.json()
        assert health.status_code == 503 and {"broker", "cache"} <= set(body["down"]) and body["database"]["ok"]
        assert str(redis.port) not in health.content.decode()
        assert time.monotonic() - started < 20  # every call above was bounded by short timeouts


def http_call(port: int, method: str, path: str, *, headers: dict | None = None, body: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
def test_with_postgresql_down_the_api_and_sign_in_answer_503_and_healthz_within_2_s(erp, settings):
    from django.contrib.auth import get_user_model

    from core.services import api_client_create

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # as the server checks
    get_user_model().objects.create_user("ops1", password="a-long-password-0123")
    _client, token = api_client_create(name="erp-outage", scopes=["master:write"])
    db = settings.DATABASES["default"]
    port = free_port()
    with TcpProxy(int(db["PORT"] or 5432)) as proxy:
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="config.settings",
            DJANGO_DEBUG="0",
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DATABASE_CONNECT_TIMEOUT="2",
            DJANGO_SECURE_SSL_REDIRECT="0",  # plain HTTP on loopback
            DATABASE_URL=f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}",
        )
        env.setdefault("DJANGO_SECRET_KEY", "test-server-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
        log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            assert wait_for(lambda: _answers(port), timeout=30), open(log.name).read()[-2000:]
            bearer = {"Authorization": f"Bearer {token}"}
            assert http_call(port, "GET", "/api/v1/products/", headers=bearer)[0] == 200
            status, headers, page = http_call(port, "GET", "/accounts/login/")
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
            cookie = headers["Set-Cookie"].split(";")[0]
            form = {
                "Cookie": cookie,
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://127.0.0.1:{port}/accounts/login/",
            }
            credentials = f"username=ops1&password=a-long-password-0123&csrfmiddlewaretoken={csrf}"
            status, headers, _page = http_call(port, "POST", "/accounts/login/", body=credentials, headers=form)
            assert status == 302
            session = "; ".join(c.split(";")[0] for c in headers["Set-Cookie"].split(", ") if "sessionid" in c)

            proxy.cut()
            started = time.monotonic()
            status, headers, body = http_call(port, "GET", "/api/v1/products/", headers=bearer)
            assert status == 503 and headers["Retry-After"] == "30", body
            error = json.loads(body)["error"]
            assert error["code"] == "service_unavailable" and error["details"]["dependency"] == "database"
            status, headers, page = http_call(port, "POST", "/accounts/login/", body=credentials, headers=form)
            assert status == 503 and "Temporarily unavailable" in page and "Traceback" not in page
            # A signed-in person's page: the session itself cannot be read.
            status, headers, page = http_call(port, "GET", "/", headers={"Cookie": session})
            assert status == 503 and "Temporarily unavailable" in page and headers["Retry-After"] == "30"
            assert time.monotonic() - started < 10
            health_started = time.monotonic()
            status, _headers, body = http_call(port, "GET", "/healthz")
            assert time.monotonic() - health_started < 2
            report = json.loads(body)
            assert status == 503 and report["down"] == ["database"] and report["database"]["ok"] is False
            assert str(proxy.port) not in body and "127.0.0.1" not in body and "Error" not in body

            proxy.restore()
            assert wait_for(lambda: http_call(port, "GET", "/api/v1/products/", headers=bearer)[0] == 200, timeout=30)
        finally:
            stop_process_group(server)
            log.close()


def _answers(port: int) -> bool:
    try:
        return http_call(port, "GET", "/healthz")[0] in (200, 503)
    except OSError:
        return False
