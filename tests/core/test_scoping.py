"""Row visibility by role: the for_user helper every selector and API uses."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from sales.models import SalesOrderLine
from territories.models import Account, AccountAssignment, Territory

User = get_user_model()


def user(name):
    return User.objects.get(username=name)


def test_anonymous_sees_nothing(demo):
    assert Account.objects.for_user(AnonymousUser()).count() == 0
    assert SalesOrderLine.objects.for_user(None).count() == 0


def test_planner_and_executive_see_every_account(demo):
    total = Account.objects.count()
    assert Account.objects.for_user(user("planner")).count() == total
    assert Account.objects.for_user(user("exec")).count() == total


def test_manager_sees_exactly_the_accounts_of_their_region(demo):
    region = Territory.objects.get(manager__username="manager")
    today = timezone.localdate()
    expected = (
        AccountAssignment.objects.filter(territory__path__startswith=region.path, valid_from__lte=today)
        .exclude(valid_to__lt=today)
        .values("account")
        .distinct()
        .count()
    )
    visible = Account.objects.for_user(user("manager"))
    assert visible.count() == expected
    assert 0 < expected < Account.objects.count()


def test_rep_sees_only_lines_of_their_territories_on_the_order_date(demo):
    rep = user("rep1")
    lines = SalesOrderLine.objects.for_user(rep)
    assert lines.exists()
    territories = set(rep.territory_assignments.values_list("territory_id", flat=True))
    assert set(lines.values_list("territory_id", flat=True)) <= territories
    assert lines.count() < SalesOrderLine.objects.count()


def test_ops_lead_does_not_see_customer_accounts(demo):
    assert Account.objects.for_user(user("ops")).count() == 0


@pytest.mark.parametrize("name", ["rep1", "manager"])
def test_inactive_users_see_nothing(demo, name):
    u = user(name)
    u.is_active = False
    assert Account.objects.for_user(u).count() == 0
