"""Hand-worked checks of the territories services: exact top-down allocation, the new-hire
ramp, the primary-share check, the quota plan workflow and a manual account move."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from core.errors import ApplicationError
from core.models import Profile
from territories import services
from territories.models import (
    Account,
    AccountAssignment,
    Quota,
    QuotaPlan,
    Territory,
    TerritoryAssignment,
)

START = dt.date(2027, 1, 1)


@pytest.fixture
def region(db):
    root = Territory.objects.create(code="R", name="Region", path="/R/")
    for code in ("A", "B", "C"):
        Territory.objects.create(code=code, name=code, parent=root, path=f"/R/{code}/")
    return root


def people(*names):
    User = get_user_model()
    out = []
    for name in names:
        user = User.objects.create(username=name)
        Profile.objects.create(user=user)
        out.append(user)
    return out


def test_one_million_over_thirds_sums_exactly(region):
    plan = services.quota_plan_create(code="P", fiscal_year=2027)
    split = services.quota_allocate_top_down(
        plan=plan,
        target=Decimal(1_000_000),
        basis="even",
        owner_kind="territory",
        node=region,
        measure="units",
        as_of=dt.date(2026, 11, 1),
    )
    assert dict(zip(split["owner"], split["amount"])) == {"A": 333_334, "B": 333_333, "C": 333_333}
    annual = {code: sum(Quota.objects.filter(territory__code=code).values_list("amount", flat=True)) for code in "ABC"}
    assert annual == {"A": 333_334, "B": 333_333, "C": 333_333}
    assert Quota.objects.filter(territory__code="A").count() == 12
    assert plan.targets.get().amount == 1_000_000


def test_new_hire_ramp_25_50_75_100(region):
    (newbie,) = people("newbie")
    Profile.objects.filter(user=newbie).update(hire_date=dt.date(2027, 3, 10))
    TerritoryAssignment.objects.create(
        rep=newbie, territory=Territory.objects.get(code="A"), valid_from=dt.date(2027, 3, 10)
    )
    plan = services.quota_plan_create(code="P", fiscal_year=2027)
    a = Territory.objects.get(code="A")
    services.quota_allocate_top_down(
        plan=plan,
        target=Decimal(12_000),
        basis="even",
        owner_kind="rep",
        node=a,
        measure="units",
        as_of=dt.date(2027, 3, 10),
    )
    months = dict(Quota.objects.filter(rep=newbie).values_list("period_start", "amount"))
    assert [months[dt.date(2027, m, 1)] for m in range(1, 8)] == [0, 0, 250, 500, 750, 1000, 1000]
    assert Quota.objects.get(rep=newbie, period_start=dt.date(2027, 3, 1)).full_amount == 1000


def test_primary_shares_must_total_100(region):
    alice, bob = people("alice", "bob")
    a = Territory.objects.get(code="A")
    services.territory_assignment_save(rep=alice, territory=a, share=Decimal(100), valid_from=START)
    with pytest.raises(ApplicationError) as error:
        services.territory_assignment_save(rep=bob, territory=a, share=Decimal(40), valid_from=dt.date(2027, 7, 1))
    assert error.value.message == (
        "Territory A: primary credit shares total 140 % from 2027-07-01 onwards "
        "(alice 100 %, bob 40 %); they must total exactly 100 %."
    )
    assert error.value.code == "primary_shares_invalid"
    assert not TerritoryAssignment.objects.filter(rep=bob).exists()
    # An overlay does not count towards the primaries.
    services.territory_assignment_save(
        rep=bob, territory=a, role="overlay", share=Decimal(25), valid_from=dt.date(2027, 7, 1)
    )


def test_quota_plan_workflow_with_four_eyes(region):
    manager, director = people("manager", "director")
    Territory.objects.filter(code="R").update(manager=director)
    plan = services.quota_plan_create(code="P", fiscal_year=2027)
    services.quota_set(plan=plan, territory=Territory.objects.get(code="A"), period_start=START, amount=10)
    services.quota_plan_transition(plan=plan, action="submit", actor=manager)
    with pytest.raises(ApplicationError, match="only a draft plan can be changed"):
        services.quota_set(plan=plan, territory=Territory.objects.get(code="A"), period_start=START, amount=11)
    with pytest.raises(ApplicationError, match="someone other than who submitted"):
        services.quota_plan_transition(plan=plan, action="approve", actor=manager)
    with pytest.raises(ApplicationError, match="comment is required"):
        services.quota_plan_transition(plan=plan, action="return", actor=director)
    plan = services.quota_plan_transition(plan=plan, action="approve", actor=director, comment="OK for FY27")
    assert (plan.status, plan.approved_by, plan.submitted_by) == ("approved", director, manager)
    assert plan.approved_at is not None and plan.submitted_at is not None
    with pytest.raises(ApplicationError):
        services.quota_plan_transition(plan=plan, action="submit", actor=manager)
    assert QuotaPlan.objects.get().status == "approved"


def test_approving_or_returning_a_plan_needs_its_whole_scope(region):
    from django.contrib.auth.models import Group

    submitter, a_boss, r_boss, chief = people("submitter", "a_boss", "r_boss", "chief")
    Territory.objects.filter(code="A").update(manager=a_boss)
    Territory.objects.filter(code="R").update(manager=r_boss)
    chief.groups.add(Group.objects.get_or_create(name="admin")[0])
    a, b = Territory.objects.get(code="A"), Territory.objects.get(code="B")

    def submitted(code, territories, revenue_target=None):
        plan = services.quota_plan_create(code=code, fiscal_year=2027)
        QuotaPlan.objects.filter(pk=plan.pk).update(revenue_target=revenue_target)
        for territory in territories:
            services.quota_set(plan=plan, territory=territory, period_start=START, amount=10)
        return services.quota_plan_transition(plan=plan, action="submit", actor=submitter)

    both = submitted("AB", [a, b])  # reaches into B: not A's manager's plan
    for action, comment in (("approve", ""), ("return", "too high")):
        with pytest.raises(ApplicationError) as error:
            services.quota_plan_transition(plan=both, action=action, actor=a_boss, comment=comment)
        assert (error.value.code, error.value.status_code) == ("out_of_scope", 403)
        assert error.value.message == (
            f"Quota plan AB covers territories beyond the ones you manage: only an "
            f"administrator or a manager of all of them may {action} it."
        )
    assert QuotaPlan.objects.get(code="AB").status == "submitted"
    assert services.quota_plan_transition(plan=both, action="approve", actor=r_boss).status == "approved"

    only_a = submitted("A-ONLY", [a])
    assert services.quota_plan_transition(plan=only_a, action="return", actor=a_boss, comment="again").status == "draft"
    company = submitted("CO", [a], revenue_target=Decimal(1000))  # the company target makes it company-wide
    empty = submitted("EMPTY", [])
    for plan in (company, empty):
        with pytest.raises(ApplicationError, match="beyond the ones you manage"):
            services.quota_plan_transition(plan=plan, action="approve", actor=a_boss)
    assert services.quota_plan_transition(plan=company, action="approve", actor=r_boss).status == "approved"
    assert services.quota_plan_transition(plan=empty, action="approve", actor=chief).status == "approved"


def test_a_manual_move_keeps_history(region):
    account = Account.objects.create(external_id="X", name="X")
    a, b = Territory.objects.get(code="A"), Territory.objects.get(code="B")
    AccountAssignment.objects.create(account=account, territory=a, valid_from=dt.date(2020, 1, 1))
    services.account_assign(account=account, territory=b, effective_from=dt.date(2026, 7, 1))
    rows = list(
        AccountAssignment.objects.order_by("valid_from").values_list("territory__code", "valid_from", "valid_to")
    )
    assert rows == [("A", dt.date(2020, 1, 1), dt.date(2026, 6, 30)), ("B", dt.date(2026, 7, 1), None)]


def test_forecast_value_per_territory_comes_from_the_latest_finished_run(region):
    from django.utils import timezone

    from forecasting.models import Forecast, ForecastRun
    from forecasting.selectors import territory_forecast_n12m
    from inventory.models import Product, ProductFamily

    product = Product.objects.create(
        sku="P",
        name="P",
        family=ProductFamily.objects.create(code="F", name="F"),
        unit_price=Decimal("2.5"),
        unit_cost=1,
    )
    run = ForecastRun.objects.create(status="completed", as_of=START, finished_at=timezone.now())
    a = Territory.objects.get(code="A")
    for month, point in ((START, 10.0), (dt.date(2027, 12, 1), 4.0), (dt.date(2028, 1, 1), 99.0)):
        Forecast.objects.create(
            run=run,
            level="product_territory",
            series_key=f"P|A|{month}",
            product=product,
            territory=a,
            period_start=month,
            point=point,
            lo80=0,
            hi80=0,
            lo95=0,
            hi95=0,
        )
    assert territory_forecast_n12m(as_of=dt.date(2027, 1, 15)) == {a.pk: Decimal("35.00")}
