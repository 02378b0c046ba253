"""Benchmark of the CRM's pure calculations (no database): stage hit-rate calibration, pipeline
demand with won deals matched to order lines, and the deal_at_risk check of a plan run.

Synthetic company: ``--deals`` opportunities (a third open, a sixth won, the rest lost) over
``--products`` products in 4 families, 200 territories, 8 stages; order lines for the won deals
(half labelled with the deal's id); an 18-month plan with 60 work centers, each product routed
over 1–3 of them. Prints the best of ``--repeat`` timed runs of each step.

    .venv/bin/python bench/crm_pipeline.py [--deals 100000] [--products 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crm.availability import deals_at_risk  # noqa: E402
from crm.hit_rates import apply_hit_rates, calibrate_hit_rates  # noqa: E402
from crm.pipeline import pipeline_demand  # noqa: E402

AS_OF = dt.date(2026, 6, 15)


def synthetic(deals: int, products: int, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    months = [(pd.Timestamp(AS_OF.replace(day=1)) + pd.DateOffset(months=i)).date() for i in range(18)]
    skus = np.array([f"P{i:05d}" for i in range(products)], dtype=object)
    families = np.array(["PMP", "VLV", "CTL", "SPR"], dtype=object)[np.arange(products) % 4]
    pick = rng.integers(0, products, deals)
    status = rng.choice(np.array(["open", "won", "lost"], dtype=object), deals, p=[1 / 3, 1 / 6, 1 / 2])
    close = pd.to_datetime(AS_OF) + pd.to_timedelta(rng.integers(-500, 120, deals), unit="D")
    frame = pd.DataFrame(
        {
            "external_id": [f"OPP-{i}" for i in range(deals)],
            "account_id": rng.integers(0, 20_000, deals),
            "product_sku": skus[pick],
            "family_code": families[pick],
            "territory_code": np.array([f"T{i}" for i in range(200)], dtype=object)[rng.integers(0, 200, deals)],
            "quantity": rng.integers(1, 200, deals).astype(float),
            "status": status,
            "stage": np.array([f"S{i}" for i in range(8)], dtype=object)[rng.integers(0, 8, deals)],
            "probability": rng.integers(5, 95, deals).astype(float),
            "expected_close_date": close.date,
            "requested_delivery_date": (close + pd.to_timedelta(30, unit="D")).date,
            "amount": rng.integers(100, 100_000, deals).astype(float),
            "account_name": "Acme",
        }
    )
    won = frame[frame["status"] == "won"]
    lines = pd.DataFrame(
        {
            "account_id": won["account_id"].to_numpy(),
            "product_sku": won["product_sku"].to_numpy(),
            "family_code": won["family_code"].to_numpy(),
            "order_date": won["expected_close_date"].to_numpy(),
            "quantity": (won["quantity"] * rng.uniform(0.3, 1.2, len(won))).round().to_numpy(),
            "opportunity_external_id": np.where(rng.random(len(won)) < 0.5, won["external_id"].to_numpy(), None),
        }
    )
    wcs = [f"WC{i}" for i in range(60)]
    routing = pd.DataFrame(
        [
            (sku, wcs[int(w)], float(rng.uniform(0.05, 2)))
            for sku in skus
            for w in rng.choice(60, int(rng.integers(1, 4)), replace=False)
        ],
        columns=["product_sku", "work_center_code", "hours_per_unit"],
    )
    plan = pd.DataFrame(
        {
            "product_sku": np.repeat(skus, 18),
            "period_start": months * products,
            "projected_inventory_after": rng.normal(50, 80, products * 18),
            "safety_stock": rng.uniform(0, 30, products * 18),
        }
    )
    capacity = pd.DataFrame(
        {
            "work_center_code": np.repeat(wcs, 18),
            "period_start": months * 60,
            "free_hours": rng.uniform(0, 400, 60 * 18),
        }
    )
    return {"deals": frame, "lines": lines, "routing": routing, "plan": plan, "capacity": capacity}


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = synthetic(args.deals, args.products)
    deals = data["deals"]
    closed = deals[deals["status"] != "open"]
    t_cal, calibration = best(lambda: calibrate_hit_rates(closed), args.repeat)
    t_apply, used = best(
        lambda: apply_hit_rates(deals[deals["status"] != "lost"], calibration, min_closed=10), args.repeat
    )
    t_pipe, pipeline = best(lambda: pipeline_demand(used, data["lines"], level="product"), args.repeat)
    # the check on the CRM's own probabilities (this synthetic history calibrates every stage below 50 %)
    open_deals = used[used["status"] == "open"].assign(probability_used=lambda f: f["probability"] / 100)
    t_risk, risky = best(
        lambda: deals_at_risk(
            deals=open_deals, plan=data["plan"], routing=data["routing"], capacity=data["capacity"], as_of=AS_OF
        ),
        args.repeat,
    )
    print(f"deals {args.deals:,} ({len(open_deals):,} open), products {args.products:,}, best of {args.repeat}")
    print(f"calibrate hit rates      {t_cal * 1000:8.1f} ms  ({len(calibration):,} stage × family cells)")
    print(f"apply hit rates          {t_apply * 1000:8.1f} ms")
    print(f"pipeline demand          {t_pipe * 1000:8.1f} ms  ({len(pipeline):,} product × territory × month rows)")
    print(f"deal_at_risk check       {t_risk * 1000:8.1f} ms  ({len(risky):,} deals at risk)")


if __name__ == "__main__":
    main()
