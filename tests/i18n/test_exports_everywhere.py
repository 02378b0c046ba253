"""Human exports on every list and report (issue 16, item 1): the page's rows as XLSX and as the
viewer's CSV dialect, scoped exactly as the page, headers translated, cells formula-safe."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db


def _client(login, username, language):
    client = login(username)
    client.post("/language/", {"language": language, "next": "/"})
    return client


def _csv(response):
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def _xlsx(response):
    assert response.status_code == 200, response.content[:500]
    return [list(row) for row in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)]


def test_forecast_runs_and_a_runs_series_export(demo, login):
    from forecasting import services
    from forecasting.models import ForecastSeries
    from tests.conftest import AS_OF

    run = services.forecast_run_execute(services.forecast_run_create(as_of=AS_OF, trigger="command"))
    client = _client(login, "planner", "de")
    page = client.get("/forecasts/")
    assert "export=xlsx" in page.content.decode()
    rows = _xlsx(client.get("/forecasts/?export=xlsx"))
    assert rows[0][0] == "Lauf" and [r[0] for r in rows[1:]] == [r.pk for r in page.context["runs"]]
    url = f"/forecasts/runs/{run.pk}/"
    assert "export=csv" in client.get(url).content.decode()
    series = _csv(client.get(url + "?export=csv&status=ok"))
    assert series[0][0] == "Produkt"
    assert len(series) == 1 + ForecastSeries.objects.filter(run=run, status="ok").count()
    smape = next(r[6] for r in series[1:] if r[6])
    assert re.match(r"^-?\d+(,\d+)?$", smape), smape  # decimal comma
    xlsx = _xlsx(client.get(url + "?export=xlsx&status=ok"))
    assert [r[0] for r in xlsx[1:]] == [r[0] for r in series[1:]]
    one = ForecastSeries.objects.filter(run=run, status="ok").order_by("id").first()
    page = client.get(f"{url}series/{one.pk}/")
    chart = _xlsx(client.get(f"{url}series/{one.pk}/?export=xlsx"))
    assert [r[0] for r in chart[1:]] == page.context["chart"]["labels"]
    assert [r[2] for r in chart[1:]] == page.context["chart"]["point"]
    assert login("rep1").get("/forecasts/?export=xlsx").status_code == 403
    assert login("rep1").get(f"{url}series/{one.pk}/?export=csv").status_code == 403


def test_statements_export_only_the_reps_own_pay(demo, login):
    from compensation.models import Statement

    client = _client(login, "rep1", "de")
    rows = _csv(client.get("/compensation/?export=csv"))
    assert rows[0][:2] == ["Periode", "Außendienst"]
    own = Statement.objects.filter(rep__username="rep1").count()
    assert own and len(rows) == 1 + own and {r[1] for r in rows[1:]} == {"rep1"}
    assert re.match(r"^-?\d+,\d{2}$", rows[1][7]), rows[1][7]
    xlsx = _xlsx(client.get("/compensation/?export=xlsx&rep=rep2"))
    assert {r[1] for r in xlsx[1:]} <= {"rep1"}  # another rep's filter never shows their pay
    manager = _xlsx(login("manager").get("/compensation/?export=xlsx"))
    assert len(manager) - 1 == len(login("manager").get("/compensation/").context["statements"])
    disputes = _xlsx(client.get("/compensation/disputes/?export=xlsx"))
    assert disputes[0][8] == "Status" and len(disputes) == 1 + len(
        client.get("/compensation/disputes/").context["disputes"]
    )
    assert login("ops").get("/compensation/?export=csv").status_code == 403


def test_territory_exports_follow_the_page_scope(demo, login):
    from territories.models import QuotaPlan

    client = _client(login, "rep1", "it")
    page = client.get("/territories/attainment/?kind=rep")
    assert "export=xlsx" in page.content.decode()
    rows = _xlsx(client.get("/territories/attainment/?kind=rep&export=xlsx"))
    assert rows[0][:3] == ["Responsabile", "Nome", "Mese"]  # translated header row
    page_cells = [(o["owner"], c["month"]) for o in page.context["rows"] for c in o["cells"] if c["row"] is not None]
    assert page_cells and [(r[0], r[2].date()) for r in rows[1:]] == page_cells
    assert {r[0] for r in rows[1:]} == {"rep1"}  # a rep exports only their own attainment
    semicolon = _csv(client.get("/territories/attainment/?kind=rep&export=csv"))
    assert re.match(r"\d{2}/\d{2}/\d{4}$", semicolon[1][2]) and "," in "".join(semicolon[1][3:5])
    plan = QuotaPlan.objects.get(status="approved")
    manager = _client(login, "manager", "de")
    grid = _xlsx(manager.get(f"/territories/quotas/{plan.code}/?export=xlsx"))
    page = manager.get(f"/territories/quotas/{plan.code}/")
    assert [r[0] for r in grid[1:]] == [o["owner"] for o in page.context["grid"]["owners"]]
    assert grid[0][-1] == "Jahr" and len(grid[0]) == 2 + 12 + 1
    tree = _csv(manager.get("/territories/?export=csv"))
    assert [r[0] for r in tree[1:]] == [t["code"] for t in manager.get("/territories/").context["rows"]]
    moves = _csv(manager.get("/territories/balancing/?export=csv&table=moves"))
    assert moves[0][:2] == ["#", "Kunde"]
    plans = _csv(manager.get("/territories/quotas/?export=csv"))
    assert [r[0] for r in plans[1:]] == [p.code for p in manager.get("/territories/quotas/").context["plans"]]
    rules = _xlsx(manager.get("/territories/rules/?export=xlsx"))
    assert [r[0] for r in rules[1:]] == [rule.code for rule in manager.get("/territories/rules/").context["rules"]]
    assert login("ops").get("/territories/attainment/?export=xlsx").status_code == 403
    assert login("rep1").get("/territories/rules/?export=xlsx").status_code == 403
    assert login("planner").get(f"/territories/quotas/{plan.code}/?export=csv").status_code == 403


def test_crm_exports_are_the_pages_rows(demo, login):
    client = _client(login, "rep1", "de")
    page = client.get("/crm/opportunities/?status=open")
    assert "export=xlsx" in page.content.decode()
    deals = [d["external_id"] for d in page.context["deals"]]
    rows = _xlsx(client.get("/crm/opportunities/?status=open&export=xlsx"))
    assert deals and [r[0] for r in rows[1:]] == deals
    semicolon = _csv(client.get("/crm/opportunities/?status=open&export=csv"))
    assert [r[0] for r in semicolon[1:]] == deals
    assert all(re.match(r"^-?\d+(,\d+)?$", r[4]) for r in semicolon[1:])  # amounts with a decimal comma
    assert re.match(r"\d{2}\.\d{2}\.\d{4}$", semicolon[1][8])
    everyone = _xlsx(login("admin").get("/crm/opportunities/?status=open&export=xlsx"))
    assert len(everyone) > len(rows)  # the rep's file holds only what the rep may see
    notes = _xlsx(client.get("/crm/feedback/?export=xlsx"))
    assert len(notes) - 1 == len(client.get("/crm/feedback/").context["notes"])
    manager = login("manager")
    due = [row for row in manager.get("/crm/training/").context["due"] if row["status"] != "current"]
    assert len(_xlsx(manager.get("/crm/training/?export=xlsx"))) - 1 == len(due)
    assert login("ops").get("/crm/training/?export=csv").status_code == 403


def test_the_payroll_export_for_people_holds_only_the_viewers_reps(demo, login):
    from compensation.models import Statement

    rep = _client(login, "rep1", "it")
    page = rep.get("/compensation/").content.decode()
    assert "table=payroll&amp;export=xlsx" in page
    rows = _xlsx(rep.get("/compensation/?table=payroll&export=xlsx"))
    closed = Statement.objects.filter(rep__username="rep1", status="closed").count()
    assert closed and len(rows) == 1 + closed and {r[0] for r in rows[1:]} == {"rep1"}
    assert rows[0][0] == "Agente" and rows[0][3] == "Periodo"
    semicolon = _csv(rep.get("/compensation/?table=payroll&export=csv"))
    assert re.match(r"\d{2}/\d{2}/\d{4}$", semicolon[1][3]) and re.match(r"^-?\d+,\d{2}$", semicolon[1][8])
    admin = _xlsx(login("admin").get("/compensation/?table=payroll&export=xlsx"))
    assert len(admin) - 1 == Statement.objects.filter(status="closed").count() > closed


def test_a_reps_accounts_and_credited_lines_export_only_their_own(demo, login):
    rep = _client(login, "rep1", "de")
    page = rep.get("/home/accounts/")
    assert "export=xlsx" in page.content.decode()
    rows = _xlsx(rep.get("/home/accounts/?export=xlsx"))
    assert rows[0][0] == "Kunde" and [r[0] for r in rows[1:]] == [a["external_id"] for a in page.context["accounts"]]
    assert len(rows) < len(_xlsx(login("admin").get("/home/accounts/?export=xlsx")))
    month = (demo.as_of.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    query = f"kind=rep&owner=rep1&measure=revenue&period={month:%Y-%m-%d}"
    lines = rep.get(f"/territories/attainment/lines/?{query}")
    exported = _csv(rep.get(f"/territories/attainment/lines/?{query}&export=csv"))
    assert len(exported) > 1 and [r[0] for r in exported[1:]] == [
        line["external_id"] for line in lines.context["lines"]
    ]
    assert rep.get("/territories/attainment/lines/?kind=rep&owner=rep2&export=csv").status_code == 403
    assert login("planner").get("/home/accounts/?export=csv").status_code == 403


def test_comp_assignments_export_a_reps_own_and_spiffs_without_budget_for_reps(demo, login):
    rep = _client(login, "rep1", "de")
    page = rep.get("/compensation/plans/")
    rows = _xlsx(rep.get("/compensation/plans/?export=xlsx"))
    assert rows[0][0] == "Außendienst" and {r[0] for r in rows[1:]} == {"rep1"}
    assert len(rows) - 1 == len(page.context["assignments"])
    spiffs = _xlsx(rep.get("/compensation/plans/?table=spiffs&export=xlsx"))
    assert len(spiffs) - 1 == len(page.context["spiffs"]) and "Budget" not in spiffs[0]
    manager = _xlsx(login("manager").get("/compensation/plans/?table=spiffs&export=xlsx"))
    assert "Budget" in manager[0]
    assert login("planner").get("/compensation/plans/?export=csv").status_code == 403
