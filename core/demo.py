"""The demo company: a deterministic, realistic data set for trying and benchmarking the app.

``seed_demo`` runs an ordered list of steps, each owned by its app (``<app>/demo.py``), that
build on a shared :class:`DemoContext`. The same seed and ``as_of`` date give the same data.
Demo users (password ``demo``) exist only while the demo is loaded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext

from core import roles as r
from core.errors import ApplicationError
from core.models import OrganisationSettings, Period, Profile
from core.services import add_months, organisation_settings_get, periods_ensure

DEMO_PASSWORD = "demo"
HISTORY_MONTHS = 36


@dataclass(frozen=True)
class Scale:
    name: str
    products: int
    regions: int
    districts_per_region: int  # 0 = territories sit directly under regions
    territories_per_parent: int
    accounts: int
    order_lines: int
    # Each product sells in this many territories (0 = everywhere): a national catalogue of
    # thousands of SKUs is not sold in every territory, which keeps series counts realistic.
    territories_per_product: int = 0


SCALES = {
    # "tiny" keeps tests fast; the README's scales are small, medium and large.
    "tiny": Scale("tiny", products=12, regions=2, districts_per_region=0, territories_per_parent=2,
                  accounts=40, order_lines=3_000),
    "small": Scale("small", products=60, regions=4, districts_per_region=0, territories_per_parent=3,
                   accounts=400, order_lines=100_000),
    "medium": Scale("medium", products=600, regions=6, districts_per_region=3, territories_per_parent=3,
                    accounts=4_000, order_lines=300_000, territories_per_product=6),
    "large": Scale("large", products=5_000, regions=8, districts_per_region=5, territories_per_parent=5,
                   accounts=20_000, order_lines=1_000_000, territories_per_product=3),
}


@dataclass
class DemoContext:
    scale: Scale
    seed: int
    as_of: dt.date
    rng: np.random.Generator
    password_hash: str
    history_start: dt.date
    data: dict = field(default_factory=dict)  # what earlier steps made, for later ones
    log: list[str] = field(default_factory=list)

    def say(self, message: str) -> None:
        self.log.append(message)

    def child_rng(self, name: str) -> np.random.Generator:
        """An independent stream per step: adding a step never changes another's data."""
        digest = hashlib.sha256(f"{self.seed}:{name}".encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def demo_steps():
    """Seed steps in dependency order; each module exposes ``wipe()`` and ``seed(ctx)``."""
    from compensation import demo as compensation_demo
    from inventory import demo as inventory_demo
    from sop import cycle_demo, supply_demo
    from sop import demo as sop_demo
    from territories import demo as territories_demo

    return [inventory_demo, territories_demo, sop_demo, supply_demo, territories_demo.QUOTAS, compensation_demo,
            cycle_demo]


def demo_is_loaded() -> bool:
    return OrganisationSettings.objects.filter(demo_seed__isnull=False).exists()


def holds_business_data() -> bool:
    from inventory.models import Location, Product, ProductFamily
    from sop.models import SalesOrderLine
    from territories.models import Account, Territory

    models = (ProductFamily, Product, Location, Account, Territory, SalesOrderLine)
    return any(model.objects.exists() for model in models)


def staff_users_seed(ctx: DemoContext) -> None:
    users = [
        ("admin", "Ada", "Admin", [r.ADMIN], True),
        ("planner", "Paula", "Planner", [r.PLANNER], False),
        ("ops", "Oscar", "Operations", [r.OPS_LEAD], False),
        ("exec", "Erin", "Executive", [r.EXECUTIVE], False),
    ]
    for username, first, last, role_codes, is_admin in users:
        demo_user_create(ctx, username=username, first_name=first, last_name=last, role_codes=role_codes,
                         is_superuser=is_admin)


def demo_user_create(ctx: DemoContext, *, username: str, first_name: str, last_name: str,
                     role_codes: list[str], is_superuser: bool = False, manager=None, hire_date=None):
    User = get_user_model()
    user = User.objects.create(
        username=username, first_name=first_name, last_name=last_name,
        email=f"{username}@demo.example", password=ctx.password_hash,
        is_staff=is_superuser, is_superuser=is_superuser,
    )
    user.groups.set(Group.objects.filter(name__in=role_codes))
    Profile.objects.create(user=user, manager=manager, hire_date=hire_date, is_demo=True,
                           title=", ".join(str(r.ROLES[c]) for c in role_codes))
    return user


def demo_users_wipe() -> None:
    User = get_user_model()
    User.objects.filter(profile__is_demo=True).delete()


@transaction.atomic
def seed_demo(*, scale: str = "small", seed: int = 42, as_of: dt.date | None = None,
              force: bool = False, cycles: bool = True) -> DemoContext:
    """Load (or reload) the demo company. Refuses to touch non-demo data unless ``force``.

    ``cycles=False`` leaves out the S&OP cycles and the forecast run they start from (the
    test suite's shared fixture: it saves a forecast run per test)."""
    if scale not in SCALES:
        raise ApplicationError(f"Unknown scale '{scale}': choose one of {', '.join(SCALES)}.")
    if not demo_is_loaded() and holds_business_data() and not force:
        raise ApplicationError(gettext("This database holds data that is not the demo company; seed_demo would replace it. "
                    "Use --force to replace it anyway.")
        )
    from core.roles import sync_role_groups

    sync_role_groups()
    as_of = as_of or dt.date.today()
    ctx = DemoContext(
        scale=SCALES[scale], seed=seed, as_of=as_of, rng=np.random.default_rng(seed),
        password_hash=make_password(DEMO_PASSWORD, salt="demo-salt-fixed"),
        history_start=add_months(as_of.replace(day=1), -HISTORY_MONTHS),
    )
    ctx.data["cycles"] = cycles
    steps = demo_steps()
    for step in reversed(steps):
        step.wipe()
    demo_users_wipe()
    Period.objects.all().delete()

    periods_ensure(start=ctx.history_start, count=HISTORY_MONTHS + 1 + 18)
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
    from inventory.models import Product
    from sop.models import SalesOrderLine
    from territories.models import Account, AccountAssignment, Territory, TerritoryAssignment

    digest = hashlib.sha256()
    queries = [
        Product.objects.order_by("sku").values_list("sku", "name", "family__code", "unit_price", "unit_cost", "status"),
        Territory.objects.order_by("code").values_list("code", "name", "parent__code", "manager__username", "path"),
        TerritoryAssignment.objects.order_by("territory__code", "rep__username", "valid_from").values_list(
            "territory__code", "rep__username", "role", "share", "valid_from", "valid_to"),
        Account.objects.order_by("external_id").values_list(
            "external_id", "name", "industry", "state", "city", "postal_code"),
        AccountAssignment.objects.order_by("account__external_id", "valid_from").values_list(
            "account__external_id", "territory__code", "valid_from", "valid_to"),
        SalesOrderLine.objects.order_by("external_id").values_list(
            "external_id", "order_date", "ship_date", "account__external_id", "product__sku", "quantity",
            "net_amount", "status", "territory__code"),
    ]
    for query in queries:
        for row in query.iterator(chunk_size=5000):
            digest.update(repr(row).encode())
    return digest.hexdigest()
