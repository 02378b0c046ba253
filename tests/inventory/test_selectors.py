"""Stock reads: latest snapshot per product × location, safety stock per product from policies."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pandas as pd
import pytest

from inventory import selectors
from inventory.models import InventorySnapshot, Location, Product, ProductFamily


def test_safety_stock_is_fixed_where_given_else_z_sigma_root_lead_time():
    policies = pd.DataFrame({
        "product_sku": ["A", "A", "B", "C"], "location_code": ["W1", "W2", "W1", "W1"],
        "lead_time_days": [30.4375, 60.875, 0.0, 10.0], "service_level": [0.95, 0.90, None, None],
        "safety_stock": [None, None, 12.0, None], "max_build_ahead_periods": [1, 3, 0, 2]})
    sigma = pd.DataFrame({"product_sku": ["A", "B"], "sigma": [10.0, 99.0]})
    out = selectors.policy_by_product(policies, sigma).set_index("product_sku")
    # A: longest lead time (2 months) and highest service level (95 %): 1.645 × 10 × √2
    assert out.loc["A", "safety_stock"] == pytest.approx(1.6449 * 10 * math.sqrt(2), abs=0.01)
    assert out.loc["A", "max_build_ahead_periods"] == 3
    assert out.loc["B", "safety_stock"] == 12  # fixed wins
    assert out.loc["C", "safety_stock"] == 0  # no service level, no σ: no buffer


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
