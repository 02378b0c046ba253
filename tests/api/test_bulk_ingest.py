"""Bulk upsert through HTTP: all or nothing, idempotent, every bad row named."""

import io
import json

import pandas as pd
import pytest

from core.models import IngestBatch
from inventory.models import Product, ProductFamily
from sales.models import SalesOrderLine

FAMILIES = [{"code": "PMP", "name": "Pumps"}, {"code": "VLV", "name": "Valves"}]


def post_json(api, resource, rows, **headers):
    return api.post(f"/api/v1/{resource}/bulk", data=json.dumps(rows), content_type="application/json", **headers)


def post_csv(api, resource, text, **headers):
    return api.post(f"/api/v1/{resource}/bulk", data=text.encode(), content_type="text/csv", **headers)


def products(n, start=0, price="10.50"):
    return [
        {
            "sku": f"SKU-{i:05d}",
            "name": f"Product {i}",
            "family_code": "PMP" if i % 2 else "VLV",
            "unit": "EA",
            "unit_price": price,
            "unit_cost": "4.25",
            "status": "active",
        }
        for i in range(start, start + n)
    ]


@pytest.fixture
def families(api):
    assert post_json(api, "product-families", FAMILIES).status_code == 200


def test_upsert_counts_created_updated_unchanged(api, families):
    first = post_json(api, "products", products(5))
    assert first.status_code == 200
    assert first.json() | {"batch_id": 0} == {
        "batch_id": 0,
        "resource": "products",
        "status": "applied",
        "rows": 5,
        "created": 5,
        "updated": 0,
        "unchanged": 0,
    }
    rows = products(6)
    rows[0]["unit_price"] = "11.00"
    second = post_json(api, "products", rows).json()
    assert (second["created"], second["updated"], second["unchanged"]) == (1, 1, 4)
    assert str(Product.objects.get(sku="SKU-00000").unit_price) == "11.0000"


def test_money_keeps_every_digit_from_json_numbers(api, families):
    rows = products(1)
    body = json.dumps(rows).replace('"10.50"', "1234567890.1234")
    response = api.post("/api/v1/products/bulk", data=body, content_type="application/json")
    assert response.status_code == 200, response.json()
    assert str(Product.objects.get().unit_price) == "1234567890.1234"


def test_same_idempotency_key_and_body_replays_the_first_response(api, families):
    rows = products(20)
    first = post_json(api, "products", rows, HTTP_IDEMPOTENCY_KEY="nightly-2026-11-25-1")
    again = post_json(api, "products", rows, HTTP_IDEMPOTENCY_KEY="nightly-2026-11-25-1")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Product.objects.count() == 20
    assert IngestBatch.objects.filter(resource="products", status="applied").count() == 1


def test_same_idempotency_key_with_another_body_is_a_conflict(api, families):
    post_json(api, "products", products(3), HTTP_IDEMPOTENCY_KEY="k-1")
    response = post_json(api, "products", products(4), HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Product.objects.count() == 3


def test_an_expired_idempotency_key_starts_a_new_batch(api, families, settings):
    import datetime as dt

    from django.utils import timezone

    from core.models import IdempotencyRecord

    post_json(api, "products", products(2), HTTP_IDEMPOTENCY_KEY="k-old")
    IdempotencyRecord.objects.update(
        created_at=timezone.now() - dt.timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS + 1)
    )
    again = post_json(api, "products", products(3), HTTP_IDEMPOTENCY_KEY="k-old")
    assert again.status_code == 200 and "Idempotent-Replayed" not in again
    assert (again.json()["created"], again.json()["unchanged"]) == (1, 2)
    assert IdempotencyRecord.objects.filter(key="k-old").count() == 1


def test_ten_thousand_rows_with_37_bad_ones_write_nothing_and_list_all_37(api, families):
    rows = products(10_000)
    bad_rows = sorted({(i * 269 + 11) % 10_000 for i in range(37)})
    assert len(bad_rows) == 37
    fields = ["unit_price", "family_code", "name", "status"]
    for n, i in enumerate(bad_rows):
        field = fields[n % 4]
        rows[i][field] = {"unit_price": "12,5x", "family_code": "NOPE", "name": "", "status": "sold"}[field]
    response = post_json(api, "products", rows)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_rows"
    assert error["details"]["invalid_rows"] == 37 and error["details"]["error_count"] == 37
    listed = [(e["row"], e["field"]) for e in error["details"]["errors"]]
    assert listed == [(i, fields[n % 4]) for n, i in enumerate(bad_rows)]
    assert "37 of 10,000 rows are invalid" in error["message"]
    assert Product.objects.count() == 0
    assert IngestBatch.objects.get(status="rejected").error_count == 37


def test_csv_and_json_bodies_give_the_same_result(erp, families):
    json_api, csv_api = erp(name="json-client"), erp(name="csv-client")
    rows = products(50)
    json_result = post_json(json_api, "products", rows).json()
    csv_text = pd.DataFrame(rows).to_csv(index=False)
    Product.objects.all().delete()
    csv_result = post_csv(csv_api, "products", csv_text).json()
    assert {k: v for k, v in csv_result.items() if k != "batch_id"} == {
        k: v for k, v in json_result.items() if k != "batch_id"
    }
    exported = csv_api.get("/api/v1/products/?format=csv")
    frame = pd.read_csv(io.StringIO(b"".join(exported.streaming_content).decode()), dtype=str)
    assert frame["sku"].tolist() == [r["sku"] for r in rows]


def test_duplicate_key_within_a_batch_is_a_row_error(api, families):
    rows = products(3) + products(1)
    response = post_json(api, "products", rows)
    assert response.status_code == 400
    errors = response.json()["error"]["details"]["errors"]
    assert [(e["row"], e["code"]) for e in errors] == [(0, "duplicate_key"), (3, "duplicate_key")]
    assert "first at row 0" in errors[1]["message"]


def test_unknown_and_missing_columns_name_the_fields(api, families):
    response = post_json(api, "products", [{"sku": "A", "name": "x", "family_code": "PMP", "colour": "red"}])
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_columns"
    assert error["details"]["unknown_fields"] == ["colour"]
    assert error["details"]["missing_fields"] == ["unit_price", "unit_cost"]


def test_a_semicolon_separated_csv_is_told_what_separator_to_use(api, families):
    body = b"code;name\nPMP;Pumps\n"
    response = api.post("/api/v1/product-families/bulk", data=body, content_type="text/csv")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_columns"
    assert error["details"]["unknown_fields"] == ["code;name"]
    assert "separated by ';': CSV bodies are comma-separated" in error["message"]


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_a_nul_character_is_a_row_error_not_a_server_error(api, kind):
    rows = [{"code": "PMP", "name": "Pumps"}, {"code": "VLV", "name": "Val\x00ves"}]
    if kind == "csv":
        response = post_csv(api, "product-families", "code,name\nPMP,Pumps\nVLV,Val\x00ves\n")
    else:
        response = post_json(api, "product-families", rows)
    assert response.status_code == 400
    errors = response.json()["error"]["details"]["errors"]
    assert [(e["row"], e["field"], e["code"]) for e in errors] == [(1, "name", "invalid_character")]
    assert not ProductFamily.objects.exists()


def test_malformed_bodies_get_clear_errors(api):
    bad_json = api.post("/api/v1/products/bulk", data=b"[{", content_type="application/json")
    assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == "malformed_json"
    not_list = post_json(api, "products", {"sku": "A"})
    assert not_list.json()["error"]["code"] == "not_an_array"
    xml = api.post("/api/v1/products/bulk", data=b"<a/>", content_type="application/xml")
    assert xml.status_code == 415


def test_sales_lines_returns_are_stored_negative_and_credited_on_order_date(demo, erp):
    api = erp()
    account = "C100001"
    sku = Product.objects.order_by("sku").first().sku
    csv_text = (
        "external_id,order_date,ship_date,account_external_id,product_sku,quantity,net_amount,status\n"
        f"T-1,2026-03-02,2026-03-04,{account},{sku},4,400.00,invoiced\n"
        f"T-2,2026-03-20,,{account},{sku},1,100.00,returned\n"
    )
    response = post_csv(api, "sales-lines", csv_text)
    assert response.status_code == 200, response.json()
    ret = SalesOrderLine.objects.get(external_id="T-2")
    assert ret.quantity < 0 and ret.net_amount < 0
    from territories.models import AccountAssignment

    owner = AccountAssignment.objects.get(
        account__external_id=account, valid_from__lte="2026-03-02", valid_to__isnull=True
    ).territory_id
    assert ret.territory_id == owner


def test_sales_line_rules_name_row_and_field(demo, erp):
    api = erp()
    sku = Product.objects.first().sku
    rows = [
        {
            "external_id": "B-1",
            "order_date": "2026-02-30",
            "account_external_id": "C100001",
            "product_sku": sku,
            "quantity": "1",
            "net_amount": "5",
            "status": "booked",
        },
        {
            "external_id": "B-2",
            "order_date": "2026-02-03",
            "ship_date": "2026-02-01",
            "account_external_id": "NOPE",
            "product_sku": sku,
            "quantity": "-3",
            "net_amount": "5",
            "status": "invoiced",
        },
    ]
    errors = post_json(api, "sales-lines", rows).json()["error"]["details"]["errors"]
    assert {(e["row"], e["field"], e["code"]) for e in errors} == {
        (0, "order_date", "invalid_date"),
        (1, "account_external_id", "unknown_reference"),
        (1, "quantity", "invalid_sign"),
        (1, "ship_date", "before_order_date"),
    }
    assert not SalesOrderLine.objects.filter(external_id__startswith="B-").exists()


def test_batches_are_listed_for_their_client(api, erp, families):
    post_json(api, "products", products(2))
    other = erp(name="someone-else")
    listed = api.get("/api/v1/ingest-batches/").json()["results"]
    assert {b["resource"] for b in listed} == {"product-families", "products"}
    assert all(b["client"] == "erp-test" for b in listed)
    assert other.get("/api/v1/ingest-batches/").json()["results"] == []


def test_family_rename_updates_only_that_row(api, families):
    response = post_json(
        api, "product-families", [{"code": "PMP", "name": "Pumps & motors"}, {"code": "VLV", "name": "Valves"}]
    )
    assert (response.json()["updated"], response.json()["unchanged"]) == (1, 1)
    assert ProductFamily.objects.get(code="PMP").name == "Pumps & motors"


def test_accounts_get_model_defaults_on_insert_and_keep_them_on_update(api):
    from territories.models import Account

    rows = [{"external_id": "A-1", "name": "Acme", "country": "US"}]
    assert post_json(api, "accounts", rows).status_code == 200
    account = Account.objects.get(external_id="A-1")
    assert account.exclude_from_realignment is False and account.industry == ""
    Account.objects.filter(pk=account.pk).update(exclude_from_realignment=True)
    rows[0]["name"] = "Acme Inc"
    assert post_json(api, "accounts", rows).json()["updated"] == 1
    account.refresh_from_db()
    assert account.name == "Acme Inc" and account.exclude_from_realignment is True


@pytest.mark.parametrize("columnar", [True, False])
@pytest.mark.parametrize(
    "body, field, code",
    [
        (b'[{"code": "PMP", "name": "Pumps"}, {"code": "VLV", "name": "Va\\ud800lves"}]', "name", "invalid_character"),
        (b'[{"code": "PMP", "name": "Pumps"}, {"code": {"a": 1}, "name": "Valves"}]', "code", "invalid_type"),
    ],
)
def test_json_values_no_field_can_take_are_row_errors(api, settings, columnar, body, field, code):
    """An unpaired surrogate escape or a JSON object as a value: 400 naming the cell, never a 500."""
    settings.BULK_COLUMNAR = columnar
    response = api.post("/api/v1/product-families/bulk", data=body, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_rows"
    assert [(e["row"], e["field"], e["code"]) for e in error["details"]["errors"]] == [(1, field, code)]
    assert not ProductFamily.objects.exists()


@pytest.mark.parametrize("columnar", [True, False])
def test_rows_without_fields_are_not_an_empty_batch(api, settings, columnar):
    settings.BULK_COLUMNAR = columnar
    response = post_json(api, "product-families", [{}, {}])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_columns"
    assert response.json()["error"]["details"]["missing_fields"] == ["code", "name"]


def test_emoji_in_json_text_is_kept(api):
    assert post_json(api, "product-families", [{"code": "PMP", "name": "Pumps \U0001f680"}]).status_code == 200
    assert ProductFamily.objects.get().name == "Pumps \U0001f680"


def test_a_csv_that_is_not_utf8_names_the_row(api):
    body = "code,name\nPMP,Pumps\nVLV,Vannes à bille\n".encode("cp1252")
    response = api.post("/api/v1/product-families/bulk", data=body, content_type="text/csv")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "malformed_csv"
    assert "not UTF-8: byte 0xe0 in row 1 (line 3)" in error["message"]
    assert error["details"]["row"] == 1


def test_a_family_names_its_demand_planner_by_username_or_none(api, db):
    from django.contrib.auth import get_user_model

    paula = get_user_model().objects.create(username="paula")
    body = "code,name,planner_username\nPMP,Pumps,paula\nVLV,Valves,\n"
    assert post_csv(api, "product-families", body).status_code == 200
    assert ProductFamily.objects.get(code="PMP").planner == paula
    assert ProductFamily.objects.get(code="VLV").planner is None
    bad = post_csv(api, "product-families", "code,name,planner_username\nCTL,Controls,nobody\n")
    assert bad.status_code == 400
    [error] = bad.json()["error"]["details"]["errors"]
    assert (error["row"], error["field"], error["code"]) == (0, "planner_username", "unknown_reference")
    assert not ProductFamily.objects.filter(code="CTL").exists()
