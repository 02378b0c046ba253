"""The demo company's common ground: scales, the shared :class:`DemoContext` and demo users.

``home.demo.seed_demo`` runs an ordered list of steps, each owned by its app
(``<app>/demo.py``), that build on a shared :class:`DemoContext`. The same seed and ``as_of``
date give the same data. Demo users (password ``demo``) exist only while the demo is loaded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core import roles as r
from core.models import OrganisationSettings, Profile

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
    "tiny": Scale(
        "tiny", products=12, regions=2, districts_per_region=0, territories_per_parent=2, accounts=40, order_lines=3_000
    ),
    "small": Scale(
        "small",
        products=60,
        regions=4,
        districts_per_region=0,
        territories_per_parent=3,
        accounts=400,
        order_lines=100_000,
    ),
    "medium": Scale(
        "medium",
        products=600,
        regions=6,
        districts_per_region=3,
        territories_per_parent=3,
        accounts=4_000,
        order_lines=300_000,
        territories_per_product=6,
    ),
    "large": Scale(
        "large",
        products=5_000,
        regions=8,
        districts_per_region=5,
        territories_per_parent=5,
        accounts=20_000,
        order_lines=1_000_000,
        territories_per_product=3,
    ),
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


def demo_is_loaded() -> bool:
    return OrganisationSettings.objects.filter(demo_seed__isnull=False).exists()


def staff_users_seed(ctx: DemoContext) -> None:
    users = [
        ("admin", "Ada", "Admin", [r.ADMIN], True),
        ("planner", "Paula", "Planner", [r.PLANNER], False),
        ("ops", "Oscar", "Operations", [r.OPS_LEAD], False),
        ("exec", "Erin", "Executive", [r.EXECUTIVE], False),
    ]
    for username, first, last, role_codes, is_admin in users:
        demo_user_create(
            ctx, username=username, first_name=first, last_name=last, role_codes=role_codes, is_superuser=is_admin
        )


def demo_user_create(
    ctx: DemoContext,
    *,
    username: str,
    first_name: str,
    last_name: str,
    role_codes: list[str],
    is_superuser: bool = False,
    manager=None,
    hire_date=None,
):
    User = get_user_model()
    user = User.objects.create(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=f"{username}@demo.example",
        password=ctx.password_hash,
        is_staff=is_superuser,
        is_superuser=is_superuser,
    )
    user.groups.set(Group.objects.filter(name__in=role_codes))
    Profile.objects.create(
        user=user,
        manager=manager,
        hire_date=hire_date,
        is_demo=True,
        title=", ".join(str(r.ROLES[c]) for c in role_codes),
    )
    return user


def demo_users_wipe() -> None:
    User = get_user_model()
    User.objects.filter(profile__is_demo=True).delete()
