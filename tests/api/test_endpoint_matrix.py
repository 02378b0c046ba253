"""Every API list, as every role through the session and as CSV: never a server error;
anonymous callers always get 401 in the error body."""

import pytest

from tests.conftest import AS_OF

ROLES = ["admin", "manager", "rep1", "planner", "ops", "exec"]


def list_urls() -> list[str]:
    from config.api_urls import router

    return [f"/api/v1/{prefix}/" for prefix, _viewset, _basename in router.registry]


@pytest.mark.parametrize("username", ROLES)
def test_every_list_answers_every_role_without_server_error(demo, login, username):
    from sop.services import plan_run_create, plan_run_execute

    plan_run_execute(run_id=plan_run_create(as_of=AS_OF, trigger="command").pk)
    client = login(username)
    failures = {}
    for url in list_urls():
        for suffix in ("", "?format=csv"):
            response = client.get(url + suffix)
            if response.status_code not in (200, 403):
                failures[url + suffix] = response.status_code
            elif response.status_code == 403 and not suffix:
                assert response.json()["error"]["code"] == "permission_denied", url
    assert not failures, failures


def test_every_list_refuses_anonymous_callers(db, client):
    for url in list_urls():
        response = client.get(url)
        assert response.status_code == 401, url
        assert response.json()["error"]["code"] == "not_authenticated", url
