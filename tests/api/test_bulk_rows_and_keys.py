"""Rows that would be stored shifted, and keys that only look alike, are row errors.

A CSV row with more or fewer cells than the header is refused naming the row (pandas would
read one extra cell as an index and shift the row); natural keys are stored in Unicode NFC,
and keys holding control, zero-width or bidi-override characters are refused. Both the
columnar (Arrow) and the exact (pandas) paths; nothing is written on a refusal.
"""

import json
import unicodedata

import pytest

from core.bulk import keys
from core.models import IngestBatch
from inventory.models import Location, ProductFamily
from sales.models import SalesOrderLine


@pytest.fixture(params=[True, False], ids=["columnar", "exact"])
def path(request, settings):
    settings.BULK_COLUMNAR = request.param
    return request.param


def post(api, resource, body, content_type):
    data = body if isinstance(body, bytes) else (body.encode() if isinstance(body, str) else json.dumps(body))
    return api.post(f"/api/v1/{resource}/bulk", data=data, content_type=content_type)


def errors_of(response) -> list[tuple]:
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "invalid_rows"
    return [(e["row"], e["field"], e["code"]) for e in error["details"]["errors"]]


# --- ragged CSV rows ------------------------------------------------------------------------


def test_a_row_with_one_cell_too_many_is_not_stored_shifted(api, path):
    response = post(api, "product-families", "code,name\nRG1,a1,extra1\n", "text/csv")
    assert errors_of(response) == [(0, "_row", "wrong_cell_count")]
    assert "has 3 cells but the header has 2" in response.json()["error"]["details"]["errors"][0]["message"]
    assert not ProductFamily.objects.exists()


def test_rows_with_too_many_or_too_few_cells_are_each_named(api, path):
    body = "code,name\nPMP,Pumps\nVLV,Valves,extra\nCTL,Controls\nSPR\n\nACC,Acc\n"
    response = post(api, "product-families", body, "text/csv")
    assert errors_of(response) == [(1, "_row", "wrong_cell_count"), (3, "_row", "wrong_cell_count")]
    messages = [e["message"] for e in response.json()["error"]["details"]["errors"]]
    assert "'name' and later cells are missing" in messages[1]
    assert response.json()["error"]["details"]["rows"] == 5  # the blank line is not a row
    assert not ProductFamily.objects.exists()


def test_a_quoted_comma_or_line_break_is_one_cell(api, path):
    body = 'code,name\nPMP,"Pumps, centrifugal"\nVLV,"Valves\nball"\n'
    assert post(api, "product-families", body, "text/csv").status_code == 200
    assert dict(ProductFamily.objects.values_list("code", "name")) == {
        "PMP": "Pumps, centrifugal",
        "VLV": "Valves\nball",
    }


def test_an_unquoted_carriage_return_mid_row_is_refused_not_split_into_two_rows(api, path):
    response = post(api, "product-families", "code,name\nPMP,Pu\rmps\n", "text/csv")
    assert errors_of(response) == [(1, "_row", "wrong_cell_count")]  # "PMP,Pu" then "mps"
    assert not ProductFamily.objects.exists()


# --- natural keys ---------------------------------------------------------------------------

NFD = "Zu\u0308rich"  # u + combining diaeresis
NFC = "Z\u00fcrich"  # ü


@pytest.mark.parametrize("content_type", ["application/json", "text/csv"])
def test_keys_are_stored_in_nfc_so_look_alikes_are_one_row(api, path, content_type):
    def body(code, name):
        if content_type == "text/csv":
            return f"code,name\n{code},{name}\n"
        return [{"code": code, "name": name}]

    assert post(api, "locations", body(NFD, "Zurich DC"), content_type).status_code == 200
    response = post(api, "locations", body(NFC, "Zurich DC"), content_type)
    assert response.status_code == 200
    assert response.json()["unchanged"] == 1 and response.json()["created"] == 0
    assert list(Location.objects.values_list("code", flat=True)) == [NFC]


@pytest.mark.parametrize(
    "code, shown",
    [
        ("LOC\u200b1", "U+200B"),  # zero-width space
        ("AB\u202e21", "U+202E"),  # right-to-left override: displays as AB12
        ("A\tB", "U+0009"),
        ("A\u00adB", "U+00AD"),  # soft hyphen
        ("\ufeffLOC", "U+FEFF"),
        ("LOC\u2066X\u2069", "U+2066"),
    ],
)
@pytest.mark.parametrize("content_type", ["application/json", "text/csv"])
def test_keys_with_invisible_characters_are_refused_naming_row_and_character(api, path, code, shown, content_type):
    if content_type == "text/csv":
        body = f'code,name\nOK1,Fine\n"{code}",Look-alike\n'
    else:
        body = [{"code": "OK1", "name": "Fine"}, {"code": code, "name": "Look-alike"}]
    response = post(api, "locations", body, content_type)
    assert errors_of(response) == [(1, "code", "invalid_character")]
    assert shown in response.json()["error"]["details"]["errors"][0]["message"]
    assert not Location.objects.exists()
    assert IngestBatch.objects.get().status == IngestBatch.Status.REJECTED


def test_invisible_characters_in_names_are_kept_only_keys_are_strict(api, path):
    response = post(api, "locations", [{"code": "L1", "name": "Main\u200bDC"}], "application/json")
    assert response.status_code == 200
    assert Location.objects.get().name == "Main\u200bDC"


def test_references_are_normalised_too_and_refused_with_invisible_characters(demo, erp, path):
    api = erp(scopes=["master:write", "sales:write"])
    line = {
        "external_id": "SO-NFC-1",
        "order_date": "2026-06-01",
        "account_external_id": "",
        "quantity": "1",
        "net_amount": "10.00",
        "status": "booked",
    }
    from inventory.models import Product
    from territories.models import Account

    product = Product.objects.order_by("sku").first()
    account = Account.objects.order_by("external_id").first()
    line.update(product_sku=product.sku, account_external_id=account.external_id)
    # an NFD spelling of an ASCII key is the key itself; a zero-width space makes it another key
    assert post(api, "sales-lines", [line], "application/json").status_code == 200
    hidden = dict(line, external_id="SO-NFC-2", product_sku=product.sku + "\u200b")
    assert errors_of(post(api, "sales-lines", [hidden], "application/json")) == [
        (0, "product_sku", "invalid_character")
    ]
    assert SalesOrderLine.objects.filter(external_id="SO-NFC-2").count() == 0


def test_the_refused_set_is_unicodes_control_format_and_separator_characters():
    expected = {cp for cp in range(0x110000) if unicodedata.category(chr(cp)) in {"Cc", "Cf", "Zl", "Zp"}}
    listed = {cp for lo, hi in keys.FORBIDDEN_RANGES for cp in range(lo, hi + 1)}
    assert listed == expected
    assert all(keys.FORBIDDEN_RE.fullmatch(chr(cp)) for cp in expected)
    assert keys.problem("ordinary-Key_1 é") is None
    assert keys.normalise(NFD) == NFC


# --- single-row creates ---------------------------------------------------------------------


def test_single_row_creates_store_nfc_keys_and_refuse_invisible_characters(demo):
    from core.errors import ApplicationError
    from territories import services
    from territories.models import QuotaPlan, Territory

    plan = services.quota_plan_create(code="FY-" + NFD, fiscal_year=2031)
    assert plan.code == "FY-" + NFC
    with pytest.raises(ApplicationError) as refused:
        services.quota_plan_create(code="FY-" + NFC, fiscal_year=2031)
    assert refused.value.code == "duplicate_code"
    with pytest.raises(ApplicationError) as refused:
        services.quota_plan_create(code="FY\u200b2031", fiscal_year=2031)
    assert refused.value.code == "invalid_character" and "U+200B" in refused.value.message
    assert not QuotaPlan.objects.filter(code__startswith="FY\u200b").exists()
    with pytest.raises(ApplicationError) as refused:
        services.assignment_rule_save(code="R\u202e1", territory=Territory.objects.first())
    assert refused.value.code == "invalid_character"


def test_comp_plan_codes_with_invisible_characters_are_row_errors(demo, erp):
    api = erp(scopes=["comp:write"])
    rows = [{"code": "PLAN\u200bX", "name": "Look-alike", "valid_from": "2026-01-01", "tiers": "0-:5"}]
    response = api.post("/api/v1/comp-plans/bulk", data=json.dumps(rows), content_type="application/json")
    assert errors_of(response) == [(0, "code", "invalid_character")]
