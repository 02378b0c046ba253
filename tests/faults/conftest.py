"""Fault tests: a real worker (and beat) on PostgreSQL + Redis, killed, cut off from Redis or
from PostgreSQL mid-run. They take a few minutes, so they run with ``make test-faults``
(which ``.ci/run`` runs in its services pass), not with ``make test``."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.services import requires_services

FAULTS_ON = os.environ.get("SOP_FAULT_TESTS") == "1"


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__)
    for item in items:
        if not str(item.fspath).startswith(here):
            continue
        item.add_marker(pytest.mark.faults)
        item.add_marker(requires_services)
        if not FAULTS_ON:
            item.add_marker(
                pytest.mark.skip(
                    reason="fault tests kill workers and cut services for minutes: run them with `make test-faults`"
                )
            )
        elif shutil.which("redis-server") is None:
            item.add_marker(pytest.mark.skip(reason="fault tests start a private redis-server: none is installed"))
