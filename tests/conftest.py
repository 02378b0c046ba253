"""Shared fixtures: the tiny demo company, signed-in clients per role."""

from __future__ import annotations

import datetime as dt

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

    from core.bulk import cache as bulk_cache
    from core.bulk import writer

    cache.clear()
    bulk_cache.clear()
    writer._recent_conflict.clear()



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
