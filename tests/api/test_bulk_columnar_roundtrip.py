"""Through HTTP and the database: a batch taken by the columnar path (CSV or JSON) stores
exactly what the same rows store through the exact pandas path."""

import csv
import io
import json

import pytest

from core.bulk import columnar
from inventory.models import Product
from sales.models import SalesOrderLine

COLUMNS = [
    "external_id",
    "order_date",
    "ship_date",
    "account_external_id",
    "product_sku",
    "quantity",
    "net_amount",
    "status",
]


def csv_body(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


@pytest.fixture
def columnar_calls(monkeypatch):
    """How many batches the columnar path accepted."""
    accepted = []
    validate = columnar.validate

    def spy(*args, **kwargs):
        result = validate(*args, **kwargs)
        accepted.append(result is not None)
        return result

    monkeypatch.setattr(columnar, "validate", spy)
    return accepted


def stored(prefix: str) -> list[tuple]:
    return [
        (
            line.external_id[len(prefix) :],
            line.order_date,
            line.ship_date,
            line.account_id,
            line.product_id,
            line.quantity,
            line.net_amount,
            line.status,
            line.territory_id,
        )
        for line in SalesOrderLine.objects.filter(external_id__startswith=prefix).order_by("external_id")
    ]


def sales_rows(prefix: str, skus: list[str]) -> list[dict]:
    accounts = ["C100001", "C100002", "C100003"]
    statuses = ["invoiced", "shipped", "booked", "returned", "cancelled"]
    rows = []
    for i in range(40):
        status = statuses[i % 5]
        rows.append(
            {
                "external_id": f"{prefix}{i:03d}",
                "order_date": f"2025-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
                "ship_date": "" if status == "booked" else f"2025-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
                "account_external_id": accounts[i % 3],
                "product_sku": skus[i % len(skus)],
                "quantity": ("-" if status == "returned" and i % 2 else "") + ["1", "2.5", "10.125", "007"][i % 4],
                "net_amount": ("-" if status == "returned" and i % 2 else "") + ["9.99", "0", "1234567.5", "12"][i % 4],
                "status": status,
            }
        )
    return rows


def test_sales_lines_by_csv_store_what_json_stores(demo, erp, columnar_calls, settings):
    api = erp()
    skus = list(Product.objects.order_by("sku").values_list("sku", flat=True)[:7])
    by_csv = api.post("/api/v1/sales-lines/bulk", data=csv_body(sales_rows("CSV-", skus)), content_type="text/csv")
    assert by_csv.status_code == 200, by_csv.json()
    by_json = api.post(
        "/api/v1/sales-lines/bulk", data=json.dumps(sales_rows("JSN-", skus)), content_type="application/json"
    )
    assert by_json.status_code == 200, by_json.json()
    assert columnar_calls == [True, True]
    settings.BULK_COLUMNAR = False  # the exact pandas path, for reference
    exact = api.post(
        "/api/v1/sales-lines/bulk", data=json.dumps(sales_rows("EXA-", skus)), content_type="application/json"
    )
    assert exact.status_code == 200, exact.json()
    assert columnar_calls == [True, True]
    assert (by_csv.json()["created"], by_json.json()["created"], exact.json()["created"]) == (40, 40, 40)
    assert stored("CSV-") == stored("JSN-") == stored("EXA-")
    booked = SalesOrderLine.objects.get(external_id="CSV-002")
    assert booked.ship_date is None and booked.territory_id is not None
    sent_negative = SalesOrderLine.objects.get(external_id="CSV-003")  # a return sent as -007 / -12
    assert str(sent_negative.quantity) == "-7.000" and str(sent_negative.net_amount) == "-12.00"
    sent_positive = SalesOrderLine.objects.get(external_id="CSV-008")  # a return sent as 1 / 9.99
    assert str(sent_positive.quantity) == "-1.000" and str(sent_positive.net_amount) == "-9.99"


def test_csv_updates_and_awkward_text_round_trip(api, columnar_calls):
    assert (
        api.post("/api/v1/product-families/bulk", data=b"code,name\nPMP,Pumps\n", content_type="text/csv").status_code
        == 200
    )
    names = ['Pump, 3" brass', "Tab\there", "back\\slash", "two\nlines", "Café", "", "\\."]
    rows = [
        {
            "sku": f"P-{i}",
            "name": name or "x",
            "family_code": "PMP",
            "unit": "EA",
            "unit_price": "10.5",
            "unit_cost": "4",
            "status": "active",
        }
        for i, name in enumerate(names)
    ]
    first = api.post("/api/v1/products/bulk", data=csv_body(rows), content_type="text/csv")
    assert first.status_code == 200, first.json()
    rows[0]["unit_price"] = "11.25"
    rows.append({**rows[1], "sku": "P-new"})
    again = api.post("/api/v1/products/bulk", data=csv_body(rows), content_type="text/csv")
    assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"]) == (1, 1, 6)
    assert all(columnar_calls) and len(columnar_calls) == 3
    saved = dict(Product.objects.values_list("sku", "name"))
    assert [saved[f"P-{i}"] for i in range(len(names))] == [name or "x" for name in names]
    assert str(Product.objects.get(sku="P-0").unit_price) == "11.2500"


def test_a_bad_cell_in_a_csv_batch_is_named_by_the_exact_path(api, columnar_calls):
    body = b"code,name\nPMP,Pumps\nVLV,\n"
    response = api.post("/api/v1/product-families/bulk", data=body, content_type="text/csv")
    assert response.status_code == 400
    assert columnar_calls == [False]
    errors = response.json()["error"]["details"]["errors"]
    assert [(e["row"], e["field"], e["code"]) for e in errors] == [(1, "name", "required")]
