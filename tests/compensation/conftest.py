"""A tiny sales org built by hand, so every number in the compensation tests is worked by hand.

Territory T1 (manager ``boss``) has ``alice`` 60 % and ``bob`` 40 % as primaries; T2 has
``carol`` 100 %. One product SKU-1 (family STD, unit cost 50). Plans are flat rates on each
transaction unless a test says otherwise.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

D = Decimal
JAN = dt.date(2025, 1, 1)
FEB = dt.date(2025, 2, 1)
MAR = dt.date(2025, 3, 1)


class Shop:
    def __init__(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        from core.models import Profile
        from core.roles import sync_role_groups
        from inventory.models import Product, ProductFamily
        from territories.models import Account, Territory, TerritoryAssignment

        sync_role_groups()
        User = get_user_model()

        def user(name, role, manager=None):
            u = User.objects.create(username=name, first_name=name.title())
            u.groups.set(Group.objects.filter(name=role))
            Profile.objects.create(user=u, manager=manager)
            return u

        self.admin = user("boss_admin", "admin")
        self.boss = user("boss", "sales_manager")
        self.other_boss = user("other_boss", "sales_manager")
        self.alice = user("alice", "sales_rep", self.boss)
        self.bob = user("bob", "sales_rep", self.boss)
        self.carol = user("carol", "sales_rep", self.other_boss)
        self.ops = user("ops_lead", "ops_lead")
        family = ProductFamily.objects.create(code="STD", name="Standard")
        self.product = Product.objects.create(
            sku="SKU-1", name="Widget", family=family, unit_price=D("100"), unit_cost=D("50")
        )
        self.t1 = Territory.objects.create(code="T1", name="One", manager=self.boss, path="/T1/")
        self.t2 = Territory.objects.create(code="T2", name="Two", manager=self.other_boss, path="/T2/")
        start = dt.date(2024, 1, 1)
        self.shares = {
            "alice": TerritoryAssignment.objects.create(
                rep=self.alice, territory=self.t1, share=D(60), valid_from=start
            ),
            "bob": TerritoryAssignment.objects.create(rep=self.bob, territory=self.t1, share=D(40), valid_from=start),
            "carol": TerritoryAssignment.objects.create(
                rep=self.carol, territory=self.t2, share=D(100), valid_from=start
            ),
        }
        self.a1 = Account.objects.create(external_id="A1", name="Acme")
        self.a2 = Account.objects.create(external_id="A2", name="Bolt")
        self.seq = 0

    def sale(self, day: dt.date, amount: str, *, territory=None, status="invoiced", qty="1", external_id=None):
        from sales.models import SalesOrderLine

        self.seq += 1
        territory = territory or self.t1
        return SalesOrderLine.objects.create(
            external_id=external_id or f"SO-{self.seq:03d}",
            order_date=day,
            account=self.a1 if territory == self.t1 else self.a2,
            product=self.product,
            quantity=D(qty),
            net_amount=D(amount),
            status=status,
            territory=territory,
        )

    def plan(self, code: str, rate: str = "5", **terms):
        from compensation.models import CompPlan

        values = {
            "valid_from": dt.date(2024, 1, 1),
            "measure": "revenue",
            "basis": "transaction",
            "tier_on": "amount",
            "mode": "whole",
            "tiers": [{"from": "0", "to": "", "rate": rate}],
        }
        values.update(terms)
        return CompPlan.objects.create(code=code, name=code, **values)

    def assign(self, rep, plan, *, valid_from=dt.date(2024, 1, 1), quota=None):
        from compensation.models import CompAssignment

        return CompAssignment.objects.create(rep=rep, plan=plan, valid_from=valid_from, quota=quota)


@pytest.fixture
def shop(db):
    return Shop()


@pytest.fixture
def erp(db):
    """``erp(scopes=[...], name=...)`` → an API client with a Bearer token holding those scopes."""
    from rest_framework.test import APIClient

    from core.services import api_client_create

    def make(scopes=("comp:read",), name="erp-test", **kwargs):
        client, token = api_client_create(name=name, scopes=list(scopes), **kwargs)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        api.client_record = client
        return api

    return make
