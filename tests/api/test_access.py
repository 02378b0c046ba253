"""Authentication, scopes, roles, rate limits and pagination of the API."""

import datetime as dt
import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import ApiToken
from core.services import api_token_revoke


def test_anonymous_calls_get_401_in_the_error_body(db):
    response = APIClient().get("/api/v1/products/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bad_token_gets_401(db):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Bearer sop_not-a-real-token")
    assert api.get("/api/v1/products/").status_code == 401


def test_revoked_token_gets_401(api):
    assert api.get("/api/v1/products/").status_code == 200
    api_token_revoke(token=ApiToken.objects.get(client=api.client_record))
    response = api.get("/api/v1/products/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_expired_token_gets_401(erp):
    api = erp(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert api.get("/api/v1/products/").status_code == 401


def test_token_without_the_scope_gets_403(erp):
    api = erp(scopes=["sales:write"])
    response = api.post("/api/v1/products/bulk", data="[]", content_type="application/json")
    assert response.status_code == 403
    assert "master:write" in response.json()["error"]["message"]


def test_session_users_use_the_api_with_their_role(demo, login):
    rep = login("rep1")
    own = rep.get("/api/v1/accounts/?page_size=1000").json()["results"]
    everyone = login("planner").get("/api/v1/accounts/?page_size=1000").json()["results"]
    assert 0 < len(own) < len(everyone)
    denied = rep.post("/api/v1/products/bulk", data="[]", content_type="application/json")
    assert denied.status_code == 403


def test_rep_cannot_open_another_reps_account_by_key(demo, login):
    from django.contrib.auth import get_user_model

    from territories.models import Account

    rep = get_user_model().objects.get(username="rep1")
    foreign = Account.objects.exclude(pk__in=Account.objects.for_user(rep)).first()
    assert login("rep1").get(f"/api/v1/accounts/{foreign.external_id}/").status_code == 404


def test_rate_limit_answers_429_with_retry_after(erp, settings):
    api = erp(rate_limit="3/min")
    codes = [api.get("/api/v1/locations/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = api.get("/api/v1/locations/")
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "throttled"


def test_cursor_pagination_is_stable_while_rows_are_inserted(api):
    rows = [{"code": f"L{i:03d}", "name": f"Location {i}"} for i in range(0, 30)]
    api.post("/api/v1/locations/bulk", data=json.dumps(rows), content_type="application/json")
    page1 = api.get("/api/v1/locations/?page_size=10").json()
    # New rows arrive (and an early row changes) between page requests.
    more = [{"code": f"A{i:03d}", "name": "inserted meanwhile"} for i in range(5)] + [
        {"code": "L000", "name": "renamed"}
    ]
    api.post("/api/v1/locations/bulk", data=json.dumps(more), content_type="application/json")
    seen = [r["code"] for r in page1["results"]]
    url = page1["next"]
    while url:
        page = api.get(url).json()
        seen += [r["code"] for r in page["results"]]
        url = page["next"]
    assert seen[:30] == [f"L{i:03d}" for i in range(30)]
    assert len(seen) == len(set(seen)) == 35


def test_updated_since_returns_only_changed_rows(api):
    api.post(
        "/api/v1/locations/bulk",
        data=json.dumps([{"code": "A", "name": "a"}, {"code": "B", "name": "b"}]),
        content_type="application/json",
    )
    mark = timezone.now()
    api.post(
        "/api/v1/locations/bulk",
        data=json.dumps([{"code": "A", "name": "a2"}, {"code": "B", "name": "b"}]),
        content_type="application/json",
    )
    changed = api.get("/api/v1/locations/", {"updated_since": mark.isoformat()}).json()["results"]
    assert [r["code"] for r in changed] == ["A"]


def test_csv_export_streams_the_filtered_list(demo, login):
    response = login("planner").get("/api/v1/sales-lines/?format=csv&status=returned")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("external_id,order_date,ship_date,account_external_id,product_sku")
    from sales.models import SalesOrderLine

    assert len(lines) - 1 == SalesOrderLine.objects.filter(status="returned").count()
    assert all(",returned," in line for line in lines[1:])


def test_csv_export_by_accept_header(api):
    response = api.get("/api/v1/products/", HTTP_ACCEPT="text/csv")
    assert response["Content-Type"].startswith("text/csv")


def test_detail_by_natural_key_and_404_body(api):
    api.post(
        "/api/v1/locations/bulk",
        data=json.dumps([{"code": "DC.1", "name": "Dock 1", "kind": "warehouse"}]),
        content_type="application/json",
    )
    assert api.get("/api/v1/locations/DC.1/").json()["name"] == "Dock 1"
    missing = api.get("/api/v1/locations/NOPE/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/docs/"])
def test_api_docs_need_a_login(client, db, path):
    assert client.get(path).status_code == 302


def test_redoc_is_dropped_so_no_page_loads_third_party_fonts(client, db):
    """Issue 16: ReDoc loaded Google Fonts and cdn.redoc.ly; Swagger UI is served locally."""
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create(username="someone"))
    assert client.get("/api/redoc/").status_code == 404
    docs = client.get("/api/docs/").content.decode()
    assert "fonts.googleapis" not in docs and "cdn.redoc.ly" not in docs and "//cdn" not in docs
