"""Stock reads: latest snapshot per product × location."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from inventory import selectors
from inventory.models import InventorySnapshot, Location, Product, ProductFamily


@pytest.mark.django_db
def test_snapshots_frame_takes_the_latest_on_or_before_as_of():
    family = ProductFamily.objects.create(code="F", name="F")
    product = Product.objects.create(sku="A", name="A", family=family, unit_price=1, unit_cost=1)
    wh = Location.objects.create(code="W1", name="W1")
    for day, qty in ((dt.date(2027, 1, 1), 5), (dt.date(2027, 2, 1), 7), (dt.date(2027, 3, 1), 9)):
        InventorySnapshot.objects.create(product=product, location=wh, as_of=day, on_hand=Decimal(qty))
    frame = selectors.snapshots_frame(as_of=dt.date(2027, 2, 15))
    assert frame[["product_sku", "location_code", "on_hand"]].values.tolist() == [["A", "W1", 7.0]]
    assert InventorySnapshot.objects.latest().get().on_hand == 9
