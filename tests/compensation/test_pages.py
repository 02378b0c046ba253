"""Compensation pages: statements (list, printable detail with drill-down, CSV), payroll export,
disputes, plans, what-if and period close; the access matrix over pages (zero leaks)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from compensation.models import Dispute, Statement
from tests.compensation.test_api import NO_PAY, VISIBLE

D = Decimal


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize("username", sorted(VISIBLE))
def test_access_matrix_pages_zero_leaks(demo, login, username):
    client = login(username)
    expected = VISIBLE[username]
    page = client.get("/compensation/")
    assert page.status_code == 200
    shown = {s.rep.username for s in page.context["statements"]}
    assert shown == expected
    assert page.context["count"] == Statement.objects.filter(rep__username__in=expected).count()
    assert page.context["total"] == sum(
        Statement.objects.filter(rep__username__in=expected).values_list("total", flat=True)
    )
    html = page.content.decode()
    for other in VISIBLE["admin"] - expected:
        assert f"({other})" not in html
    for statement in Statement.objects.select_related("rep"):
        detail = client.get(f"/compensation/statements/{statement.pk}/")
        exported = client.get(f"/compensation/statements/{statement.pk}.csv")
        if statement.rep.username in expected:
            assert detail.status_code == 200 and exported.status_code == 200
        else:
            assert detail.status_code == 404 and exported.status_code == 404
    payroll = csv_rows(client.get("/compensation/payroll.csv"))
    assert {r["rep_username"] for r in payroll} <= expected
    plans = client.get("/compensation/plans/")
    assert {a.rep.username for a in plans.context["assignments"]} == expected


@pytest.mark.parametrize("username", NO_PAY)
def test_roles_without_pay_get_403_on_every_page(demo, login, username):
    client = login(username)
    statement = Statement.objects.first()
    for url in [
        "/compensation/",
        f"/compensation/statements/{statement.pk}/",
        f"/compensation/statements/{statement.pk}.csv",
        "/compensation/payroll.csv",
        "/compensation/disputes/",
        "/compensation/plans/",
        "/compensation/what-if/",
        "/compensation/periods/",
    ]:
        assert client.get(url).status_code == 403, url
    assert "Compensation" not in client.get("/").content.decode()


def test_statement_page_shows_components_drill_down_and_prints(demo, login):
    statement = Statement.objects.filter(rep__username="rep1", status="closed").order_by("period_start").last()
    page = login("rep1").get(f"/compensation/statements/{statement.pk}/")
    html = page.content.decode()
    assert "@media print" in html and "data-print" in html  # app.js prints (tests/e2e/test_csp.py)
    lines = page.context["lines"]
    assert lines and sum(item["line"].amount for item in lines) == statement.total
    assert dict(page.context["subtotals"]).get("commission") is not None
    drilled = [c for item in lines for c in item["credits"]]
    assert drilled and all(c["sales_line__external_id"] in html for c in drilled[:5])
    assert 'name="reason"' in html  # the rep may dispute their own lines
    manager_view = login("manager").get(f"/compensation/statements/{statement.pk}/").content.decode()
    assert 'name="reason"' not in manager_view


def test_dispute_flow_on_pages(demo, login):
    statement = Statement.objects.filter(rep__username="rep2", status="closed").first()
    line = statement.lines.first()
    rep = login("rep2")
    rep.post("/compensation/disputes/raise", {"line_id": line.pk, "reason": "Missing an order"})
    dispute = Dispute.objects.get()
    assert dispute.status == "open"
    assert login("rep3").get("/compensation/disputes/").context["disputes"] == []
    assert login("manager2").get("/compensation/disputes/").context["disputes"] == []
    login("manager2").post(f"/compensation/disputes/{dispute.pk}/answer", {"answer": "not mine"})
    dispute.refresh_from_db()
    assert dispute.status == "open"
    login("manager").post(f"/compensation/disputes/{dispute.pk}/answer", {"answer": "Credited in June"})
    rep.post(f"/compensation/disputes/{dispute.pk}/close")
    dispute.refresh_from_db()
    assert (dispute.status, dispute.answer) == ("closed", "Credited in June")


def test_what_if_page_for_manager_and_period_close_page_for_admin(demo, login):
    manager = login("manager")
    page = manager.post(
        "/compensation/what-if/",
        {
            "plan_code": "STD-2026",
            "tiers": "0-100:3;100-150:6;150-:9",
            "period_from": "2026-03-01",
            "period_to": "2026-05-31",
        },
    )
    result = page.context["result"]
    assert {r["rep_username"] for r in result["reps"]} <= VISIBLE["manager"]
    assert D(result["total_changed"]) >= D(result["total_current"])
    assert login("rep1").get("/compensation/what-if/").status_code == 403
    assert manager.get("/compensation/periods/").status_code == 403
    admin = login("admin")
    assert admin.get("/compensation/periods/").status_code == 200
    response = admin.post("/compensation/periods/", {"period_start": "2026-06-01", "action": "compute"})
    assert response.status_code == 302
    assert Statement.objects.filter(period_start=dt.date(2026, 6, 1), status="draft").exists()


def test_statement_pages_query_count_stays_flat(demo, login, django_assert_max_num_queries):
    client = login("admin")
    statement = Statement.objects.order_by("-total").first()
    with django_assert_max_num_queries(20):
        assert client.get("/compensation/").status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(f"/compensation/statements/{statement.pk}/").status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get("/compensation/plans/").status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get("/compensation/disputes/").status_code == 200


def test_one_click_spiff_from_an_aged_stock_alert(demo, login):
    from compensation.models import Spiff
    from inventory.models import Product
    from sop.models import CapacityAlert

    product = Product.objects.order_by("sku").first()
    alert = CapacityAlert.objects.create(
        fingerprint=f"aged_stock:{product.sku}",
        type="aged_stock",
        severity="info",
        product=product,
        amount=D("30"),
        unit="units",
        message="aged",
    )
    response = login("ops").post("/compensation/spiffs/from-alert", {"alert_id": alert.pk, "next": "/"})
    assert response.status_code == 302
    spiff = Spiff.objects.get(source_alert_id=alert.pk)
    assert spiff.skus == [product.sku]
    assert spiff.budget == (spiff.amount * 30).quantize(D("0.01"))
    assert login("rep1").post("/compensation/spiffs/from-alert", {"alert_id": alert.pk}).status_code == 403
