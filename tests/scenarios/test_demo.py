"""The demo company holds past cycles for forecast value added, and two scenarios run."""

from rest_framework.test import APIClient

from home.demo import seed_demo
from scenarios.models import Scenario
from sop.models import PlanCycle
from tests.conftest import AS_OF


def test_the_demo_shows_forecast_value_added_and_scenarios(db):
    from django.contrib.auth import get_user_model

    seed_demo(scale="tiny", seed=7, as_of=AS_OF)
    assert PlanCycle.objects.published().filter(month__lt=AS_OF.replace(day=1)).count() == 6
    scenarios = list(Scenario.objects.order_by("id"))
    assert len(scenarios) == 2 and all(s.status == "completed" and s.kpis for s in scenarios)
    assert scenarios[0].kpis["overload_hours"] >= scenarios[0].base.kpis["overload_hours"]
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username="planner"))
    for lag in (1, 2, 3):
        body = client.get("/api/v1/forecast-accuracy/", {"lag": lag, "level": "family"}).json()
        assert body["results"], lag
        assert all(r["months"] >= 1 for r in body["results"])
        assert any(r["statistical_wape"] is not None and r["fva_consensus"] is not None for r in body["results"])
    total = client.get("/api/v1/forecast-accuracy/", {"lag": 1}).json()["results"][0]
    assert total["months"] == 6
    from django.test import Client

    home = Client()
    home.force_login(get_user_model().objects.get(username="planner"))
    page = home.get("/").content.decode()
    assert 'id="fva-panel"' in page and 'id="accuracy-data"' in page
    compared = client.get("/api/v1/scenarios/compare", {"ids": ",".join(str(s.pk) for s in scenarios)})
    assert compared.status_code == 200
