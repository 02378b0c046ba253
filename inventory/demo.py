"""Demo step: product families, products and locations of Aster Pumps & Controls."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from django.contrib.auth import get_user_model

from inventory.models import Location, Product, ProductFamily

# code, name, share of the catalogue, price range, cost ratio, units per order line
FAMILIES = [
    ("PMP", "Pumps", 0.28, (450, 4200), 0.58, 4.0),
    ("VLV", "Valves", 0.27, (60, 900), 0.52, 9.0),
    ("CTL", "Controls", 0.20, (150, 2500), 0.45, 3.0),
    ("SPR", "Spare parts", 0.25, (8, 180), 0.35, 6.0),
]
PRODUCT_WORDS = {
    "PMP": ["Centrifugal pump", "Booster pump", "Submersible pump", "Dosing pump", "Inline pump"],
    "VLV": ["Ball valve", "Gate valve", "Check valve", "Butterfly valve", "Control valve"],
    "CTL": ["Pump controller", "Pressure sensor", "Flow meter", "Variable drive", "Level switch"],
    "SPR": ["Seal kit", "Impeller", "Bearing set", "Gasket pack", "Motor brush"],
}
LOCATIONS = [
    ("DC-EAST", "Distribution center East (Allentown, PA)", "warehouse"),
    ("DC-WEST", "Distribution center West (Reno, NV)", "warehouse"),
    ("PL-OHIO", "Plant Dayton, OH", "plant"),
    ("PL-TEXAS", "Plant Tyler, TX", "plant"),
]


def wipe() -> None:
    Product.objects.all().delete()
    ProductFamily.objects.all().delete()
    Location.objects.all().delete()


def seed(ctx) -> None:
    rng = ctx.child_rng("inventory")
    n = ctx.scale.products
    # The demo's demand planner answers for every family (forecast value added by planner).
    planner = get_user_model().objects.filter(username="planner").first()
    families = {
        code: ProductFamily.objects.create(code=code, name=name, planner=planner) for code, name, *_ in FAMILIES
    }
    counts = np.floor(np.array([f[2] for f in FAMILIES]) * n).astype(int)
    counts[0] += n - counts.sum()
    products = []
    meta = []
    for (code, _name, _share, (lo, hi), cost_ratio, per_line), count in zip(FAMILIES, counts, strict=True):
        words = PRODUCT_WORDS[code]
        prices = np.exp(rng.uniform(np.log(lo), np.log(hi), size=count))
        ratios = np.clip(rng.normal(cost_ratio, 0.06, size=count), 0.2, 0.9)
        for i in range(count):
            sku = f"{code}-{1000 + i}"
            size = 25 * (1 + i // len(words))
            price = Decimal(str(round(float(prices[i]), 2)))
            cost = (price * Decimal(str(round(float(ratios[i]), 3)))).quantize(Decimal("0.01"))
            products.append(
                Product(
                    sku=sku,
                    name=f"{words[i % len(words)]} {size}",
                    family=families[code],
                    unit="EA",
                    unit_price=price,
                    unit_cost=cost,
                    status="active",
                )
            )
            meta.append((sku, code, float(price), per_line))
    # The newest pump was launched six months ago (short history: a family profile forecasts it).
    launch_index = int(counts[0]) - 1
    products[launch_index].status = Product.Status.NEW
    products[launch_index].name = "Smart booster pump X1 (new)"
    Product.objects.bulk_create(products, batch_size=2000)
    Location.objects.bulk_create([Location(code=c, name=nm, kind=k) for c, nm, k in LOCATIONS])
    ctx.data["products"] = meta
    ctx.data["new_product_sku"] = products[launch_index].sku
    ctx.say(f"{len(products)} products in {len(families)} families, {len(LOCATIONS)} locations")
