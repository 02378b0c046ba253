"""CSV exports never hand a spreadsheet a formula (OWASP CSV injection), and keep numbers
as numbers; the JSON API keeps the stored value."""

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest

from core.api.csv_export import _cell, csv_lines

FORMULAS = [
    '=HYPERLINK("http://evil.example","click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\tTAB",
    "\rCR",
    "=1",
    "-",
    "+",
]


def read(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode())))


@pytest.mark.parametrize("text", FORMULAS)
def test_text_that_a_spreadsheet_would_evaluate_is_prefixed_with_a_quote(text):
    assert _cell(text) == "'" + text


@pytest.mark.parametrize(
    "value, shown",
    [
        (Decimal("-12.50"), "-12.50"),
        (-3, "-3"),
        (-0.5, "-0.5"),
        ("-12.50", "-12.50"),
        ("+7", "+7"),
        ("-1e3", "-1e3"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
        ("'quoted", "'quoted"),
        (dt.date(2026, 1, 31), "2026-01-31"),
        (None, ""),
        (True, "true"),
        (["=a", "b"], "'=a;b"),
        (["a", "=b"], "a;=b"),
    ],
)
def test_numbers_and_harmless_text_are_written_as_they_are(value, shown):
    assert _cell(value) == shown


def test_the_csv_round_trips_the_neutralised_cells():
    rows = list(csv.reader(io.StringIO("".join(csv_lines(["name", "amount"], [("=1+1", Decimal("-5.00"))])))))
    assert rows == [["name", "amount"], ["'=1+1", "-5.00"]]


@pytest.fixture
def stored(demo, erp):
    """Products named like formulas, and a return (negative net amount) on the sales lines."""
    from inventory.models import Product
    from territories.models import Account

    api = erp(scopes=["master:write", "sales:write", *_read_scopes()])
    family = Product.objects.order_by("sku").first().family.code
    rows = [
        {
            "sku": f"INJ-{i}",
            "name": name,
            "family_code": family,
            "unit": "EA",
            "unit_price": "1.00",
            "unit_cost": "0.50",
            "status": "active",
        }
        for i, name in enumerate(FORMULAS[:4])
    ]
    assert api.post("/api/v1/products/bulk", data=json.dumps(rows), content_type="application/json").status_code == 200
    line = {
        "external_id": "RET-1",
        "order_date": "2026-06-01",
        "account_external_id": Account.objects.order_by("external_id").first().external_id,
        "product_sku": "INJ-0",
        "quantity": "-1",
        "net_amount": "-12.50",
        "status": "returned",
    }
    response = api.post("/api/v1/sales-lines/bulk", data=json.dumps([line]), content_type="application/json")
    assert response.status_code == 200, response.content
    return api


def _read_scopes() -> list[str]:
    from core.api.permissions import SCOPES

    return [scope for scope in SCOPES if scope.endswith(":read")]


def test_list_exports_neutralise_formulas_while_json_keeps_them(stored):
    exported = {
        row["sku"]: row["name"]
        for row in read(b"".join(stored.get("/api/v1/products/?format=csv&page_size=1000").streaming_content))
        if row["sku"].startswith("INJ-")
    }
    assert exported == {f"INJ-{i}": "'" + name for i, name in enumerate(FORMULAS[:4])}
    listed = {p["sku"]: p["name"] for p in stored.get("/api/v1/products/?page_size=1000").json()["results"]}
    assert [listed[f"INJ-{i}"] for i in range(4)] == FORMULAS[:4]


def test_detail_exports_rendered_from_json_neutralise_too(stored):
    response = stored.get("/api/v1/products/INJ-0/?format=csv")
    assert read(response.content)[0]["name"] == "'" + FORMULAS[0]
    assert stored.get("/api/v1/products/INJ-0/").json()["name"] == FORMULAS[0]


def test_negative_amounts_stay_numbers_in_the_export(stored):
    rows = read(b"".join(stored.get("/api/v1/sales-lines/?format=csv&external_id=RET-1").streaming_content))
    line = next(row for row in rows if row["external_id"] == "RET-1")
    assert line["net_amount"] == "-12.50" and line["quantity"] == "-1.000"


def test_page_exports_neutralise_names(demo, login):
    from django.contrib.auth import get_user_model

    from compensation.models import Statement

    rep = Statement.objects.filter(status="closed").order_by("id").first().rep
    get_user_model().objects.filter(pk=rep.pk).update(last_name="=cmd|' /C calc'!A0")
    rows = read(b"".join(login("admin").get("/compensation/payroll.csv").streaming_content))
    assert {row["last_name"] for row in rows if row["rep_username"] == rep.username} == {"'=cmd|' /C calc'!A0"}
