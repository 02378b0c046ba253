"""Shared fixtures: the tiny demo company, signed-in clients per role."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.test import Client
from rest_framework.test import APIClient

AS_OF = dt.date(2026, 6, 15)


@pytest.fixture
def demo(db):
    from home.demo import seed_demo

    # Without the S&OP cycles (a forecast run per test); tests of the cycle's demo seed it.
    return seed_demo(scale="tiny", seed=7, as_of=AS_OF, cycles=False)


@pytest.fixture
def login():
    """``login("rep1")`` → a test client signed in as that demo user."""

    def make(username: str) -> Client:
        from django.contrib.auth import get_user_model

        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        return client

    return make


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    from core import memo
    from core.bulk import cache as bulk_cache
    from core.bulk import writer
    from sop import alert_messages

    cache.clear()
    memo.clear()
    alert_messages._names.clear()
    bulk_cache.clear()
    writer._recent_conflict.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's default language.

    A request leaves its language active on the thread (as it does in a server, where the next
    request sets its own); a service called directly afterwards would otherwise answer in the
    previous test's German or Italian."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def erp(db):
    """An API client holding the master-data and sales write scopes."""

    def make(scopes=("master:write", "sales:write"), name="erp-test", **kwargs):
        from core.services import api_client_create

        client, token = api_client_create(name=name, scopes=list(scopes), **kwargs)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        api.client_record = client
        return api

    return make


@pytest.fixture
def api(erp):
    return erp()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """With ``pytest -n`` (``make test``), tests that start a real Celery worker or a browser
    run one after another on one xdist worker (``--dist loadgroup``): two Celery workers on the
    same Redis would take each other's tasks. Everything else spreads over the CPUs."""
    services_pass = os.environ.get("SOP_SERVICES_PASS") == "1"
    for item in items:
        if (
            item.get_closest_marker("services")
            or item.get_closest_marker("browser")
            or item.get_closest_marker("faults")
        ):
            item.add_marker(pytest.mark.xdist_group("serial"))
        if services_pass and item.get_closest_marker("browser"):
            # .ci/run's second pass (PostgreSQL + Redis): the browser tests drove the same pages
            # through the same ORM in the first pass; this pass is for the services.
            item.add_marker(pytest.mark.skip(reason="browser tests ran in the embedded pass (SOP_SERVICES_PASS=1)"))
