"""Every operation of the OpenAPI schema, fuzzed by schemathesis with a token holding every
scope: no answer is a 5xx, and every JSON answer matches the schema.

One test per operation (``test_operation[GET /api/v1/products/]``, ...). The schema is the
one the app serves at ``/api/schema/`` (``test_the_fuzzed_schema_is_the_served_one`` checks
they are identical; it is generated at import so the operations can be collected). Calls go
through the WSGI app in-process, inside one transaction holding the tiny demo company, so
this runs on SQLite and on the PostgreSQL pass alike and leaves nothing behind.

Generation is bounded and derandomised: the schema's examples, its boundary and negative
values (the "coverage" phase) and ``FUZZED_EXAMPLES`` random cases per operation, from a
fixed seed — a couple of minutes, and a failure reproduces.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance

SEED = 20261205
FUZZED_EXAMPLES = 6
CONFIG = {
    "seed": SEED,
    "suppress-health-check": ["all"],
    "generation": {"max-examples": FUZZED_EXAMPLES, "database": "none", "deterministic": True, "allow-x00": True},
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    },
}


def generated_schema() -> dict:
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


schema = schemathesis.openapi.from_dict(generated_schema(), config=SchemathesisConfig.from_dict(CONFIG))
# Each operation's test runs in a savepoint of the module's transaction: what one operation
# writes is gone before the next.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def all_scopes_token(django_db_setup, django_db_blocker):
    """The tiny demo company and a token holding every scope the API knows (read off
    ``core.api.permissions.SCOPES``), in a transaction rolled back after the module."""
    from core.api.permissions import SCOPES
    from core.services import api_client_create
    from home.demo import seed_demo
    from tests.conftest import AS_OF

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            seed_demo(scale="tiny", seed=7, as_of=AS_OF)
            _, token = api_client_create(name="schemathesis", scopes=sorted(SCOPES))
            yield token
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(scope="module")
def calls(all_scopes_token, django_db_blocker):
    from django.core.cache import cache

    from config.wsgi import application

    def call(case):
        cache.clear()  # no rate limit between generated calls
        # Django closes "old" connections at each request; here that would close the
        # transaction holding the demo company (the test client disconnects the same way).
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            with django_db_blocker.unblock():
                return case.call(app=application, headers={"Authorization": f"Bearer {all_scopes_token}"})
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)

    return call


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None, derandomize=True, database=None)
def test_operation(case, calls):
    response = calls(case)
    case.validate_response(response, checks=(not_a_server_error, response_schema_conformance))


def test_the_fuzzed_schema_is_the_served_one(calls, all_scopes_token, django_db_blocker):
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {all_scopes_token}")
    with django_db_blocker.unblock():
        served = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert served.status_code == 200
    assert json.loads(served.content) == generated_schema()
    assert len([op for path in schema.raw_schema["paths"].values() for op in path]) >= 90


def known_keys() -> dict[str, str]:
    from compensation.models import Statement
    from inventory.models import Product
    from territories.models import Account, QuotaPlan, Territory

    return {
        "sku": Product.objects.order_by("sku").first().sku,
        "account": Account.objects.order_by("external_id").first().external_id,
        "territory": Territory.objects.order_by("code").first().code,
        "plan": QuotaPlan.objects.order_by("code").first().code,
        "statement": str(Statement.objects.order_by("id").first().pk),
    }


def test_answers_to_valid_requests_match_the_schema(calls, django_db_blocker):
    """Requests random generation rarely gets right (a rep or territory that exists, real keys):
    their answers match the schema too."""
    with django_db_blocker.unblock():
        keys = known_keys()
    requests = [
        ("/api/v1/attainment/", {"rep_username": "rep1"}, {}),
        ("/api/v1/attainment/", {"territory_code": keys["territory"], "measure": "units"}, {}),
        ("/api/v1/products/{sku}/", {}, {"sku": keys["sku"]}),
        ("/api/v1/accounts/{external_id}/", {}, {"external_id": keys["account"]}),
        ("/api/v1/quota-plans/{code}/", {}, {"code": keys["plan"]}),
        ("/api/v1/statements/{id}/", {}, {"id": keys["statement"]}),
        ("/api/v1/users/{username}/", {}, {"username": "rep1"}),
    ]
    for path, query, path_parameters in requests:
        case = schema[path]["GET"].Case(query=query, path_parameters=path_parameters)
        response = calls(case)
        assert response.status_code == 200, (path, query, response.text[:300])
        case.validate_response(response, checks=(not_a_server_error, response_schema_conformance))
