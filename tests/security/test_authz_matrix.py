"""The authorisation matrix: every API operation of the OpenAPI schema and every page of the URL
conf, requested by every role, anonymously and with tokens holding each single scope (and none),
answers exactly what ``tests/security/authz_matrix.py`` declares — denials included, reads too.

Each test seeds the tiny demo once and requests everything (a few thousand requests), then
lists every disagreement at once.
"""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve

from tests.conftest import AS_OF
from tests.security import authz_matrix as m

MATRIX_FILE = "tests/security/authz_matrix.py"


# --- what exists ----------------------------------------------------------------------------


def schema_operations() -> set[tuple[str, str]]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), path)
        for path, ops in schema["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    }


def url_routes() -> tuple[list[str], list[object]]:
    """Page routes (as written in the URL conf) and the views of every API route."""
    pages, api_views = [], []

    def walk(patterns, prefix=""):
        for p in patterns:
            route = prefix + str(p.pattern)
            if route.startswith(("api/v1/", "api/schema/")):
                if isinstance(p, URLResolver):
                    walk(p.url_patterns, route)
                else:
                    api_views.append((route, p.callback))
            elif route == "admin/":
                pages.append(route)  # the admin site, one row: its own staff check guards every view
            elif isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            else:
                pages.append(route)

    walk(get_resolver().url_patterns)
    return pages, api_views


def fill(path: str, params: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda g: str({**m.MISSING_KEYS, **params}[g.group(1)]), path)


def test_every_endpoint_and_page_has_a_row():
    from core.api.permissions import SCOPES

    problems = []
    operations = schema_operations()
    for op in sorted(operations - set(m.API)):
        problems.append(
            f"API operation {op} has no row: add it to API in {MATRIX_FILE} (who may call it, "
            "what an allowed probe answers)."
        )
    for op in sorted(set(m.API) - operations):
        problems.append(f"Row {op} in API of {MATRIX_FILE} matches no operation of the schema: remove or fix it.")

    pages, api_views = url_routes()
    for route in sorted(set(pages) - set(m.PAGES)):
        problems.append(
            f"Page '{route}' has no row: add it to PAGES in {MATRIX_FILE} (the roles that may open "
            "it, the records its URL needs)."
        )
    for route in sorted(set(m.PAGES) - set(pages)):
        problems.append(f"Row '{route}' in PAGES of {MATRIX_FILE} matches no URL: remove or fix it.")

    # Every API route of the URL conf is an operation of the schema or declared outside it.
    covered = set()
    for method, path in [*operations, *m.API_OUTSIDE_SCHEMA]:
        params = m.API[(method, path)].params if (method, path) in m.API else {}
        covered.add(resolve(fill(path, params)).func)
    for route, view in api_views:
        if view not in covered:
            problems.append(
                f"API route '{route}' is neither in the OpenAPI schema nor in API_OUTSIDE_SCHEMA of "
                f"{MATRIX_FILE}: document it (extend_schema) and add its row."
            )

    if set(m.TOKEN_SCOPES) != set(SCOPES):
        problems.append(
            f"Scopes of core/api/permissions.py {sorted(SCOPES)} differ from TOKEN_SCOPES of "
            f"{MATRIX_FILE} {sorted(m.TOKEN_SCOPES)}: declare the new scope and the rows it opens."
        )
    assert not problems, "\n".join(problems)


# --- who asks -------------------------------------------------------------------------------


def signed_in(role: str) -> Client:
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username=m.PEOPLE[role]))
    return client


def people_clients() -> dict[str, Client]:
    return {role: signed_in(role) for role in m.PEOPLE}


def token_clients() -> dict[str, tuple[Client, frozenset[str]]]:
    """One API client per single scope, and one holding none (as clients created before scopes
    were required may): name → (client, the scopes it is granted, implied ones included)."""
    from core.models import ApiClient
    from core.services import api_client_create

    clients = {}
    for scope in (*m.TOKEN_SCOPES, None):
        name = f"token {scope or '(no scope)'}"
        record, token = api_client_create(
            name=name.replace(" ", "-").replace(":", "-"), scopes=[scope or "alerts:read"]
        )
        if scope is None:
            ApiClient.objects.filter(pk=record.pk).update(scopes=[])
        granted = frozenset({scope, *m.IMPLIES.get(scope, ())}) if scope else frozenset()
        clients[name] = (Client(headers={"Authorization": f"Bearer {token}"}), granted)
    return clients


def expected_ok(ok, who: str) -> int:
    if isinstance(ok, int):
        return ok
    return ok.get(who, ok["default"])


def token_may(scope: str, granted: frozenset[str]) -> bool:
    if scope == m.ANY_WRITE:
        return any(s.endswith(":write") for s in granted)
    return scope in granted


def is_list(path: str) -> bool:
    from core.api.resources import ResourceViewSet

    view = resolve(path).func
    cls = getattr(view, "cls", None)
    return cls is not None and issubclass(cls, ResourceViewSet) and view.actions.get("get") == "list"


def error_code(response) -> str | None:
    try:
        return json.loads(response.content)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


# --- the API --------------------------------------------------------------------------------


def test_api_matrix(demo):
    callers = {role: (client, None) for role, client in people_clients().items()}
    callers.update(token_clients())
    callers["anonymous"] = (Client(), None)
    failures, requests = [], 0
    for (method, path), op in sorted(m.API.items()):
        url = fill(path, op.params) + (f"?{op.query}" if op.query else "")
        variants = [(url, False)]
        if method == "GET" and "{" not in path and is_list(url.split("?")[0]):
            variants.append((url + ("&" if "?" in url else "?") + "format=csv", True))
        for who, (client, granted) in callers.items():
            if who == "anonymous":
                allowed, expect = None, (401, "not_authenticated")
            elif granted is None:  # a person
                allowed = who in op.people
            else:
                allowed = token_may(op.scope, granted)
            if allowed:
                expect = (expected_ok(op.ok, who if granted is None else "token"), None)
            elif allowed is not None:
                expect = (403, "permission_denied")
            for target, as_csv in variants:
                if method == "GET":
                    response = client.get(target)
                else:
                    response = client.post(target, data=json.dumps(op.body), content_type="application/json")
                requests += 1
                status, code = response.status_code, None if response.streaming else error_code(response)
                wrong = status != expect[0] or (expect[1] is not None and code != expect[1])
                if allowed and as_csv and status == 200 and not response["Content-Type"].startswith("text/csv"):
                    wrong = True
                if wrong:
                    body = b"" if response.streaming else response.content[:160]
                    failures.append(
                        f"{who:24} {method:4} {target}: expected {expect[0]}"
                        f"{' ' + expect[1] if expect[1] else ''}, got {status} {code or ''} {body!r}"
                    )
    assert requests > 3000
    assert not failures, f"{len(failures)} of {requests} requests disagree with {MATRIX_FILE}:\n" + "\n".join(failures)


def test_api_routes_outside_the_schema(db):
    """The resource index and the schema hold no data: any caller who signed in or holds a token."""
    from django.contrib.auth import get_user_model

    from core.models import ApiClient
    from core.services import api_client_create

    clients = {"person without a role": Client()}
    clients["person without a role"].force_login(get_user_model().objects.create_user("nobody"))
    for scope in ("alerts:read", None):
        record, token = api_client_create(name=f"outside-{scope}", scopes=["alerts:read"])
        ApiClient.objects.filter(pk=record.pk).update(scopes=[scope] if scope else [])
        clients[f"token {scope}"] = Client(headers={"Authorization": f"Bearer {token}"})
    for (_method, path), (ok, anonymous) in m.API_OUTSIDE_SCHEMA.items():
        for who, client in clients.items():
            assert client.get(path).status_code == ok, (who, path)
        assert Client().get(path).status_code == anonymous, path


# --- the pages ------------------------------------------------------------------------------


def test_page_matrix(demo):
    from forecasting import services as forecasting
    from sop.services import plan_run_create, plan_run_execute

    forecast = forecasting.forecast_run_create(as_of=AS_OF, trigger="command", parameters={"chunk_size": 50})
    forecasting.forecast_run_execute(forecast)
    plan_run_execute(run_id=plan_run_create(as_of=AS_OF, trigger="command").pk)
    from django.contrib.auth import get_user_model

    from sop.cycle_services import cycle_create

    cycle_create(month=AS_OF.replace(day=1), user=get_user_model().objects.get(username="planner"))
    callers = {**people_clients(), "anonymous": Client()}
    failures = []
    for route, page in sorted(m.PAGES.items()):
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", "{\\1}", route)
        path = path.format(**(page.args() if page.args else {}))
        url = path + (f"?{page.query}" if page.query else "")
        for who, client in callers.items():
            if who == "anonymous":
                expect = page.anonymous or 302
            elif who in page.people:
                if not page.call_allowed:
                    continue
                expect = expected_ok(page.ok, who)
            else:
                expect = 403
            if page.signs_out and who != "anonymous":
                client = signed_in(who)
            response = client.post(url, page.data or {}) if page.method == "POST" else client.get(url)
            status = response.status_code
            wrong = status != expect
            if who == "anonymous" and page.anonymous is None and not wrong:
                wrong = not response["Location"].startswith(page.sign_in)
            if wrong:
                failures.append(
                    f"{who:14} {page.method:4} {url}: expected {expect}, got {status} {response.get('Location', '')}"
                )
    assert not failures, f"{len(failures)} page requests disagree with {MATRIX_FILE}:\n" + "\n".join(failures)


@pytest.mark.parametrize("route", ["forecasts/runs/start/", "supply/runs/start/"])
def test_run_start_pages_are_post_only(demo, login, route):
    assert login("admin").get(f"/{route}").status_code == m.NOT_ALLOWED
