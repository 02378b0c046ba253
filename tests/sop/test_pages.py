"""Pages of the operations lead: access by role, actions, and flat query counts."""

from __future__ import annotations

import pytest
from django.test import Client

from sop.models import CapacityAlert
from tests.sop.factories import (
    HORIZON,
    make_alerts,
    manager_with_territory,
    run_plan,
    supply_world,
    user_with_roles,
)

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def planned():
    world = supply_world(demand={1: 150.0}, products=2, work_centers=2)
    world["run"] = run_plan()
    world["ops"] = user_with_roles("ops", "ops_lead")
    return world


def test_ops_lead_opens_every_supply_page(planned):
    client = client_for(planned["ops"])
    for url in (
        "/supply/alerts/",
        "/supply/capacity/",
        "/supply/capacity/WC0/" + HORIZON[1].isoformat() + "/",
        "/supply/products/P0/",
        "/inventory/",
        f"/supply/runs/{planned['run'].pk}/",
        f"/supply/alerts/{CapacityAlert.objects.first().pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    heat = client.get("/supply/capacity/").context["heat"]
    wc0 = next(r for r in heat["rows"] if r["code"] == "WC0")
    assert wc0["cells"][1]["pct"] == 300 and wc0["cells"][1]["level"] == "over"  # 2 products × 150 h / 100 h
    cell = client.get("/supply/capacity/WC0/" + HORIZON[1].isoformat() + "/")
    assert [p["sku"] for p in cell.context["products"]] == ["P0", "P1"]
    product = client.get("/supply/products/P0/")
    assert product.context["chart"]["demand"][1] == 150
    assert b"chart.umd.min.js" in product.content


def test_ops_lead_acknowledges_assigns_comments_and_resolves_on_the_page(planned):
    from core.models import Comment

    client = client_for(planned["ops"])
    alert = CapacityAlert.objects.filter(type="capacity_overload").first()
    base = f"/supply/alerts/{alert.pk}/"
    assert client.post(base + "acknowledge/").status_code == 302
    planner = user_with_roles("planner", "planner")
    client.post(base + "assign/", {"assignee": planner.pk})
    client.post(base + "comment/", {"text": "Saturday shift from June"})
    client.post(base + "resolve/", {"note": "Shift added"})
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.assignee == planner and alert.acknowledged_by == planned["ops"]
    assert alert.resolved_by == planned["ops"] and alert.resolution == "Shift added"
    assert Comment.objects.filter(object_id=str(alert.pk)).count() == 2
    page = client.get(base)
    assert b"Saturday shift from June" in page.content


@pytest.mark.parametrize("role", ["executive", "sales_manager"])
def test_other_roles_cannot_act_on_alerts_from_the_page(planned, role):
    alert = CapacityAlert.objects.filter(type="capacity_overload").first()
    client = client_for(user_with_roles(f"u-{role}", role))
    assert client.post(f"/supply/alerts/{alert.pk}/acknowledge/").status_code == 403
    assert client.post(f"/supply/alerts/{alert.pk}/resolve/").status_code == 403
    alert.refresh_from_db()
    assert alert.status == "open"


def test_reps_and_managers_are_kept_off_capacity_pages(planned):
    rep = client_for(user_with_roles("rep", "sales_rep"))
    for url in ("/supply/alerts/", "/supply/capacity/", "/inventory/", "/supply/products/P0/"):
        assert rep.get(url).status_code == 403, url
    manager = client_for(user_with_roles("mgr", "sales_manager"))
    assert manager.get("/supply/capacity/").status_code == 403
    assert manager.get("/supply/alerts/").status_code == 200


def test_sales_manager_inbox_lists_only_target_alerts_of_their_territories(db):
    from inventory.models import ProductFamily

    manager, own, other = manager_with_territory()
    family = ProductFamily.objects.create(code="PMP", name="Pumps")
    mine = make_alerts(2, territory=own, family=family, type_="target_at_risk")
    make_alerts(2, territory=other, family=family, type_="target_at_risk", start=10)
    make_alerts(2, type_="capacity_overload", start=20)
    page = client_for(manager).get("/supply/alerts/")
    assert {a.pk for a in page.context["alerts"]} == {a.pk for a in mine}
    assert page.context["can_act"] is False


def test_ops_lead_edits_capacity_from_shifts_and_downtime(planned):
    from sop.models import CapacityCalendar

    client = client_for(planned["ops"])
    url = "/supply/capacity/WC0/" + HORIZON[1].isoformat() + "/"
    client.post(
        url, {"shifts": 2, "hours_per_shift": "8", "working_days": 20, "efficiency": "0.9", "downtime_hours": "8"}
    )
    entry = CapacityCalendar.objects.get(work_center__code="WC0", period_start=HORIZON[1])
    assert str(entry.available_hours) == "280.00"  # 2 × 8 × 20 × 0.9 − 8
    viewer = client_for(user_with_roles("exec", "executive"))
    assert (
        viewer.post(url, {"shifts": 1, "hours_per_shift": "8", "working_days": 1, "efficiency": "1"}).status_code == 403
    )


def test_start_a_plan_run_from_the_page(planned):
    from django.test import TestCase

    from sop.models import PlanRun

    client = client_for(planned["ops"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post("/supply/runs/start/", {"forecast": "0"})
    run = PlanRun.objects.order_by("-id").first()
    assert response.status_code == 302 and response["Location"] == f"/supply/runs/{run.pk}/"
    run.refresh_from_db()
    assert run.status == "completed" and run.triggered_by == planned["ops"]


def _grow(n: int):
    from sop.models import CapacityCalendar, Plant, WorkCenter

    plant = Plant.objects.get(code="PL1")
    start = WorkCenter.objects.count()
    wcs = WorkCenter.objects.bulk_create([WorkCenter(code=f"X{start + i}", name="x", plant=plant) for i in range(n)])
    CapacityCalendar.objects.bulk_create(
        [CapacityCalendar(work_center=w, period_start=p, available_hours=50) for w in wcs for p in HORIZON]
    )
    make_alerts(n * 3, work_center=wcs[0], start=1000 + start * 10)


def test_page_queries_stay_flat_as_alerts_and_work_centers_grow(planned, django_assert_max_num_queries):
    client = client_for(planned["ops"])
    urls = [
        "/supply/alerts/",
        "/supply/capacity/",
        "/inventory/",
        "/supply/products/P0/",
        "/supply/capacity/WC0/" + HORIZON[1].isoformat() + "/",
    ]

    def counts() -> dict[str, int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        out = {}
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            out[url] = len(ctx.captured_queries)
        return out

    _grow(2)
    run_plan()
    small = counts()
    _grow(40)
    run_plan()
    large = counts()
    assert large == small
    for url in urls:
        with django_assert_max_num_queries(small[url]):
            client.get(url)


def test_an_aged_stock_alert_offers_a_one_click_spiff(demo, login):
    from compensation.models import Spiff
    from sop.models import CapacityAlert
    from sop.services import plan_run_create, plan_run_execute
    from tests.conftest import AS_OF

    plan_run_execute(run_id=plan_run_create(as_of=AS_OF, trigger="command").pk)
    alert = CapacityAlert.objects.filter(type="aged_stock").first()
    assert alert is not None, "the demo holds aged stock"
    before = Spiff.objects.count()
    ops = login("ops")
    page = ops.get(f"/supply/alerts/{alert.pk}/")
    assert "Create the suggested SPIFF" in page.content.decode()
    response = ops.post(
        "/compensation/spiffs/from-alert", {"alert_id": alert.pk, "next": f"/supply/alerts/{alert.pk}/"}
    )
    assert response.status_code == 302 and response["Location"] == f"/supply/alerts/{alert.pk}/"
    assert Spiff.objects.count() == before + 1
    assert alert.product.sku in Spiff.objects.order_by("-id").first().skus
    assert "Create the suggested SPIFF" not in login("planner").get(f"/supply/alerts/{alert.pk}/").content.decode()


def test_the_inbox_rows_act_through_their_own_forms_in_the_readers_language(planned):
    """Each open row has an Acknowledge and a Resolve form posting to its own alert with the
    page's token and the way back; a resolved one none; the amount's unit is a word (German)."""
    import re

    client = Client(enforce_csrf_checks=True)
    client.force_login(planned["ops"])
    alert = CapacityAlert.objects.filter(type="capacity_overload").first()
    html = client.get("/supply/alerts/?status=", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    forms = re.findall(r'<form method="post" action="(/supply/alerts/(\d+)/(\w+)/)"[^>]*>(.*?)</form>', html)
    mine = {action for _url, pk, action, _body in forms if pk == str(alert.pk)}
    assert mine == {"acknowledge", "resolve"}
    assert all(
        'name="csrfmiddlewaretoken"' in body and 'name="next" value="/supply/alerts/?status="' in body
        for *_, body in forms
    )
    assert "Bestätigen" in html and ">Lösen<" in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = client.post(
        f"/supply/alerts/{alert.pk}/resolve/", {"csrfmiddlewaretoken": token, "next": "/supply/alerts/"}
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "resolved"
    html = client.get("/supply/alerts/?status=").content.decode()
    assert f"/supply/alerts/{alert.pk}/resolve/" not in html and f"/supply/alerts/{alert.pk}/acknowledge/" not in html
