"""A small supply world for service, API and page tests: one family, products, a plant,
work centers with capacity, routings, a finished forecast run with product-level forecasts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from core.calendar import add_months

AS_OF = dt.date(2027, 1, 10)
HORIZON = [add_months(AS_OF.replace(day=1), i) for i in range(18)]


def user_with_roles(username: str, *roles: str):
    from core.roles import sync_role_groups

    sync_role_groups()
    user = get_user_model().objects.create(username=username)
    user.groups.set(Group.objects.filter(name__in=roles))
    return user


def supply_world(
    *,
    products: int = 1,
    work_centers: int = 1,
    hours: float = 100.0,
    build_ahead: int = 0,
    demand: dict[int, float] | None = None,
):
    """Products P0.. routed 1 h/unit on WC0 (and nothing else); capacity ``hours`` every period.

    ``demand``: period index → units, the same for every product (default: 150 in period 1).
    """
    from forecasting.models import Forecast, ForecastRun
    from inventory.models import InventoryPolicy, Location, Product, ProductFamily
    from sop.models import CapacityCalendar, Plant, Routing, WorkCenter

    family = ProductFamily.objects.create(code="PMP", name="Pumps")
    location = Location.objects.create(code="WH", name="Warehouse")
    plant = Plant.objects.create(code="PL1", name="Plant one")
    wcs = [WorkCenter.objects.create(code=f"WC{i}", name=f"Work center {i}", plant=plant) for i in range(work_centers)]
    CapacityCalendar.objects.bulk_create(
        [
            CapacityCalendar(work_center=wc, period_start=p, available_hours=Decimal(str(hours)))
            for wc in wcs
            for p in HORIZON
        ]
    )
    items = [
        Product.objects.create(
            sku=f"P{i}", name=f"Pump {i}", family=family, unit_price=Decimal("10"), unit_cost=Decimal("6")
        )
        for i in range(products)
    ]
    Routing.objects.bulk_create([Routing(product=p, work_center=wcs[0], hours_per_unit=Decimal("1")) for p in items])
    InventoryPolicy.objects.bulk_create(
        [
            InventoryPolicy(
                product=p, location=location, safety_stock=Decimal("0"), max_build_ahead_periods=build_ahead
            )
            for p in items
        ]
    )
    run = ForecastRun.objects.create(as_of=AS_OF, status=ForecastRun.Status.COMPLETED, finished_at=timezone.now())
    demand = {1: 150.0} if demand is None else demand
    Forecast.objects.bulk_create(
        [
            Forecast(
                run=run,
                level="product",
                series_key=f"p:{p.pk}",
                product=p,
                period_start=period,
                point=demand.get(t, 0.0),
                lo80=0,
                hi80=0,
                lo95=0,
                hi95=0,
            )
            for p in items
            for t, period in enumerate(HORIZON)
        ]
    )
    return {"family": family, "products": items, "work_centers": wcs, "forecast_run": run, "location": location}


def run_plan(**kwargs):
    from sop.services import plan_run_create, plan_run_execute

    run = plan_run_create(as_of=AS_OF, **kwargs)
    return plan_run_execute(run_id=run.pk)


def manager_with_territory(username: str = "mgr1", code: str = "EAST"):
    """A sales manager managing territory ``code`` (a root), and a sibling root they do not manage."""
    from territories.models import Territory

    manager = user_with_roles(username, "sales_manager")
    own = Territory.objects.create(code=code, name=code.title(), path=f"/{code}/", manager=manager)
    other = Territory.objects.create(code=f"NOT-{code}", name="Other", path=f"/NOT-{code}/")
    return manager, own, other


def make_alerts(
    n: int, *, work_center=None, territory=None, family=None, type_: str = "capacity_overload", start: int = 0
):
    from sop.models import CapacityAlert

    return CapacityAlert.objects.bulk_create(
        [
            CapacityAlert(
                fingerprint=f"{type_}:{i}",
                type=type_,
                severity="critical" if i % 2 else "warning",
                work_center=work_center,
                territory=territory,
                family=family,
                period_start=HORIZON[i % 18],
                amount=10 + i,
                unit="hours",
                message=f"alert {i}",
            )
            for i in range(start, start + n)
        ]
    )
