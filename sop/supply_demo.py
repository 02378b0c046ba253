"""Demo step: the supply side of Aster Pumps & Controls — two plants, work centers with
capacity calendars over the history and the plan horizon, routings, stock snapshots, lots and
policies.

Capacity is sized from each work center's expected load (last year's sales by calendar month,
grown by the trend), so the nightly plan shows a believable picture: pump assembly overloaded
in the summer peak (demand peaks while the Dayton plant has its summer shutdown), test & pack underused, aged slow-moving stock on a few products, and one
pump at stock-out risk (no stock left and a long lead time).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db.models import Sum
from django.db.models.functions import TruncMonth

from core.calendar import add_months, months_from
from core.services import planning_horizon
from inventory.models import InventoryLot, InventoryPolicy, InventorySnapshot, Location, Product
from sales.models import SalesOrderLine
from sop.models import (
    CapacityAlert,
    CapacityCalendar,
    FamilyPlan,
    PlanLine,
    PlanRun,
    Plant,
    Routing,
    WorkCenter,
    WorkCenterLoad,
)

PLANTS = [("PL-OHIO", "Plant Dayton, OH"), ("PL-TEXAS", "Plant Tyler, TX")]
# code, name, plant, capacity factor (available ÷ mean load): < 1.2 overloads in the peak.
WORK_CENTERS = [
    ("OH-CAST", "Casting", "PL-OHIO", 1.45),
    ("OH-MACH", "Machining", "PL-OHIO", 1.40),
    ("OH-ASSY", "Pump assembly", "PL-OHIO", 1.08),
    ("TX-VALV", "Valve assembly", "PL-TEXAS", 1.35),
    ("TX-ELEC", "Electronics", "PL-TEXAS", 1.30),
    ("TX-PACK", "Test & pack", "PL-TEXAS", 2.60),
]
# family → (work centers it may load, hours per unit range, max build-ahead periods)
ROUTES = {
    "PMP": (["OH-ASSY", "OH-CAST", "OH-MACH"], (1.5, 4.0), 2),
    "VLV": (["TX-VALV", "OH-MACH", "TX-PACK"], (0.3, 1.2), 1),
    "CTL": (["TX-ELEC", "TX-PACK"], (0.8, 2.5), 1),
    "SPR": (["OH-MACH", "OH-CAST"], (0.1, 0.4), 0),
}
DCS = ("DC-EAST", "DC-WEST")


def wipe() -> None:
    CapacityAlert.objects.all().delete()
    for model in (PlanLine, WorkCenterLoad, FamilyPlan):
        model.objects.all().delete()
    PlanRun.objects.all().delete()
    for model in (Routing, CapacityCalendar, WorkCenter, Plant, InventoryLot, InventorySnapshot, InventoryPolicy):
        model.objects.all().delete()


def _monthly_demand(ctx, skus: list[str]) -> np.ndarray:
    """Expected units per product × calendar month (Jan..Dec): last 12 months of sales, +6 %."""
    start = add_months(ctx.as_of.replace(day=1), -12)
    rows = (
        SalesOrderLine.objects.counting()
        .filter(order_date__gte=start, order_date__lt=ctx.as_of.replace(day=1))
        .annotate(month=TruncMonth("order_date"))
        .values_list("product__sku", "month")
        .annotate(q=Sum("quantity"))
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["sku", "month", "qty"])
    out = np.zeros((len(skus), 12))
    if len(frame):
        index = pd.Index(skus).get_indexer(frame["sku"])
        months = pd.to_datetime(frame["month"]).dt.month.to_numpy() - 1
        ok = index >= 0
        np.add.at(out, (index[ok], months[ok]), frame["qty"].astype(float).to_numpy()[ok])
    return np.maximum(out, 0) * 1.06


def _work_centers(ctx) -> list[tuple[str, str, str, float]]:
    extra = max(0, ctx.scale.products // 100 - len(WORK_CENTERS))
    centers = list(WORK_CENTERS)
    for i in range(extra):  # large scale: more lines of the same kinds, spread over both plants
        code, name, plant, factor = WORK_CENTERS[i % len(WORK_CENTERS)]
        centers.append(
            (
                f"{code}-{i // len(WORK_CENTERS) + 2}",
                f"{name} line {i // len(WORK_CENTERS) + 2}",
                plant,
                factor if code != "OH-ASSY" else 1.35,
            )
        )
    return centers


def seed(ctx) -> None:
    rng = ctx.child_rng("supply")
    meta = ctx.data["products"]  # (sku, family, price, per_line)
    skus = [m[0] for m in meta]
    families = np.array([m[1] for m in meta])
    products = dict(Product.objects.values_list("sku", "id"))
    locations = dict(Location.objects.values_list("code", "id"))
    n = len(skus)

    plants = {code: Plant.objects.create(code=code, name=name) for code, name in PLANTS}
    centers = _work_centers(ctx)
    wc_objs = WorkCenter.objects.bulk_create([WorkCenter(code=c, name=nm, plant=plants[p]) for c, nm, p, _f in centers])
    wc_ids = {w.code: w.pk for w in wc_objs}
    wc_index = {c[0]: i for i, c in enumerate(centers)}
    by_kind: dict[str, list[str]] = {}
    for code, *_ in centers:
        by_kind.setdefault(code.split("-")[0] + "-" + code.split("-")[1], []).append(code)

    # --- routings: 1–3 work centers per product, the family's main one first ------------
    hours = np.zeros((n, len(centers)))
    routings = []
    for i, (sku, fam) in enumerate(zip(skus, families, strict=True)):
        kinds, (lo, hi), _ahead = ROUTES[fam]
        steps = 1 + int(rng.integers(0, len(kinds)))
        for k, kind in enumerate(kinds[:steps]):
            lines = by_kind[kind]
            code = lines[i % len(lines)]
            hpu = round(float(rng.uniform(lo, hi)) * (1.0 if k == 0 else 0.4), 3)
            hours[i, wc_index[code]] = hpu
            routings.append(
                Routing(product_id=products[sku], work_center_id=wc_ids[code], hours_per_unit=Decimal(str(hpu)))
            )
    Routing.objects.bulk_create(routings, batch_size=5000)

    # --- capacity calendars: history + horizon, sized from the expected load -------------
    demand = _monthly_demand(ctx, skus)  # (n, 12)
    load = hours.T @ demand  # (wc, 12) hours per calendar month
    mean_load = np.maximum(load.mean(axis=1), 1.0)
    factor = np.array([c[3] for c in centers])
    months = months_from(ctx.history_start, 36 + 1 + planning_horizon())
    calendars = []
    for w, (code, *_rest) in enumerate(centers):
        target = mean_load[w] * factor[w]
        for m in months:
            days = 21 if m.month != 12 else 18
            shifts = max(1, math.ceil(target / (8 * days * 0.95)))
            efficiency = Decimal(str(round(min(1.0, target / (shifts * 8 * days)), 3)))
            # Dayton's summer shutdown: pump assembly loses a third of July, the rest a week of August.
            downtime = Decimal("0")
            if code.startswith("OH-ASSY") and m.month == 7:
                downtime = (Decimal(shifts * 8 * days) * efficiency / 3).quantize(Decimal("1"))
            elif code.startswith("OH") and m.month == 8:
                downtime = Decimal(shifts * 8 * 5)
            available = max(Decimal("0"), Decimal(shifts * 8 * days) * efficiency - downtime).quantize(Decimal("0.01"))
            calendars.append(
                CapacityCalendar(
                    work_center_id=wc_ids[code],
                    period_start=m,
                    available_hours=available,
                    shifts=shifts,
                    hours_per_shift=Decimal("8"),
                    working_days=days,
                    efficiency=efficiency,
                    downtime_hours=downtime,
                )
            )
    CapacityCalendar.objects.bulk_create(calendars, batch_size=5000)

    # --- stock: snapshots at both DCs, receipt-dated lots, policies ------------------------
    monthly = demand.mean(axis=1)
    cover = rng.uniform(1.2, 2.2, n)  # months of demand on hand
    slow = (families == "SPR") | (families == "VLV")
    aged = np.zeros(n, dtype=bool)
    aged[np.flatnonzero(slow)[::7][: max(2, n // 15)]] = True
    cover[aged] = rng.uniform(7, 10, aged.sum())  # slow movers: stock for far too long
    risk_sku = ctx.data.get("new_product_sku") or skus[0]
    risk = np.array([s == risk_sku for s in skus])
    on_hand_total = np.round(monthly * cover)
    on_hand_total[risk] = 0
    snapshots, lots, policies = [], [], []
    for i, sku in enumerate(skus):
        pid = products[sku]
        split = [0.6, 0.4]
        _kinds, _hours, ahead = ROUTES[families[i]]
        for d, dc in enumerate(DCS):
            on_hand = float(np.round(on_hand_total[i] * split[d]))
            allocated = float(np.round(on_hand * rng.uniform(0.05, 0.15)))
            on_order = 0.0 if risk[i] else float(np.round(monthly[i] * split[d] * rng.uniform(0, 0.4)))
            snapshots.append(
                InventorySnapshot(
                    product_id=pid,
                    location_id=locations[dc],
                    as_of=ctx.as_of,
                    on_hand=Decimal(on_hand),
                    allocated=Decimal(allocated),
                    on_order=Decimal(on_order),
                )
            )
            policies.append(
                InventoryPolicy(
                    product_id=pid,
                    location_id=locations[dc],
                    lead_time_days=int(rng.integers(20, 60)) if not risk[i] else 90,
                    service_level=None if families[i] == "SPR" else Decimal("0.95"),
                    safety_stock=Decimal(str(round(monthly[i] * split[d] * 0.3))) if families[i] == "SPR" else None,
                    max_build_ahead_periods=ahead,
                )
            )
            # Lots add up to on hand: old ones on the slow movers, recent receipts elsewhere.
            remaining, k = on_hand, 0
            while remaining > 0:
                age = int(rng.integers(380, 720)) if aged[i] and k == 0 else int(rng.integers(3, 150))
                qty = remaining if k == 2 else float(np.ceil(remaining * (0.45 if aged[i] and k == 0 else 0.6)))
                lots.append(
                    InventoryLot(
                        external_id=f"LOT-{sku}-{dc[-4:]}-{k + 1}",
                        product_id=pid,
                        location_id=locations[dc],
                        received_on=ctx.as_of - dt.timedelta(days=age),
                        quantity=Decimal(qty),
                    )
                )
                remaining -= qty
                k += 1
    InventorySnapshot.objects.bulk_create(snapshots, batch_size=5000)
    InventoryLot.objects.bulk_create(lots, batch_size=5000)
    InventoryPolicy.objects.bulk_create(policies, batch_size=5000)

    peak = load[wc_index["OH-ASSY"]].max() / max(mean_load[wc_index["OH-ASSY"]] * factor[wc_index["OH-ASSY"]], 1)
    ctx.data["stockout_sku"] = risk_sku
    ctx.say(
        f"{len(plants)} plants, {len(centers)} work centers ({len(calendars):,} capacity months), "
        f"{len(routings):,} routings, {len(snapshots):,} stock snapshots, {len(lots):,} lots; "
        f"pump assembly peaks at {peak:.0%} of capacity, {int(aged.sum())} products hold aged stock"
    )
