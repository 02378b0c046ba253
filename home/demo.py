"""The demo company: a deterministic, realistic data set for trying and benchmarking the app.

``seed_demo`` runs an ordered list of steps, each owned by its app (``<app>/demo.py``), that
build on a shared :class:`core.demo.DemoContext`. The same seed and ``as_of`` date give the
same data. Demo users (password ``demo``) exist only while the demo is loaded.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from compensation import demo as compensation_demo
from core.calendar import add_months
from core.demo import (
    DEMO_PASSWORD,
    HISTORY_MONTHS,
    SCALES,
    DemoContext,
    demo_is_loaded,
    demo_users_wipe,
    staff_users_seed,
)
from core.errors import ApplicationError
from core.roles import sync_role_groups
from core.services import organisation_settings_get
from crm import demo as crm_demo
from inventory import demo as inventory_demo
from inventory.models import Location, Product, ProductFamily
from sales.models import SalesOrderLine
from scenarios import demo as scenarios_demo
from sop import cycle_demo, supply_demo
from sop import demo as sop_demo
from territories import demo as territories_demo
from territories.models import Account, AccountAssignment, Territory, TerritoryAssignment


def demo_steps():
    """Seed steps in dependency order; each module exposes ``wipe()`` and ``seed(ctx)``."""
    return [
        inventory_demo,
        territories_demo,
        sop_demo,
        supply_demo,
        territories_demo.QUOTAS,
        crm_demo,
        compensation_demo,
        cycle_demo,
        scenarios_demo,
    ]


def holds_business_data() -> bool:
    models = (ProductFamily, Product, Location, Account, Territory, SalesOrderLine)
    return any(model.objects.exists() for model in models)


@transaction.atomic
def seed_demo(
    *, scale: str = "small", seed: int = 42, as_of: dt.date | None = None, force: bool = False, cycles: bool = True
) -> DemoContext:
    """Load (or reload) the demo company. Refuses to touch non-demo data unless ``force``.

    ``cycles=False`` leaves out the S&OP cycles and the forecast run they start from (the
    test suite's shared fixture: it saves a forecast run per test)."""
    if scale not in SCALES:
        raise ApplicationError(f"Unknown scale '{scale}': choose one of {', '.join(SCALES)}.")
    if not demo_is_loaded() and holds_business_data() and not force:
        raise ApplicationError(
            "This database holds data that is not the demo company; seed_demo would replace it. "
            "Use --force to replace it anyway."
        )
    sync_role_groups()
    as_of = as_of or timezone.localdate()
    ctx = DemoContext(
        scale=SCALES[scale],
        seed=seed,
        as_of=as_of,
        rng=np.random.default_rng(seed),
        password_hash=make_password(DEMO_PASSWORD, salt="demo-salt-fixed"),
        history_start=add_months(as_of.replace(day=1), -HISTORY_MONTHS),
    )
    ctx.data["cycles"] = cycles
    steps = demo_steps()
    for step in reversed(steps):
        step.wipe()
    demo_users_wipe()
    staff_users_seed(ctx)
    for step in steps:
        step.seed(ctx)

    org = organisation_settings_get()
    org.name = "Aster Pumps & Controls (demo)"
    org.demo_seed = seed
    org.demo_scale = scale
    org.save()
    return ctx


def demo_fingerprint() -> str:
    """A hash over the demo's business data by natural keys (not primary keys)."""
    digest = hashlib.sha256()
    queries = [
        Product.objects.order_by("sku").values_list("sku", "name", "family__code", "unit_price", "unit_cost", "status"),
        Territory.objects.order_by("code").values_list("code", "name", "parent__code", "manager__username", "path"),
        TerritoryAssignment.objects.order_by("territory__code", "rep__username", "valid_from").values_list(
            "territory__code", "rep__username", "role", "share", "valid_from", "valid_to"
        ),
        Account.objects.order_by("external_id").values_list(
            "external_id", "name", "industry", "state", "city", "postal_code"
        ),
        AccountAssignment.objects.order_by("account__external_id", "valid_from").values_list(
            "account__external_id", "territory__code", "valid_from", "valid_to"
        ),
        SalesOrderLine.objects.order_by("external_id").values_list(
            "external_id",
            "order_date",
            "ship_date",
            "account__external_id",
            "product__sku",
            "quantity",
            "net_amount",
            "status",
            "territory__code",
        ),
    ]
    for query in queries:
        for row in query.iterator(chunk_size=5000):
            digest.update(repr(row).encode())
    return digest.hexdigest()
