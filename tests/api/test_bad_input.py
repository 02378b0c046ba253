"""Bad input to operations gets a 4xx with the error body, never a 500."""

import pytest

CASES = [
    ("/api/v1/forecast-runs/", b'{"horizon": "abc"}', "application/json"),
    ("/api/v1/forecast-runs/", b'{"as_of": "2026-13-45"}', "application/json"),
    ("/api/v1/forecast-runs/", b"[1, 2", "application/json"),
    ("/api/v1/plan-runs/", b'{"forecast": "maybe"}', "application/json"),
    ("/api/v1/plan-runs/", b'{"as_of": 12}', "application/json"),
    ("/api/v1/alerts/999999/acknowledge", b"{}", "application/json"),
    ("/api/v1/alerts/999999/resolve", b"{}", "application/json"),
    ("/api/v1/territory-realignments/", b'{"effective_from": "yesterday"}', "application/json"),
    ("/api/v1/comp-periods/2026-02-30/close", b"{}", "application/json"),
    ("/api/v1/sales-lines/bulk", b"external_id,order_date\nA,2026-01-01\n", "text/csv"),
    ("/api/v1/products/bulk", b"\xff\xfe\x00", "text/csv"),
    ("/api/v1/products/bulk", b'[{"sku": ["a"], "name": {"x": 1}}]', "application/json"),
]


@pytest.mark.parametrize(("url", "body", "content_type"), CASES)
def test_bad_input_is_a_client_error_with_the_error_body(demo, login, url, body, content_type):
    response = login("admin").post(url, data=body, content_type=content_type)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["code"] and error["message"]


LISTS = [
    "product-families",
    "products",
    "locations",
    "accounts",
    "sales-lines",
    "ingest-batches",
    "plants",
    "work-centers",
    "capacity",
    "routings",
    "inventory-snapshots",
    "inventory-lots",
    "inventory-policies",
    "inventory-positions",
    "plan-runs",
    "capacity-load",
    "supply-plan",
    "alerts",
    "forecast-runs",
    "forecasts",
]
QUERIES = [
    "updated_since=garbage",
    "updated_since=2026-13-45",
    "cursor=%25%25",
    "cursor=abc",
    "page_size=99999999",
    "page_size=-1",
    "format=xml",
    "ordering=nope",
    "order_date_after=x",
    "status=zzz",
    "period_start=2026-99-01",
    "severity=%00",
    "product_sku=%00",
]


def test_bad_query_parameters_and_keys_never_cause_a_server_error(demo, login):
    api = login("admin")
    failures = []
    for resource in LISTS:
        for query in QUERIES:
            if api.get(f"/api/v1/{resource}/?{query}").status_code >= 500:
                failures.append(f"{resource}?{query}")
        for key in ("%00", "x" * 3000):
            if api.get(f"/api/v1/{resource}/{key}/").status_code >= 500:
                failures.append(f"{resource}/{key[:10]}")
    assert not failures
