"""Defects of issue 16 found walking the supply pages in Chromium (each test failed before its fix)."""

from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.test import Client

from tests.sop.factories import HORIZON, run_plan, supply_world, user_with_roles

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inputs: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "input":
            self.inputs.append(dict(attrs))


def constraint_violations(html: str) -> list[str]:
    """What Chromium's form validation would refuse: value outside min/max or off the step grid."""
    parser = _Inputs()
    parser.feed(html)
    problems = []
    for field in parser.inputs:
        if field.get("type") != "number" or not field.get("value"):
            continue
        name, raw = field.get("name"), field["value"]
        try:
            value = Decimal(raw)
        except ArithmeticError:
            problems.append(f"{name}: {raw!r} is not a number")
            continue
        if "min" in field and value < Decimal(field["min"]):
            problems.append(f"{name}: {raw} < min {field['min']}")
        if "max" in field and value > Decimal(field["max"]):
            problems.append(f"{name}: {raw} > max {field['max']}")
        step = field.get("step", "1")
        if step != "any":
            base = Decimal(field.get("min", "0"))
            if (value - base) % Decimal(step) != 0:
                problems.append(f"{name}: {raw} off step {step}")
    return problems


def test_capacity_form_prefilled_from_the_calendar_can_be_submitted():
    from sop.models import CapacityCalendar

    supply_world(demand={1: 150.0}, products=1, work_centers=1)
    run_plan()
    CapacityCalendar.objects.filter(work_center__code="WC0", period_start=HORIZON[1]).update(
        shifts=89,
        hours_per_shift=Decimal("8"),
        working_days=21,
        efficiency=Decimal("0.941"),
        downtime_hours=Decimal("0"),
    )
    client = client_for(user_with_roles("ops", "ops_lead"))
    url = "/supply/capacity/WC0/" + HORIZON[1].isoformat() + "/"
    page = client.get(url)
    html = page.content.decode()
    assert constraint_violations(html) == []
    assert 'value="89"' in html and 'value="0.941"' in html
    # Units are labelled.
    for unit in ("h", "days"):
        assert f"({unit})" in html
    response = client.post(
        url, {"shifts": 89, "hours_per_shift": "8", "working_days": 21, "efficiency": "0.941", "downtime_hours": "0"}
    )
    assert response.status_code == 302
    entry = CapacityCalendar.objects.get(work_center__code="WC0", period_start=HORIZON[1])
    assert entry.available_hours == Decimal("14069.83")  # 89 × 8 × 21 × 0.941


def test_overload_without_a_suggestion_stores_no_nan():
    """pandas 3 stores a rule's ``None`` suggestion as NaN in a string column: it showed as "nan"."""
    import pandas as pd

    from sop import services
    from sop.alert_rules import ALERT_COLUMNS
    from sop.models import CapacityAlert

    supply_world(demand={1: 150.0}, products=1, work_centers=1)
    run = run_plan()
    base = {
        "type": "capacity_overload",
        "severity": "critical",
        "work_center_code": "WC0",
        "product_sku": None,
        "family_code": None,
        "territory_code": None,
        "amount": 10.0,
        "unit": "hours",
        "value": float("nan"),
        "message_key": "capacity_overload.prebuilt",
        "message_params": {"prebuilt_h": 10},
    }
    candidates = pd.DataFrame(
        [
            {
                **base,
                "fingerprint": f"capacity_overload:WC0:{HORIZON[1]}",
                "period_start": HORIZON[1],
                "suggestion_key": "capacity_overload.shortfall",
                "suggestion_params": {"shortfall_h": 10},
            },
            {
                **base,
                "fingerprint": f"capacity_overload:WC0:{HORIZON[2]}",
                "period_start": HORIZON[2],
                "suggestion_key": None,
                "suggestion_params": None,
            },
        ]
    )[ALERT_COLUMNS]
    services.alerts_sync(run=run, candidates=candidates)
    alert = CapacityAlert.objects.active().get(fingerprint=f"capacity_overload:WC0:{HORIZON[2]}")
    assert alert.suggestion == ""
    page = client_for(user_with_roles("ops", "ops_lead")).get(f"/supply/alerts/{alert.pk}/")
    assert b"nan" not in page.content


def test_a_resolved_overload_that_comes_back_reopens_the_same_alert_with_its_comments():
    from django.contrib.contenttypes.models import ContentType

    from core.models import Comment
    from sop import services
    from sop.models import CapacityAlert, CapacityCalendar

    world = supply_world(demand={1: 150.0})
    run_plan()
    ops = user_with_roles("ops", "ops_lead")
    overload = CapacityAlert.objects.active().get(type="capacity_overload")
    services.alert_comment(alert_id=overload.pk, user=ops, text="Asked the plant for a Saturday shift.")
    services.alert_resolve(alert_id=overload.pk, user=ops, note="Saturday shift added")
    cell = CapacityCalendar.objects.filter(work_center=world["work_centers"][0], period_start=HORIZON[1])
    cell.update(available_hours=200)
    run_plan()
    cell.update(available_hours=100)  # the Saturday shift fell through
    again = run_plan()
    overloads = CapacityAlert.objects.filter(type="capacity_overload", fingerprint=overload.fingerprint)
    assert overloads.count() == 1
    overload.refresh_from_db()
    assert overload.status == CapacityAlert.Status.OPEN and overload.run == again
    assert overload.resolved_at is None and overload.resolution == ""
    texts = list(
        Comment.objects.filter(
            content_type=ContentType.objects.get_for_model(CapacityAlert), object_id=str(overload.pk)
        ).values_list("text", flat=True)
    )
    assert texts[0] == "Asked the plant for a Saturday shift."
    assert f"Reopened by plan run {again.pk}" in texts[-1] and "Saturday shift added" in texts[-1]
    assert again.alerts_raised >= 1


def test_the_alerts_list_pages_through_all_alerts_and_exports_the_filtered_ones():
    import csv
    import io

    from openpyxl import load_workbook

    from tests.sop.factories import make_alerts

    world = supply_world(products=1, work_centers=1)
    make_alerts(214, work_center=world["work_centers"][0])
    client = client_for(user_with_roles("ops", "ops_lead"))
    first = client.get("/supply/alerts/")
    assert len(first.context["alerts"]) == 100 and first.context["page_obj"].paginator.count == 214
    last = client.get("/supply/alerts/?page=3")
    assert len(last.context["alerts"]) == 14
    filtered = client.get("/supply/alerts/?severity=critical&page=2")
    assert b"severity=critical&amp;page=1" in filtered.content  # page links keep the filter
    assert b"severity=critical&amp;export=csv" in filtered.content  # so do the export links
    export = client.get("/supply/alerts/?severity=critical&export=csv")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + 107 and {row[0] for row in rows[1:]} == {"Critical"}
    book = load_workbook(io.BytesIO(client.get("/supply/alerts/?severity=warning&export=xlsx").content))
    assert book.active.max_row == 1 + 107


def test_the_capacity_heat_map_exports_as_xlsx_and_csv():
    import io

    from openpyxl import load_workbook

    supply_world(demand={1: 150.0}, products=1, work_centers=2)
    run_plan()
    client = client_for(user_with_roles("ops", "ops_lead"))
    assert b"export=xlsx" in client.get("/supply/capacity/").content
    book = load_workbook(io.BytesIO(client.get("/supply/capacity/?export=xlsx").content))
    assert book.active.max_row == 1 + 2 * len(HORIZON)
    assert client.get("/supply/capacity/?export=csv").content.decode("utf-8-sig").startswith("Work center,")
