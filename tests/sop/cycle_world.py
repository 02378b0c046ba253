"""A small, hand-countable world for the S&OP cycle's tests.

Cycle month 2027-03 (worked in February; horizon 3 months: Mar, Apr, May). Territories:
EAST (managed by ``mgr_east``) with EAST-1 and EAST-2, WEST (managed by ``mgr_west``) with
WEST-1. Family PMP: P1 (1 h/unit on WC1), P2 (2 h/unit on WC1), P3 (not routed); family VLV:
V1. WC1 has 1,000 hours every month. A finished forecast run (as of 2027-02-10) forecasts,
every month from February to May:

    (P1, EAST-1) 100   (P1, EAST-2) 50   (P2, EAST-1) 0   (P2, WEST-1) 30
    (P3, EAST-2) 0     (P3, WEST-1) 0    (V1, WEST-1) 40

An approved quota plan holds PMP units on EAST for March (900) and on WEST for April (100).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from core.services import organisation_settings_get
from forecasting.models import Forecast, ForecastRun
from inventory.models import Product, ProductFamily
from sales.models import SalesOrderLine
from sop.models import CapacityCalendar, DemandPlanLine, Plant, Routing, WorkCenter
from territories.models import Account, Quota, QuotaPlan, Territory
from tests.sop.factories import user_with_roles

AS_OF = dt.date(2027, 2, 10)
MONTH = dt.date(2027, 3, 1)
MAR, APR, MAY = dt.date(2027, 3, 1), dt.date(2027, 4, 1), dt.date(2027, 5, 1)
FORECAST_MONTHS = [dt.date(2027, 2, 1), MAR, APR, MAY]
SERIES = [
    ("P1", "EAST-1", 100),
    ("P1", "EAST-2", 50),
    ("P2", "EAST-1", 0),
    ("P2", "WEST-1", 30),
    ("P3", "EAST-2", 0),
    ("P3", "WEST-1", 0),
    ("V1", "WEST-1", 40),
]


def _company(**roles: str) -> tuple[dict, dict, ForecastRun]:
    """Users (name → their one role), a 3-month horizon, families PMP and VLV and a finished
    forecast run as of ``AS_OF`` (no rows yet)."""
    users = {name: user_with_roles(name, role) for name, role in roles.items()}
    org = organisation_settings_get()
    org.plan_horizon_periods = 3
    org.save()
    families = {
        "PMP": ProductFamily.objects.create(code="PMP", name="Pumps"),
        "VLV": ProductFamily.objects.create(code="VLV", name="Valves"),
    }
    run = ForecastRun.objects.create(
        as_of=AS_OF, horizon=4, status=ForecastRun.Status.COMPLETED, finished_at=timezone.now()
    )
    return users, families, run


def _forecasts(run, product, point, *, territory=None, level="product_territory", series_key: str) -> list[Forecast]:
    """One forecast row of ``point`` units per month of ``FORECAST_MONTHS`` (no interval)."""
    return [
        Forecast(
            run=run,
            level=level,
            series_key=series_key,
            product=product,
            territory=territory,
            period_start=m,
            point=point,
            lo80=0,
            hi80=0,
            lo95=0,
            hi95=0,
        )
        for m in FORECAST_MONTHS
    ]


def cycle_world() -> dict:
    users, families, run = _company(
        planner="planner",
        planner2="planner",
        ops="ops_lead",
        exec="executive",
        admin="admin",
        mgr_east="sales_manager",
        mgr_west="sales_manager",
        rep="sales_rep",
    )
    east = Territory.objects.create(code="EAST", name="East", path="/EAST/", level="region", manager=users["mgr_east"])
    west = Territory.objects.create(code="WEST", name="West", path="/WEST/", level="region", manager=users["mgr_west"])
    leaves = {
        "EAST-1": Territory.objects.create(code="EAST-1", name="East one", parent=east, path="/EAST/EAST-1/"),
        "EAST-2": Territory.objects.create(code="EAST-2", name="East two", parent=east, path="/EAST/EAST-2/"),
        "WEST-1": Territory.objects.create(code="WEST-1", name="West one", parent=west, path="/WEST/WEST-1/"),
    }
    pmp, vlv = families["PMP"], families["VLV"]
    products = {
        sku: Product.objects.create(
            sku=sku, name=f"Item {sku}", family=fam, unit_price=Decimal(price), unit_cost=Decimal(cost)
        )
        for sku, fam, price, cost in (
            ("P1", pmp, "10", "6"),
            ("P2", pmp, "20", "12"),
            ("P3", pmp, "5", "3"),
            ("V1", vlv, "8", "4"),
        )
    }
    plant = Plant.objects.create(code="PL1", name="Plant one")
    wc = WorkCenter.objects.create(code="WC1", name="Assembly", plant=plant)
    CapacityCalendar.objects.bulk_create(
        [CapacityCalendar(work_center=wc, period_start=m, available_hours=Decimal("1000")) for m in FORECAST_MONTHS]
    )
    Routing.objects.create(product=products["P1"], work_center=wc, hours_per_unit=Decimal("1"))
    Routing.objects.create(product=products["P2"], work_center=wc, hours_per_unit=Decimal("2"))
    rows = []
    for sku, code, point in SERIES:
        p, t = products[sku], leaves[code]
        rows += _forecasts(run, p, point, territory=t, series_key=f"{p.pk}:{t.pk}")
    for sku in ("P1", "P2", "P3", "V1"):
        total = sum(point for s, _c, point in SERIES if s == sku)
        rows += _forecasts(run, products[sku], total, level="product", series_key=f"p:{products[sku].pk}")
    Forecast.objects.bulk_create(rows)
    plan = QuotaPlan.objects.create(code="FY2027", fiscal_year=2027, status="approved", approved_at=timezone.now())
    Quota.objects.create(
        plan=plan, territory=east, period_start=MAR, measure="units", family=pmp, amount=Decimal("900")
    )
    Quota.objects.create(
        plan=plan, territory=west, period_start=APR, measure="units", family=pmp, amount=Decimal("100")
    )
    return {
        "users": users,
        "products": products,
        "territories": {"EAST": east, "WEST": west, **leaves},
        "families": families,
        "work_center": wc,
        "forecast_run": run,
    }


def grain(cycle, measure: str = "consensus", period=MAR) -> dict[tuple[str, str], object]:
    """(sku, territory code) → the measure of the cycle's grain rows in one month."""
    return {
        (sku, code): value
        for sku, code, value in DemandPlanLine.objects.filter(cycle=cycle, period_start=period).values_list(
            "product__sku", "territory__code", measure
        )
    }


def sell(sku: str, territory_code: str | None, day: dt.date, quantity: int, *, status: str = "invoiced"):
    """One sales order line of ``quantity`` units (an account of its own; ``territory_code``
    None: credited to no territory)."""
    n = SalesOrderLine.objects.count() + 1
    account = Account.objects.create(external_id=f"ACC-{n}", name=f"Customer {n}")
    territory = Territory.objects.get(code=territory_code) if territory_code else None
    return SalesOrderLine.objects.create(
        external_id=f"SO-{n}",
        order_date=day,
        account=account,
        product=Product.objects.get(sku=sku),
        quantity=Decimal(quantity),
        net_amount=Decimal(quantity * 10),
        status=status,
        territory=territory,
    )


def grow(world: dict, *, products: int = 6, territories: int = 4, months_of_sales: int = 14) -> None:
    """More of everything in ``cycle_world``: a family of ``products`` products forecast in
    every territory (``territories`` new ones included), their sales, and more quotas; for
    tests that check a page's query count does not grow with the data."""
    fans = ProductFamily.objects.create(code="FAN", name="Fans")
    east = world["territories"]["EAST"]
    leaves = list(Territory.objects.filter(parent__isnull=False))
    for i in range(territories):
        leaves.append(
            Territory.objects.create(code=f"EAST-X{i}", name=f"East extra {i}", parent=east, path=f"/EAST/EAST-X{i}/")
        )
    run = world["forecast_run"]
    rows = []
    for i in range(products):
        product = Product.objects.create(
            sku=f"F{i}", name=f"Fan {i}", family=fans, unit_price=Decimal("9"), unit_cost=Decimal("5")
        )
        Routing.objects.create(product=product, work_center=world["work_center"], hours_per_unit=Decimal("0.5"))
        for t in leaves:
            rows += _forecasts(run, product, 10 + i, territory=t, series_key=f"{product.pk}:{t.pk}")
            for back in range(1, months_of_sales + 1):
                month = AS_OF.replace(day=1)
                for _ in range(back):
                    month = (month - dt.timedelta(days=1)).replace(day=1)
                sell(product.sku, t.code, month + dt.timedelta(days=i), 3 + i)
    Forecast.objects.bulk_create(rows)
    plan = QuotaPlan.objects.get(code="FY2027")
    for t in leaves:
        Quota.objects.create(
            plan=plan, territory=t, period_start=MAR, measure="units", family=fans, amount=Decimal("40")
        )


def no_territory_world() -> dict:
    """A company that sells but has no territories: every sale is credited to no territory,
    and the forecast has one series per product (territory empty). Horizon 3 months
    (March–May 2027); the forecast (as of 2027-02-10) says, every month from February:

        P1 60   P2 30   (family PMP)      V1 0   (family VLV)

    Sales: P1 45 units in March 2026, P2 12 in April 2026, P1 50 in January 2027.
    """
    users, families, run = _company(planner="planner", ops="ops_lead", mgr="sales_manager", exec="executive")
    products = {
        sku: Product.objects.create(
            sku=sku, name=f"Item {sku}", family=families[fam], unit_price=Decimal("10"), unit_cost=Decimal("6")
        )
        for sku, fam in (("P1", "PMP"), ("P2", "PMP"), ("V1", "VLV"))
    }
    rows = []
    for sku, point in (("P1", 60), ("P2", 30), ("V1", 0)):
        p = products[sku]
        rows += _forecasts(run, p, point, series_key=f"{p.pk}:-")
        rows += _forecasts(run, p, point, level="product", series_key=f"p:{p.pk}")
    Forecast.objects.bulk_create(rows)
    sell("P1", None, dt.date(2026, 3, 10), 45)
    sell("P2", None, dt.date(2026, 4, 10), 12)
    sell("P1", None, dt.date(2027, 1, 10), 50)
    return {"users": users, "products": products, "families": families, "forecast_run": run}
