"""Every page without URL arguments, opened by every demo role: never a server error, and
anonymous visitors always go to the login page."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import AS_OF

ROLES = ["admin", "manager", "rep1", "planner", "ops", "exec"]
SKIP_PREFIXES = ("admin/", "api/", "static/")


def plain_pages() -> list[str]:
    """Paths of the app's GET pages that take no URL argument."""
    out = []

    def walk(patterns, prefix=""):
        for p in patterns:
            route = str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + route)
            elif isinstance(p, URLPattern) and "<" not in route and "(?P" not in route:
                path = "/" + prefix + route.lstrip("^").rstrip("$")
                if not path.lstrip("/").startswith(SKIP_PREFIXES) and "." not in path:
                    out.append(path)

    walk(get_resolver().url_patterns)
    return sorted(set(out))


def test_the_page_list_covers_every_area():
    pages = plain_pages()
    for area in ("/forecasts/", "/supply/alerts/", "/territories/", "/compensation/", "/data/upload/"):
        assert area in pages, pages


@pytest.mark.parametrize("username", ROLES)
def test_no_page_fails_for_any_role(demo, login, username):
    from sop.services import plan_run_create, plan_run_execute

    plan_run_execute(run_id=plan_run_create(as_of=AS_OF, trigger="command").pk)
    client = login(username)
    failures = {}
    for path in plain_pages():
        status = client.get(path).status_code
        if status >= 500 or status not in (200, 302, 403, 405):
            failures[path] = status
    assert not failures, failures


def test_anonymous_visitors_are_sent_to_login_from_every_page(db, client):
    for path in plain_pages():
        if path in ("/healthz", "/accounts/login/", "/language/"):  # the switch works on the sign-in page too
            continue
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], path
