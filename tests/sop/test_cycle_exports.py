"""The cycle's demand review grid and decisions export as XLSX and the viewer's CSV dialect (issue 16)."""

import csv
import datetime as dt
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from sop import cycle_services
from tests.sop.cycle_world import MONTH, cycle_world

M = MONTH.isoformat()


@pytest.fixture
def world(db):
    return cycle_world()


@pytest.fixture
def cycle(world):
    return cycle_services.cycle_create(month=MONTH, user=world["users"]["planner"])


def _rows(response):
    assert response.status_code == 200, response.content[:300]
    return [list(r) for r in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)]


def signed_in(user, language="en") -> Client:
    client = Client()
    client.force_login(user)
    client.post("/language/", {"language": language, "next": "/"})
    return client


def test_the_demand_review_grid_exports_as_shown_in_scope(world, cycle):
    manager = signed_in(world["users"]["mgr_east"], "de")
    page = manager.get(f"/supply/cycle/{M}/demand/")
    assert "export=xlsx" in page.content.decode()
    grid = page.context["grid"]
    book = load_workbook(io.BytesIO(manager.get(f"/supply/cycle/{M}/demand/?export=xlsx").content))
    rows = [list(r) for r in book.active.iter_rows(values_only=True)]
    assert rows[0][:2] == ["Familie", "Kennzahl"]
    assert len(rows[0]) == 2 + len(grid["periods"]) + 1
    families = [r[0] for r in rows[1:]]
    assert "VLV" not in families  # another region's family stays out of the manager's file
    assert len(rows) - 1 == 6 * (len(grid["rows"]) + len(grid["total"]))
    consensus = next(r for r in rows[1:] if r[0] == "PMP" and r[1] == "Konsens")
    first = grid["rows"][[g["key"] for g in grid["rows"]].index("PMP")]
    assert consensus[2:-1] == [c["consensus"] if c else None for c in first["cells"]]
    text = manager.get(f"/supply/cycle/{M}/demand/?export=csv").content.decode("utf-8-sig")
    semicolon = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(semicolon) == len(rows) and semicolon[0][1] == "Kennzahl"
    assert signed_in(world["users"]["rep"]).get(f"/supply/cycle/{M}/demand/?export=xlsx").status_code == 403


def test_decisions_export_with_day_first_dates(world, cycle):
    cycle_services.decision_create(
        cycle=cycle, user=world["users"]["planner"], topic="=Overtime", due_date=dt.date(2027, 2, 20)
    )
    ops = signed_in(world["users"]["ops"], "it")
    text = ops.get(f"/supply/cycle/{M}/decisions/?export=csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[1][0] == "'=Overtime"  # never a formula
    book = load_workbook(io.BytesIO(ops.get(f"/supply/cycle/{M}/decisions/?export=xlsx").content))
    assert book.active.cell(2, 1).value == "=Overtime" and book.active.cell(2, 1).data_type == "s"
    assert rows[1][3] == "20/02/2027"


def test_a_plan_runs_lines_export_in_xlsx_and_german_csv(db):
    from sop.models import PlanLine
    from tests.sop.factories import run_plan, supply_world, user_with_roles

    supply_world(demand={1: 150.5}, products=2, work_centers=1)
    run = run_plan()
    ops = Client()
    ops.force_login(user_with_roles("ops", "ops_lead"))
    ops.post("/language/", {"language": "de", "next": "/"})
    assert "export=xlsx" in ops.get(f"/supply/runs/{run.pk}/").content.decode()
    lines = list(PlanLine.objects.filter(run=run).order_by("product__sku", "period_start"))
    book = load_workbook(io.BytesIO(ops.get(f"/supply/runs/{run.pk}/?export=xlsx").content))
    rows = [list(r) for r in book.active.iter_rows(values_only=True)]
    assert rows[0][0] == "Produkt" and len(rows) == 1 + len(lines)
    assert [r[3] for r in rows[1:]] == [line.demand_qty for line in lines]
    text = ops.get(f"/supply/runs/{run.pk}/?export=csv").content.decode("utf-8-sig")
    semicolon = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert "150,5" in [r[3] for r in semicolon[1:]] and semicolon[1][2].count(".") == 2
    sku = lines[0].product.sku
    plan = ops.get(f"/supply/products/{sku}/").context["plan"]
    product = list(
        csv.reader(
            io.StringIO(ops.get(f"/supply/products/{sku}/?export=csv").content.decode("utf-8-sig")), delimiter=";"
        )
    )
    assert len(product) == 1 + len(plan) and product[0][0] == "Monat"
    from sop.models import WorkCenterLoad

    cell = WorkCenterLoad.objects.filter(run=run, load_hours__gt=0).select_related("work_center").first()
    url = f"/supply/capacity/{cell.work_center.code}/{cell.period_start:%Y-%m-%d}/"
    loading = _rows(ops.get(url + "?export=xlsx"))
    assert len(loading) > 1 and [r[0] for r in loading[1:]] == [p["sku"] for p in ops.get(url).context["products"]]
    rep = Client()
    rep.force_login(user_with_roles("rep", "sales_rep"))
    assert rep.get(f"/supply/runs/{run.pk}/?export=csv").status_code == 403
    assert rep.get(url + "?export=csv").status_code == 403
    assert rep.get(f"/supply/products/{sku}/?export=xlsx").status_code == 403


def test_the_supply_review_exports_its_family_months_and_gaps(world, cycle):
    ops = signed_in(world["users"]["ops"], "de")
    page = ops.get(f"/supply/cycle/{M}/supply/")
    assert "export=xlsx" in page.content.decode()
    review = page.context["review"]
    book = load_workbook(io.BytesIO(ops.get(f"/supply/cycle/{M}/supply/?export=xlsx").content))
    rows = [list(r) for r in book.active.iter_rows(values_only=True)]
    cells = [(row["family_code"], c["period_start"]) for row in review["rows"] for c in row["cells"] if c]
    assert cells and [(r[0], r[1].date()) for r in rows[1:]] == cells
    assert rows[0][:3] == ["Familie", "Monat", "Konsens"]
    gaps = ops.get(f"/supply/cycle/{M}/supply/?table=gaps&export=csv").content.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(gaps), delimiter=";"))) == 1 + len(review["gaps"])
    assert signed_in(world["users"]["rep"]).get(f"/supply/cycle/{M}/supply/?export=csv").status_code == 403


def test_the_executive_review_exports_its_revenue_by_month(world, cycle):
    executive = signed_in(world["users"]["exec"], "it")
    page = executive.get(f"/supply/cycle/{M}/executive/")
    assert "export=xlsx" in page.content.decode()
    months = page.context["review"]["months"]
    book = load_workbook(io.BytesIO(executive.get(f"/supply/cycle/{M}/executive/?export=xlsx").content))
    rows = [list(r) for r in book.active.iter_rows(values_only=True)]
    assert [r[0].date() for r in rows[1:]] == [m["period_start"] for m in months]
    assert [r[1] for r in rows[1:]] == [float(m["revenue"]) for m in months]
    text = executive.get(f"/supply/cycle/{M}/executive/?export=csv").content.decode("utf-8-sig")
    semicolon = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert semicolon[1][0] == months[0]["period_start"].strftime("%d/%m/%Y")
    assert signed_in(world["users"]["rep"]).get(f"/supply/cycle/{M}/executive/?export=xlsx").status_code == 403
