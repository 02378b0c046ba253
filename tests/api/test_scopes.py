"""Token scopes limit reads as well as writes; clients cannot be created without a valid scope;
a token stops working with its service user. (Every endpoint × scope is in tests/security.)"""

import json

import pytest
from django.core.management import CommandError, call_command

from core.errors import ApplicationError
from core.models import ApiClient

LEAKED_BEFORE = [  # what any token could read (issue 12, item 1)
    "/api/v1/sales-lines/?format=csv",
    "/api/v1/accounts/",
    "/api/v1/quotas/",
    "/api/v1/attainment/?rep_username=rep1&period_start=2026-05-01",
    "/api/v1/users/",
    "/api/v1/territory-assignments/",
    "/api/v1/inventory-positions/",
    "/api/v1/capacity/",
]


@pytest.mark.parametrize("scopes", [["alerts:read"], ["inventory:write"], ["comp:read"]])
def test_a_token_reads_nothing_outside_its_scopes(demo, erp, scopes):
    api = erp(scopes=scopes)
    readable = {"/api/v1/inventory-positions/"} if scopes == ["inventory:write"] else set()
    for url in LEAKED_BEFORE:
        response = api.get(url)
        if url in readable:
            assert response.status_code == 200, url
            continue
        assert response.status_code == 403, url
        body = response.json()["error"]
        assert body["code"] == "permission_denied" and "lacks the '" in body["message"], url


def test_a_write_scope_reads_back_what_it_writes(erp):
    api = erp(scopes=["master:write"])
    rows = [{"code": "DC1", "name": "Dock 1"}]
    assert api.post("/api/v1/locations/bulk", data=json.dumps(rows), content_type="application/json").status_code == 200
    assert [r["code"] for r in api.get("/api/v1/locations/").json()["results"]] == ["DC1"]
    assert api.get("/api/v1/ingest-batches/").json()["results"][0]["resource"] == "locations"
    assert api.get("/api/v1/sales-lines/").status_code == 403  # master:write is not sales:read


def test_each_read_scope_opens_its_family_only(demo, erp):
    sales = erp(scopes=["sales:read"], name="sales-reader")
    assert sales.get("/api/v1/sales-lines/?format=csv").status_code == 200
    assert sales.get("/api/v1/accounts/").status_code == 403  # accounts are master data
    master = erp(scopes=["master:read"], name="master-reader")
    assert master.get("/api/v1/accounts/").status_code == 200
    assert master.get("/api/v1/products/").status_code == 200
    assert master.get("/api/v1/ingest-batches/").status_code == 403  # a reader has no batches
    quotas = erp(scopes=["quotas:read"], name="quota-reader")
    attainment = quotas.get("/api/v1/attainment/?rep_username=rep1&period_start=2026-05-01")
    assert attainment.status_code == 200 and attainment.json()["owner"] == "rep1"
    assert quotas.get("/api/v1/users/").status_code == 403
    users = erp(scopes=["users:read"], name="user-reader")
    assert "rep1" in {u["username"] for u in users.get("/api/v1/users/?page_size=1000").json()["results"]}


def test_a_token_without_scopes_is_refused_everything(demo, erp):
    # Clients created before scopes were required may hold an empty list.
    api = erp(scopes=["alerts:read"])
    ApiClient.objects.filter(pk=api.client_record.pk).update(scopes=[])
    for url in ["/api/v1/alerts/", "/api/v1/ingest-batches/", *LEAKED_BEFORE]:
        assert api.get(url).status_code == 403, url


def test_a_token_stops_working_when_its_service_user_is_deactivated(erp):
    api = erp(scopes=["master:read"])
    assert api.get("/api/v1/products/").status_code == 200
    user = api.client_record.user
    user.is_active = False
    user.save()
    response = api.get("/api/v1/products/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


@pytest.mark.parametrize(
    ("scopes", "message"),
    [
        ("", "Give the client at least one scope"),
        (" , ", "Give the client at least one scope"),
        ("master:read,sales:raed", "Unknown scope(s): sales:raed."),
        ("MASTER:READ", "Unknown scope(s): MASTER:READ."),
    ],
)
def test_create_api_client_refuses_empty_and_unknown_scopes(db, scopes, message):
    with pytest.raises(CommandError) as error:
        call_command("create_api_client", "x", "--scopes", scopes)
    assert message in str(error.value) and "Known scopes: master:read, master:write" in str(error.value)
    assert not ApiClient.objects.exists()


def test_create_api_client_prints_the_token_once(db, capsys):
    call_command("create_api_client", "erp", "--scopes", "sales:write,plans:read")
    out = capsys.readouterr().out
    assert "created with scopes: plans:read, sales:write" in out
    assert out.strip().splitlines()[-1].startswith("sop_")


def test_the_service_refuses_a_scope_list_that_is_not_a_list(db):
    from core.services import api_client_create

    with pytest.raises(ApplicationError) as error:
        api_client_create(name="x", scopes="master:read")  # a string would be read letter by letter
    assert error.value.code == "invalid_scopes"


def test_the_admin_form_refuses_empty_and_unknown_scopes(erp, client):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    record = erp(scopes=["alerts:read"]).client_record
    url = f"/admin/core/apiclient/{record.pk}/change/"
    form = {
        "name": record.name,
        "rate_limit": "",
        "is_active": "on",
        "tokens-TOTAL_FORMS": "1",
        "tokens-INITIAL_FORMS": "1",
        "tokens-MIN_NUM_FORMS": "0",
        "tokens-MAX_NUM_FORMS": "1000",
        "tokens-0-id": str(record.tokens.get().pk),
        "tokens-0-client": str(record.pk),
        "tokens-0-expires_at_0": "",
        "tokens-0-expires_at_1": "",
        "tokens-0-revoked_at_0": "",
        "tokens-0-revoked_at_1": "",
    }
    refused = client.post(url, form)
    assert refused.status_code == 200
    assert "Give the client at least one scope" in refused.content.decode()
    unknown = client.post(url, {**form, "scopes": ["alerts:read", "everything"]})
    assert "Select a valid choice" in unknown.content.decode()
    record.refresh_from_db()
    assert record.scopes == ["alerts:read"]
    saved = client.post(url, {**form, "scopes": ["sales:read", "alerts:read"]})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    record.refresh_from_db()
    assert record.scopes == ["alerts:read", "sales:read"]
    assert client.get("/admin/core/apiclient/add/").status_code == 403  # the command creates clients


def test_every_write_scope_implies_its_read_and_a_family_is_one_line():
    from core.api import permissions

    for family, (_readers, writers) in permissions.FAMILIES.items():
        assert f"{family}:read" in permissions.SCOPES
        if writers is not None:
            assert permissions.granted_scopes([f"{family}:write"]) == {f"{family}:write", f"{family}:read"}
    assert permissions.granted_scopes(["forecasts:run"]) == {"forecasts:run", "plans:read"}
    assert permissions.granted_scopes(["nonsense", "alerts:read"]) == {"alerts:read"}
