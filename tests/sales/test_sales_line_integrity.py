"""Sales lines keep referential integrity without per-row foreign keys (``sales/db_guards.py``):
the database refuses to delete a referenced product or account, clears the territory of
lines whose territory is deleted, and a batch whose references vanish before its write
writes nothing."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from inventory.models import Product, ProductFamily
from sales.models import SalesOrderLine
from territories.models import Account, Territory

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def world(db):
    family = ProductFamily.objects.create(code="PMP", name="Pumps")
    used = Product.objects.create(
        sku="P-USED", name="Used", family=family, unit_price=Decimal("10"), unit_cost=Decimal("6")
    )
    spare = Product.objects.create(
        sku="P-SPARE", name="Spare", family=family, unit_price=Decimal("10"), unit_cost=Decimal("6")
    )
    account = Account.objects.create(external_id="C-1", name="Customer 1")
    idle = Account.objects.create(external_id="C-2", name="Customer 2")
    east = Territory.objects.create(code="EAST", name="East")
    line = SalesOrderLine.objects.create(
        external_id="L-1",
        order_date=dt.date(2026, 3, 2),
        account=account,
        product=used,
        territory=east,
        quantity=Decimal("2"),
        net_amount=Decimal("20.00"),
        status="invoiced",
    )
    return {"used": used, "spare": spare, "account": account, "idle": idle, "east": east, "line": line}


def raw_delete(table, pk):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pk])


def test_the_database_refuses_to_delete_a_product_or_account_still_on_a_sales_line(world):
    if connection.vendor != "postgresql":
        pytest.skip("the restrict guard is PostgreSQL's (on SQLite the ORM's PROTECT applies)")
    with pytest.raises(IntegrityError, match="sales order lines still reference it"):
        raw_delete("inventory_product", world["used"].pk)
    with pytest.raises(IntegrityError, match="sales order lines still reference it"):
        raw_delete("territories_account", world["account"].pk)
    assert Product.objects.filter(pk=world["used"].pk).exists()
    assert Account.objects.filter(pk=world["account"].pk).exists()
    # Rows no line refers to go as usual.
    raw_delete("inventory_product", world["spare"].pk)
    raw_delete("territories_account", world["idle"].pk)
    assert not Product.objects.filter(pk=world["spare"].pk).exists()
    assert not Account.objects.filter(pk=world["idle"].pk).exists()


def test_deleting_a_territory_clears_it_from_its_sales_lines(world):
    raw_delete("territories_territory", world["east"].pk)
    line = SalesOrderLine.objects.get(pk=world["line"].pk)
    assert line.territory_id is None


@pytest.mark.django_db(transaction=True)
def test_the_whole_database_can_still_be_flushed(world):
    """Django's flush (tests, `manage.py flush`) deletes every table in one transaction, in
    an order that puts products before sales lines."""
    from django.core.management import call_command

    call_command("flush", "--noinput", verbosity=0)
    assert not SalesOrderLine.objects.exists() and not Product.objects.exists()


def test_the_orm_still_protects_referenced_products(world):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        world["used"].delete()


def test_a_batch_whose_reference_was_deleted_after_validation_writes_nothing(world, erp, monkeypatch):
    """Validation read a product that a concurrent delete removed before the write: the
    batch's write transaction re-checks the references and refuses (409)."""
    from core.bulk import service
    from home.bulk import BULK_RESOURCES

    ghost_id = world["spare"].pk
    validated_against = service.reference_maps_and_versions(BULK_RESOURCES["sales-lines"])
    Product.objects.filter(pk=ghost_id).delete()  # commits between validation and the write
    monkeypatch.setattr(service, "reference_maps_and_versions", lambda spec: validated_against)
    rows = [
        {
            "external_id": "L-2",
            "order_date": "2026-03-03",
            "account_external_id": "C-1",
            "product_sku": "P-SPARE",
            "quantity": "1",
            "net_amount": "10",
            "status": "booked",
        }
    ]
    response = erp().post("/api/v1/sales-lines/bulk", data=json.dumps(rows), content_type="application/json")
    assert response.status_code == 409, response.json()
    error = response.json()["error"]
    assert error["code"] == "reference_deleted"
    assert error["details"] == {"table": "inventory_product", "ids": [ghost_id]}
    assert not SalesOrderLine.objects.filter(external_id="L-2").exists()


def test_reference_data_is_read_again_once_its_table_changes(world, erp):
    """Ingestion caches the sku → id map per process; a product added or renamed since is
    seen by the next batch."""
    api = erp()

    def post(sku, external_id):
        rows = [
            {
                "external_id": external_id,
                "order_date": "2026-03-03",
                "account_external_id": "C-1",
                "product_sku": sku,
                "quantity": "1",
                "net_amount": "10",
                "status": "booked",
            }
        ]
        return api.post("/api/v1/sales-lines/bulk", data=json.dumps(rows), content_type="application/json")

    assert post("P-USED", "L-10").status_code == 200
    assert post("P-NEW", "L-11").status_code == 400  # unknown yet
    Product.objects.create(
        sku="P-NEW", name="New", family=world["used"].family, unit_price=Decimal("1"), unit_cost=Decimal("1")
    )
    assert post("P-NEW", "L-11").status_code == 200
    Product.objects.filter(sku="P-NEW").update(sku="P-RENAMED")  # queryset update: no updated_at bump
    Product.objects.get(sku="P-RENAMED").save()  # an ORM save stamps updated_at
    assert post("P-RENAMED", "L-12").status_code == 200
    assert post("P-NEW", "L-13").status_code == 400
