"""Inputs that used to answer 500 answer 400 (or 413) with the error body; pages answer a 400
page that says what is wrong. Each case is a reproduction from issue 12."""

import html
import json

import pytest
from django.urls import get_resolver

from config.api_urls import router

LISTS = sorted(prefix for prefix, _, _ in router.registry)
# Lists that offer updated_since (run outputs, periods, credits and disputes ignore it).
SYNCED = sorted(
    prefix
    for prefix, viewset, _ in router.registry
    if "updated_since" in getattr(getattr(viewset, "filterset_class", None), "base_filters", {})
)
BAD_TIMES = [
    "2026-01-01T00:00:00+18:00",
    "2026-01-01T00:00:00-14:30",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00+05:00",
]


def error_of(response, status=400) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["code"] and error["message"]
    return error


@pytest.mark.parametrize("value", BAD_TIMES)
def test_out_of_range_times_and_offsets_on_every_list_are_400(demo, login, value):
    api = login("admin")
    assert len(SYNCED) >= 20
    for resource in LISTS:
        response = api.get(f"/api/v1/{resource}/", {"updated_since": value})
        if resource not in SYNCED:
            assert response.status_code == 200, resource
            continue
        error = error_of(response)
        assert error["code"] == "validation_error" and "updated_since" in error["details"], resource


def test_offsets_in_use_are_accepted_and_compared_in_utc(demo, login):
    from inventory.models import Product

    api = login("admin")
    newest = Product.objects.order_by("-updated_at").first().updated_at
    for value in ("2000-01-01T00:00:00+14:00", "2000-01-01T00:00:00-12:00"):
        assert api.get("/api/v1/products/", {"updated_since": value}).status_code == 200
    # the newest change, expressed at +14:00, is still "at or after" itself
    local = newest.astimezone(__import__("datetime").timezone(__import__("datetime").timedelta(hours=14)))
    skus = [p["sku"] for p in api.get("/api/v1/products/", {"updated_since": local.isoformat()}).json()["results"]]
    assert skus and set(skus) <= set(Product.objects.filter(updated_at__gte=newest).values_list("sku", flat=True))


@pytest.mark.parametrize("param", ["created_since", "created_before", "updated_before"])
def test_other_time_filters_refuse_the_same_values(demo, login, param):
    error = error_of(login("admin").get("/api/v1/alerts/", {param: BAD_TIMES[0]}))
    assert param in error["details"]


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("url", ["/api/v1/products/bulk", "/api/v1/territories/bulk", "/api/v1/comp-plans/bulk"])
def test_a_bulk_body_nested_5000_deep_is_a_400(demo, login, url):
    error = error_of(login("admin").post(url, data=nested(5000), content_type="application/json"))
    assert error["code"] == "too_deeply_nested"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/forecast-runs/",
        "/api/v1/plan-runs/",
        "/api/v1/comp-what-if",
        "/api/v1/disputes/1/answer",
        "/api/v1/territory-realignments/",
    ],
)
def test_an_operation_body_nested_5000_deep_is_a_400(demo, login, url):
    body = b'{"a": ' + nested(5000) + b"}"
    error = error_of(login("admin").post(url, data=body, content_type="application/json"))
    assert error["code"] == "too_deeply_nested"


def test_attainment_of_a_month_past_the_calendar_is_a_400(demo, login):
    error = error_of(login("admin").get("/api/v1/attainment/", {"rep_username": "rep1", "period_start": "9999-12-01"}))
    assert error["code"] == "invalid_date"


@pytest.mark.parametrize(
    ("url", "body", "code"),
    [
        ("/api/v1/disputes/1/answer", b"null", "not_an_object"),
        ("/api/v1/comp-what-if", b"[1]", "not_an_object"),
        ("/api/v1/disputes/", b'"x"', "not_an_object"),
        ("/api/v1/spiffs/for-product", b"7", "not_an_object"),
        ("/api/v1/comp-what-if", b'{"plan_code": "X", "period_to": [null, null], "changes": null}', "validation_error"),
        ("/api/v1/comp-what-if", b'{"plan_code": "X", "changes": [1]}', "validation_error"),
        ("/api/v1/spiffs/for-product", b'{"alert_id": "{}"}', "validation_error"),
        ("/api/v1/disputes/", b'{"line_id": "abc", "reason": "x"}', "validation_error"),
    ],
)
def test_operation_bodies_of_the_wrong_shape_are_400(demo, login, url, body, code):
    assert error_of(login("admin").post(url, data=body, content_type="application/json"))["code"] == code


def test_pages_answer_a_400_page_for_a_year_that_is_not_one(demo, login):
    for year in ("abc", "99999", "-1"):
        response = login("manager").get("/territories/attainment/", {"year": year})
        assert response.status_code == 400
        assert f"year '{year}' is not a fiscal year" in html.unescape(response.content.decode())
    assert login("manager").get("/territories/attainment/", {"year": "2026"}).status_code == 200


def test_dispute_and_spiff_forms_answer_a_400_page_for_an_id_that_is_not_one(demo, login):
    response = login("rep1").post("/compensation/disputes/raise", {"line_id": "abc", "reason": "wrong"})
    assert response.status_code == 400 and "line_id must be the number" in response.content.decode()
    response = login("ops").post("/compensation/spiffs/from-alert", {"alert_id": "abc"})
    assert response.status_code == 400 and "alert_id must be the number" in response.content.decode()


def test_a_quota_plan_for_a_year_past_the_calendar_is_refused_with_a_message(demo, login):
    from territories.models import QuotaPlan

    response = login("manager").post("/territories/quotas/", {"code": "FY-FAR", "fiscal_year": "99999"}, follow=True)
    assert response.status_code == 200 and "The fiscal year must be between 1900 and 9998" in response.content.decode()
    assert not QuotaPlan.objects.filter(code="FY-FAR").exists()


def test_the_form_urls_used_above_exist():
    names = {p.name for p in get_resolver("compensation.urls").url_patterns}
    assert {"dispute_raise", "spiff_from_alert"} <= names


# --- big bodies ------------------------------------------------------------------------------


def test_a_bulk_body_over_the_size_limit_is_refused_by_content_length_with_json(demo, erp, settings):
    settings.API_MAX_BULK_BODY_BYTES = 1000
    body = ("code,name\n" + "".join(f"F{i},Family {i}\n" for i in range(100))).encode()
    error = error_of(erp().post("/api/v1/product-families/bulk", data=body, content_type="text/csv"), 413)
    assert error["code"] == "payload_too_large"
    assert error["details"] == {"max_bytes": 1000, "content_length": len(body)}
    assert "at most 1,000 bytes" in error["message"]


def test_a_bulk_body_with_too_many_rows_is_refused_while_streaming(demo, erp, settings):
    from inventory.models import ProductFamily

    settings.API_MAX_BULK_ROWS = 50
    api, before = erp(), ProductFamily.objects.count()
    csv_body = ("code,name\n" + "".join(f"F{i},Family {i}\n" for i in range(51))).encode()
    error = error_of(api.post("/api/v1/product-families/bulk", data=csv_body, content_type="text/csv"))
    assert error["code"] == "too_many_rows" and error["details"] == {"max_rows": 50}
    json_body = json.dumps([{"code": f"F{i}", "name": "{[x]}"} for i in range(51)])
    error = error_of(api.post("/api/v1/product-families/bulk", data=json_body, content_type="application/json"))
    assert error["code"] == "too_many_rows"
    exactly = ("code,name\n" + "".join(f"F{i},Family {i}\n" for i in range(50))).encode()
    assert api.post("/api/v1/product-families/bulk", data=exactly, content_type="text/csv").status_code == 200
    assert ProductFamily.objects.count() == before + 50


def test_operation_bodies_over_the_form_limit_answer_json_413(demo, login, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    api = login("admin")
    big = json.dumps({"plan_code": "x" * 2000})
    error = error_of(api.post("/api/v1/comp-what-if", data=big, content_type="application/json"), 413)
    assert error["code"] == "payload_too_large" and error["details"]["max_bytes"] == 1000
    form = "plan_code=" + "x" * 2000
    error = error_of(api.post("/api/v1/comp-what-if", data=form, content_type="application/x-www-form-urlencoded"), 413)
    assert error["code"] == "payload_too_large"


def test_the_upload_page_refuses_a_file_over_the_limit(demo, login, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.API_MAX_BULK_ROWS = 10
    body = ("code,name\n" + "".join(f"F{i},Family {i}\n" for i in range(11))).encode()
    response = login("admin").post(
        "/data/upload/", {"resource": "product-families", "file": SimpleUploadedFile("f.csv", body, "text/csv")}
    )
    assert response.status_code == 400 and "at most 10 rows" in response.content.decode()
