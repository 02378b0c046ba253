"""Dependency outages answer 503 (JSON with Retry-After for the API, a plain page for people),
the rate limiter keeps serving when its cache is refused or hung, and /healthz answers within
2 s whatever is down, naming no host, port or driver message. The same promises are proven
against real stopped services in tests/faults/."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import redis.exceptions
from django.db import OperationalError
from django.test import Client, override_settings

from core import health
from core.api import throttling

DB_DOWN = OperationalError('connection to server at "10.1.2.3", port 5432 failed: Connection refused')


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    throttling.ClientRateThrottle.shared_down_until = 0.0
    throttling.LOCAL_COUNTERS.clear()
    yield
    throttling.ClientRateThrottle.shared_down_until = 0.0


def assert_api_503(response, dependency: str) -> None:
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "service_unavailable" and error["details"]["dependency"] == dependency
    assert "10.1.2.3" not in response.content.decode() and "5432" not in response.content.decode()


def assert_page_503(response) -> None:
    page = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "<h1>Temporarily unavailable</h1>" in page and "css/app.css" in page
    assert "not reachable right now" in page and "Traceback" not in page and "10.1.2.3" not in page


def test_the_api_answers_503_json_when_the_database_is_down(db, api, monkeypatch):
    from core.api.auth import BearerTokenAuthentication

    def down(self, request):
        raise DB_DOWN

    monkeypatch.setattr(BearerTokenAuthentication, "authenticate", down)
    assert_api_503(api.get("/api/v1/products/"), "database")


def test_pages_answer_a_plain_503_page_when_the_database_is_down(demo, login, monkeypatch):
    from dashboards import pages

    monkeypatch.setattr(pages, "dashboard_context", lambda **kw: (_ for _ in ()).throw(DB_DOWN))
    assert_page_503(login("planner").get("/"))


def test_an_outage_outside_the_view_still_answers_503(demo, monkeypatch):
    # The session is read by the sign-in check, before any view runs.
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username="planner"))
    monkeypatch.setattr(SessionStore, "load", lambda self: (_ for _ in ()).throw(DB_DOWN))
    assert_page_503(client.get("/forecasts/"))
    assert_api_503(client.get("/api/v1/forecast-runs/"), "database")


def test_signing_in_while_the_database_is_down_answers_the_503_page(db, monkeypatch):
    from django.contrib.auth import forms

    client = Client(raise_request_exception=False)
    assert client.get("/accounts/login/").status_code == 200  # the form itself needs no database
    monkeypatch.setattr(forms, "authenticate", lambda *a, **kw: (_ for _ in ()).throw(DB_DOWN))
    assert_page_503(client.post("/accounts/login/", {"username": "planner", "password": "demo"}))


def test_a_bug_is_still_a_500(demo, login, monkeypatch):
    from dashboards import pages

    monkeypatch.setattr(pages, "dashboard_context", lambda **kw: 1 / 0)
    client = login("planner")
    client.raise_request_exception = False
    assert client.get("/").status_code == 500


# ---------------------------------------------------------------------------------------
# The rate limiter
# ---------------------------------------------------------------------------------------


class RefusedCache:
    def get(self, *args, **kwargs):
        raise redis.exceptions.ConnectionError("Error 111 connecting to 10.1.2.3:6379. Connection refused.")

    set = get


def test_the_rate_limiter_counts_in_this_process_when_its_cache_is_refused(db, erp, monkeypatch, caplog):
    monkeypatch.setattr(throttling.ClientRateThrottle, "cache", RefusedCache())
    api = erp(scopes=["master:write"], rate_limit="2/min")
    assert [api.get("/api/v1/products/").status_code for _ in range(3)] == [200, 200, 429]
    assert "rate limits: the shared cache is unreachable" in caplog.text
    assert caplog.text.count("shared cache is unreachable") == 1  # not once per request
    # The shared cache is tried again after a while, and used once it answers.
    throttling.ClientRateThrottle.shared_down_until = 0.0
    monkeypatch.undo()
    assert api.get("/api/v1/products/").status_code == 200


@pytest.fixture
def hung_server():
    """A TCP port that accepts connections and never answers (a hung Redis)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_the_api_answers_at_once_when_redis_hangs(db, erp, hung_server):
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{hung_server}/0",
            "OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.3},
        }
    }
    api = erp(scopes=["master:write"])
    with override_settings(CACHES=caches):
        started = time.monotonic()
        assert api.get("/api/v1/products/").status_code == 200
        assert api.get("/api/v1/products/").status_code == 200  # counted locally: no wait at all
        assert time.monotonic() - started < 1.5


# ---------------------------------------------------------------------------------------
# /healthz
# ---------------------------------------------------------------------------------------


def test_healthz_answers_within_2_s_when_a_check_hangs_and_tells_no_details(client, db, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(health, "database_status", lambda: release.wait(10) and (True, "ok"))
    monkeypatch.setattr(health, "cache_status", lambda: (False, health.DOWN))
    try:
        started = time.monotonic()
        response = client.get("/healthz")
        assert time.monotonic() - started < 2
        body = response.json()
        assert response.status_code == 503 and body["status"] == "degraded"
        assert body["database"] == {"ok": False, "detail": "no answer within 1.5 s"}
        assert body["down"] == ["database", "cache"] and body["broker"]["ok"]
        # A second call does not pile up another stuck check.
        started = time.monotonic()
        assert client.get("/healthz").json()["database"]["ok"] is False
        assert time.monotonic() - started < 0.5
    finally:
        release.set()


def test_healthz_shows_fixed_words_only(client, db, monkeypatch, caplog):
    from django.db import connections

    def refuse(*args, **kwargs):
        raise DB_DOWN

    with monkeypatch.context() as patch:
        patch.setattr(type(connections["default"]), "cursor", refuse)
        body = client.get("/healthz").content.decode()
    assert '"database": {"ok": false, "detail": "unreachable"}' in body
    assert "10.1.2.3" not in body and "5432" not in body and "OperationalError" not in body
    assert "10.1.2.3" in caplog.text  # the operator finds the driver's words in the log
