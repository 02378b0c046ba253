"""Demo step: 36 months of order lines with trend, yearly seasonality, a promotion spike,
intermittent spare parts, a product launched six months ago, returns and cancellations."""

from __future__ import annotations

import datetime as dt
from calendar import monthrange
from decimal import Decimal

import numpy as np

from core.calendar import add_months
from inventory.models import Product
from sales.models import SalesOrderLine

# family → (seasonal amplitude, peak month): pumps sell in summer, controls at budget year-end.
SEASONALITY = {"PMP": (0.35, 7), "VLV": (0.15, 4), "CTL": (0.25, 11), "SPR": (0.0, 1)}
PROMO_FAMILY, PROMO_MONTHS_AGO, PROMO_LIFT = "VLV", 14, 2.2


def wipe() -> None:
    SalesOrderLine.objects.all().delete()


def _choose_accounts(rng, accounts: dict, p_of: np.ndarray, n_products: int, per_product: int) -> np.ndarray:
    """An account for each line, by account size, among the territories selling its product."""
    weights = accounts["weights"]
    if not per_product:
        return rng.choice(len(weights), size=len(p_of), p=weights / weights.sum())
    owner = accounts["owner_before"]
    territories = np.unique(owner)
    k = min(per_product, len(territories))
    sells_in = np.array([rng.choice(territories, size=k, replace=False) for _ in range(n_products)])
    # Accounts sorted by territory with a cumulative weight: pick a territory, then a point in
    # its slice of the cumulative weights.
    order = np.argsort(owner, kind="stable")
    cum = np.cumsum(weights[order])
    bounds = np.searchsorted(owner[order], territories, side="left")
    ends = np.searchsorted(owner[order], territories, side="right")
    t_index = np.searchsorted(territories, sells_in[p_of, rng.integers(0, k, size=len(p_of))])
    low = np.where(bounds[t_index] > 0, cum[np.maximum(bounds[t_index] - 1, 0)], 0.0)
    high = cum[ends[t_index] - 1]
    picked = np.searchsorted(cum, low + rng.uniform(size=len(p_of)) * (high - low), side="right")
    picked = np.clip(picked, bounds[t_index], ends[t_index] - 1)
    return order[picked]


def seed(ctx) -> None:
    rng = ctx.child_rng("sales")
    meta = ctx.data["products"]
    accounts = ctx.data["accounts"]
    product_ids = dict(Product.objects.values_list("sku", "id"))
    n_products = len(meta)
    families = np.array([m[1] for m in meta])
    prices = np.array([m[2] for m in meta])
    per_line = np.array([m[3] for m in meta])

    months = [add_months(ctx.history_start, i) for i in range(37)]
    months = [m for m in months if m <= ctx.as_of]
    month_days = np.array([monthrange(m.year, m.month)[1] for m in months], dtype=float)
    elapsed = np.array(
        [
            min(ctx.as_of.day, d) if m.year == ctx.as_of.year and m.month == ctx.as_of.month else d
            for m, d in zip(months, month_days, strict=True)
        ],
        dtype=float,
    )
    m_idx = np.arange(len(months))

    # --- expected order lines per product × month ----------------------------------------
    intermittent = (families == "SPR") & (np.arange(n_products) % 2 == 0)
    base = rng.lognormal(0.0, 0.8, size=n_products)
    trend = rng.normal(0.06, 0.10, size=n_products)
    growth = (1 + trend[:, None]) ** (m_idx[None, :] / 12)
    cal_month = np.array([m.month for m in months])
    amp = np.array([SEASONALITY[f][0] for f in families])
    peak = np.array([SEASONALITY[f][1] for f in families])
    season = 1 + amp[:, None] * np.cos(2 * np.pi * (cal_month[None, :] - peak[:, None]) / 12)
    rate = base[:, None] * growth * season * (elapsed / month_days)[None, :]
    promo_col = len(months) - 1 - PROMO_MONTHS_AGO
    if 0 <= promo_col < len(months):
        rate[families == PROMO_FAMILY, promo_col] *= PROMO_LIFT
    new_sku = ctx.data.get("new_product_sku")
    launch = add_months(ctx.as_of.replace(day=1), -6)
    for i, m in enumerate(meta):
        if m[0] == new_sku:
            ramp = np.clip((np.array([(mm - launch).days for mm in months]) / 30 + 1) / 4, 0, 1)
            rate[i] *= np.where(np.array(months) >= launch, ramp, 0) * 3
    # Scale so the expected total matches the target; intermittent parts stay sparse.
    target = ctx.scale.order_lines / 1.02
    rate[intermittent] = rng.uniform(0.08, 0.5, size=(intermittent.sum(), 1)) * (elapsed / month_days)[None, :]
    regular = ~intermittent
    rate[regular] *= (target - rate[intermittent].sum()) / rate[regular].sum()
    counts = rng.poisson(rate)

    # --- expand to lines ----------------------------------------------------------------
    p_of = np.repeat(np.repeat(np.arange(n_products), len(months)), counts.ravel())
    mo_of = np.repeat(np.tile(m_idx, n_products), counts.ravel())
    n = len(p_of)
    day = np.floor(rng.uniform(0, 1, size=n) * elapsed[mo_of]).astype(int)
    month_start = np.array([np.datetime64(m) for m in months])
    order_date = month_start[mo_of] + day.astype("timedelta64[D]")
    acc_of = _choose_accounts(rng, accounts, p_of, n_products, ctx.scale.territories_per_product)
    lumpy = intermittent[p_of]
    qty = np.where(lumpy, rng.geometric(1 / (per_line[p_of] * 2)), 1 + rng.poisson(per_line[p_of] - 1))
    discount = np.round(rng.uniform(0, 0.15, size=n), 2)
    amount = np.round(qty * prices[p_of] * (1 - discount), 2)
    as_of64 = np.datetime64(ctx.as_of)
    age = (as_of64 - order_date).astype(int)
    status = np.where(age <= 10, "booked", np.where(age <= 40, "shipped", "invoiced")).astype(object)
    cancelled = rng.uniform(size=n) < 0.015
    status[cancelled] = "cancelled"
    ship_gap = rng.integers(1, 10, size=n)
    ship_date = order_date + ship_gap.astype("timedelta64[D]")
    has_ship = (status == "shipped") | (status == "invoiced")
    has_ship &= ship_date <= as_of64

    # Sort by date so external ids read like an ERP's order numbers.
    order = np.lexsort((acc_of, p_of, order_date))
    realign = np.datetime64(accounts["realign_date"])
    owner = np.where(order_date < realign, accounts["owner_before"][acc_of], accounts["owner_after"][acc_of])

    skus = [m[0] for m in meta]
    lines = []
    for seq, i in enumerate(order):
        od = order_date[i].astype(dt.date)
        lines.append(
            SalesOrderLine(
                external_id=f"SO{od:%y%m}-{seq + 1:07d}",
                order_date=od,
                ship_date=ship_date[i].astype(dt.date) if has_ship[i] else None,
                account_id=int(accounts["ids"][acc_of[i]]),
                product_id=product_ids[skus[p_of[i]]],
                quantity=Decimal(int(qty[i])),
                net_amount=Decimal(f"{amount[i]:.2f}"),
                status=status[i],
                territory_id=int(owner[i]),
            )
        )

    # Returns: 2 % of invoiced lines come back 15–75 days later, in part or whole.
    returned = (status == "invoiced") & (rng.uniform(size=n) < 0.02)
    back_after = rng.integers(15, 76, size=n)
    part = rng.uniform(0.2, 1.0, size=n)
    rma = 0
    for i in np.flatnonzero(returned):
        rdate = order_date[i] + np.timedelta64(int(back_after[i]), "D")
        if rdate > as_of64:
            continue
        rma += 1
        rq = max(1, int(round(qty[i] * part[i])))
        rd = rdate.astype(dt.date)
        lines.append(
            SalesOrderLine(
                external_id=f"RMA{rd:%y%m}-{rma:06d}",
                order_date=rd,
                ship_date=None,
                account_id=int(accounts["ids"][acc_of[i]]),
                product_id=product_ids[skus[p_of[i]]],
                quantity=Decimal(-rq),
                net_amount=-Decimal(f"{amount[i] * rq / qty[i]:.2f}"),
                status="returned",
                territory_id=int(owner[i] if rdate < realign else accounts["owner_after"][acc_of[i]]),
            )
        )
    SalesOrderLine.objects.bulk_create(lines, batch_size=5000)
    ctx.say(
        f"{len(lines):,} order lines ({rma:,} returns, {int(cancelled.sum()):,} cancelled) "
        f"from {months[0]:%Y-%m} to {ctx.as_of}"
    )
