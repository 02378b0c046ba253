"""Reads other apps rely on: unit quotas per family for the supply reconciliation."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.models import ProductFamily
from territories.models import Quota, QuotaPlan, Territory
from territories.selectors import FAMILY_QUOTA_COLUMNS, family_unit_quotas

JAN, FEB = dt.date(2027, 1, 1), dt.date(2027, 2, 1)


@pytest.mark.django_db
def test_family_unit_quotas_is_empty_without_plans():
    frame = family_unit_quotas(period_starts=[JAN])
    assert list(frame.columns) == FAMILY_QUOTA_COLUMNS and frame.empty


@pytest.mark.django_db
def test_family_unit_quotas_prefers_the_approved_plan_and_sums_per_territory():
    pumps = ProductFamily.objects.create(code="PMP", name="Pumps")
    t1 = Territory.objects.create(code="T1", name="T1", path="/T1/")
    t2 = Territory.objects.create(code="T2", name="T2", path="/T2/")
    approved = QuotaPlan.objects.create(code="FY27", fiscal_year=2027, status="approved", approved_at=timezone.now())
    draft = QuotaPlan.objects.create(code="FY27-v2", fiscal_year=2027)
    for plan, qty in ((approved, 100), (draft, 999)):
        Quota.objects.create(
            plan=plan, territory=t1, period_start=JAN, measure="units", family=pumps, amount=Decimal(qty)
        )
    Quota.objects.create(plan=approved, territory=t2, period_start=FEB, measure="units", family=pumps, amount=7)
    Quota.objects.create(plan=approved, territory=t2, period_start=JAN, measure="revenue", amount=5000)

    frame = family_unit_quotas(period_starts=[JAN, FEB])
    assert frame.to_dict("records") == [
        {"family_code": "PMP", "territory_code": "T1", "period_start": JAN, "quota_qty": 100.0},
        {"family_code": "PMP", "territory_code": "T2", "period_start": FEB, "quota_qty": 7.0},
    ]
