"""Benchmark of the pure reconciliation and alert derivation (no database).

Synthetic company: 5,000 products × 60 work centers × 18 monthly periods, each product routed
over 1–3 work centers, seasonal demand, capacity sized so that some work centers overload in
the peak and others idle. Prints the best of a few timed runs.

    .venv/bin/python bench/reconcile_pure.py [--products 5000] [--work-centers 60] [--repeat 5]

``synthetic_inputs`` and ``time_pure`` are importable, so ``bench/reconcile.py`` (the Django
half, which also reads and writes PostgreSQL) can reuse the same data set and figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inventory.calculations import inventory_metrics  # noqa: E402
from sop.alert_rules import derive_alerts  # noqa: E402
from sop.reconciliation import reconcile  # noqa: E402

TARGET_SECONDS = 2.0


def synthetic_inputs(
    *,
    n_products: int = 5_000,
    n_work_centers: int = 60,
    n_periods: int = 18,
    n_families: int = 25,
    n_territories: int = 8,
    start: dt.date = dt.date(2027, 1, 1),
    seed: int = 20270101,
) -> dict[str, Any]:
    """Deterministic synthetic plan inputs (keyword arguments of ``reconcile`` plus extras)."""
    rng = np.random.default_rng(seed)
    periods = [(pd.Timestamp(start) + pd.DateOffset(months=i)).date() for i in range(n_periods)]
    skus = np.array([f"P{i:05d}" for i in range(n_products)], dtype=object)
    families = np.array([f"F{i:02d}" for i in range(n_families)], dtype=object)
    wcs = np.array([f"WC{i:02d}" for i in range(n_work_centers)], dtype=object)

    fam_of = rng.integers(0, n_families, n_products)
    price = np.round(rng.lognormal(4.0, 0.6, n_products), 2)
    products = pd.DataFrame(
        {
            "product_sku": skus,
            "family_code": families[fam_of],
            "unit_price": price,
            "unit_cost": np.round(price * rng.uniform(0.4, 0.7, n_products), 2),
            "safety_stock": np.round(rng.uniform(0, 40, n_products)),
            "max_build_ahead_periods": rng.integers(0, 4, n_products),
        }
    )

    # Seasonal demand with a per-family peak month.
    base = rng.lognormal(4.0, 0.7, n_products)
    peak = rng.integers(0, 12, n_families)[fam_of]
    month = np.array([p.month - 1 for p in periods])
    season = 1 + 0.35 * np.cos(2 * np.pi * (month[None, :] - peak[:, None]) / 12)
    qty = np.round(base[:, None] * season * rng.uniform(0.85, 1.15, (n_products, n_periods)))
    demand = pd.DataFrame(
        {
            "product_sku": np.repeat(skus, n_periods),
            "period_start": np.tile(np.array(periods, dtype=object), n_products),
            "demand_qty": qty.ravel(),
            "target_qty": np.round(qty * rng.uniform(0.9, 1.3, (n_products, 1))).ravel(),
        }
    )

    on_hand = np.round(base * rng.uniform(0.5, 3.0, n_products))
    opening = pd.DataFrame(
        {
            "product_sku": skus,
            "location_code": "WH1",
            "on_hand": on_hand,
            "allocated": np.round(on_hand * rng.uniform(0, 0.2, n_products)),
            "on_order": np.round(base * rng.uniform(0, 0.5, n_products)),
        }
    )

    # Routings: 1–3 distinct work centers per product.
    n_steps = rng.integers(1, 4, n_products)
    r_prod = np.repeat(np.arange(n_products), n_steps)
    first = rng.integers(0, n_work_centers, n_products)
    step = np.concatenate([np.arange(k) for k in n_steps])
    r_wc = (first[r_prod] + step * rng.integers(1, 7, len(r_prod))) % n_work_centers
    routings = pd.DataFrame(
        {
            "product_sku": skus[r_prod],
            "work_center_code": wcs[r_wc],
            "hours_per_unit": np.round(rng.uniform(0.05, 1.0, len(r_prod)), 3),
        }
    ).drop_duplicates(["product_sku", "work_center_code"])

    # Capacity: each work center sized to its mean load × a factor between 0.8 and 1.8, so
    # some overload in their peak and some idle.
    hpu = np.zeros((n_products, n_work_centers))
    rp = pd.Index(skus).get_indexer(routings["product_sku"])
    rw = pd.Index(wcs).get_indexer(routings["work_center_code"])
    hpu[rp, rw] = routings["hours_per_unit"].to_numpy()
    mean_load = (hpu * qty.mean(axis=1)[:, None]).sum(axis=0)
    factor = rng.uniform(0.8, 1.8, n_work_centers)
    hours = np.round(mean_load[:, None] * factor[:, None] * rng.uniform(0.95, 1.05, (1, n_periods)))
    capacity = pd.DataFrame(
        {
            "work_center_code": np.repeat(wcs, n_periods),
            "period_start": np.tile(np.array(periods, dtype=object), n_work_centers),
            "available_hours": hours.ravel(),
        }
    )

    # Family quotas split over territories (about 10 % above the family demand).
    fam_qty = pd.DataFrame(qty).groupby(fam_of).sum().to_numpy()  # (F, T)
    terr = np.array([f"T{i}" for i in range(n_territories)], dtype=object)
    share = rng.dirichlet(np.ones(n_territories), n_families)  # (F, K)
    quota = fam_qty[:, None, :] * share[:, :, None] * rng.uniform(0.95, 1.25, (n_families, 1, 1))
    family_quotas = pd.DataFrame(
        {
            "family_code": np.repeat(families, n_territories * n_periods),
            "territory_code": np.tile(np.repeat(terr, n_periods), n_families),
            "period_start": np.tile(np.array(periods, dtype=object), n_families * n_territories),
            "quota_qty": np.round(quota).ravel(),
        }
    )

    # Lots: 1–4 per product, received up to two years before the start.
    n_lots = rng.integers(1, 5, n_products)
    l_prod = np.repeat(np.arange(n_products), n_lots)
    lots = pd.DataFrame(
        {
            "product_sku": skus[l_prod],
            "location_code": "WH1",
            "received_on": [start - dt.timedelta(days=int(a)) for a in rng.integers(0, 730, len(l_prod))],
            "quantity": np.round(on_hand[l_prod] / n_lots[l_prod] * rng.uniform(0.8, 1.2, len(l_prod))),
        }
    )
    forecast = demand.rename(columns={"demand_qty": "forecast_qty"})[["product_sku", "period_start", "forecast_qty"]]
    return {
        "periods": periods,
        "products": products,
        "demand": demand,
        "opening_inventory": opening,
        "routings": routings,
        "capacity": capacity,
        "family_quotas": family_quotas,
        "lots": lots,
        "forecast": forecast,
        "as_of": start,
    }


def run_pure(inputs: dict[str, Any]) -> tuple[Any, pd.DataFrame, pd.DataFrame]:
    """One pure plan run: reconciliation, inventory metrics, alert candidates."""
    result = reconcile(
        periods=inputs["periods"],
        products=inputs["products"],
        demand=inputs["demand"],
        opening_inventory=inputs["opening_inventory"],
        routings=inputs["routings"],
        capacity=inputs["capacity"],
        family_quotas=inputs["family_quotas"],
    )
    metrics = inventory_metrics(
        snapshots=inputs["opening_inventory"],
        lots=inputs["lots"],
        forecast=inputs["forecast"],
        products=inputs["products"],
        as_of=inputs["as_of"],
    )
    alerts = derive_alerts(result, inventory=metrics, currency="EUR")
    return result, metrics, alerts


def time_pure(inputs: dict[str, Any], *, repeat: int = 5) -> dict[str, Any]:
    """Best-of-``repeat`` seconds for the pure run, with the sizes of what it produced."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        result, metrics, alerts = run_pure(inputs)
        best = min(best, time.perf_counter() - started)
    return {
        "seconds": best,
        "product_periods": len(result.product_plan),
        "work_center_periods": len(result.capacity_load),
        "family_periods": len(result.family_plan),
        "alerts": len(alerts),
        "alerts_by_type": alerts["type"].value_counts().sort_index().to_dict(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=5_000)
    parser.add_argument("--work-centers", type=int, default=60)
    parser.add_argument("--periods", type=int, default=18)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    inputs = synthetic_inputs(n_products=args.products, n_work_centers=args.work_centers, n_periods=args.periods)
    figures = time_pure(inputs, repeat=args.repeat)
    print(
        f"pure reconciliation + alerts: {args.products:,} products × {args.work_centers} work "
        f"centers × {args.periods} periods ({len(inputs['routings']):,} routing rows): "
        f"{figures['seconds']:.3f} s (best of {args.repeat}; target ≤ {TARGET_SECONDS:.0f} s)"
    )
    print(
        f"  {figures['product_periods']:,} product-periods, {figures['work_center_periods']:,} "
        f"work-center-periods, {figures['alerts']:,} alert candidates {figures['alerts_by_type']}"
    )


if __name__ == "__main__":
    main()
