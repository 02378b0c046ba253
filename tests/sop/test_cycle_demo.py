"""The demo company's S&OP cycles: one published, one in demand review with input."""

from django.test import Client

from home.demo import seed_demo
from sop.models import Decision, DemandPlanEdit, PlanCycle
from tests.conftest import AS_OF


def test_the_demo_has_a_published_cycle_and_one_in_demand_review(db):
    seed_demo(scale="tiny", seed=7, as_of=AS_OF)
    # (the six earlier, simulated cycles of the scenarios demo precede these two)
    published, current = PlanCycle.objects.filter(month__gte=AS_OF.replace(day=1)).order_by("month")
    assert (published.month.isoformat(), published.status, published.stage) == ("2026-06-01", "published", "published")
    assert published.plan_run.status == "completed"
    assert (current.month.isoformat(), current.stage, current.previous_cycle) == (
        "2026-07-01",
        "demand_review",
        published,
    )
    edits = DemandPlanEdit.objects.filter(cycle=current)
    assert set(edits.values_list("measure", flat=True)) == {"sales_override", "consensus"}
    assert Decision.objects.filter(cycle=current, status="open").count() == 2
    assert not current.warnings
    client = Client()
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="planner"))
    page = client.get("/supply/cycle/2026-07-01/demand/").content.decode()
    assert "Two key accounts confirmed larger orders" in page
    home = client.get("/").content.decode()
    assert "2026-07-01" in home  # the demand review is the planner's
