"""Shared fixtures: the tiny demo company, signed-in clients per role."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

AS_OF = dt.date(2026, 6, 15)


@pytest.fixture
def demo(db):
    from core.demo import seed_demo

    return seed_demo(scale="tiny", seed=7, as_of=AS_OF)


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

    cache.clear()
