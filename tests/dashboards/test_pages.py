"""Each role's home: its charts with tables and CSV exports, role scoping and denials, and
query counts that stay flat as the data grows."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import AS_OF

HOMES = {
    "manager": ("sales_manager", {"territory_attainment", "rep_attainment", "forecast"}),
    "ops": ("ops_lead", {"severity", "aged", "bottlenecks"}),
    "planner": ("planner", {"accuracy"}),
    "rep1": ("sales_rep", {"pace"}),
    "exec": ("executive", {"severity"}),
}


@pytest.fixture
def planned(demo, monkeypatch):
    """The tiny demo with a plan run, seen on the demo's as-of date."""
    from sop.services import plan_run_create, plan_run_execute

    monkeypatch.setattr("dashboards.views.today", lambda: AS_OF)
    plan_run_execute(run_id=plan_run_create(as_of=AS_OF, trigger="command").pk)
    return demo


@pytest.mark.parametrize("username", list(HOMES))
def test_each_role_starts_on_its_own_dashboard_with_charts_tables_and_exports(planned, login, username):
    role, chart_ids = HOMES[username]
    page = login(username).get("/", secure=True)
    assert page.status_code == 200
    assert page.context["dashboard"].role == role
    assert chart_ids <= set(page.context["chart"])
    html = page.content.decode()
    for chart in page.context["charts"]:
        assert f'data-chart="chart-{chart["id"]}"' in html and f'id="chart-{chart["id"]}"' in html
        assert chart["text"] and chart["text"] in html  # the text alternative
        assert len(chart["table"]["rows"]) == len(chart["data"]["labels"])
        export = login(username).get(f"/home/{role}/{chart['id']}.csv", secure=True)
        assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
        lines = export.content.decode("utf-8-sig").splitlines()  # English: the comma dialect
        assert lines[0].split(",")[0] == str(chart["table"]["headers"][0])
        assert len(lines) == 1 + len(chart["table"]["rows"])


def test_the_executive_home_is_the_sop_summary_not_the_planners(planned, login):
    executive = login("exec").get("/", secure=True)
    planner = login("planner").get("/", secure=True)
    assert executive.templates[0].name == "dashboards/executive.html"
    assert planner.templates[0].name == "dashboards/planner.html"


def test_a_manager_sees_only_their_territories_and_reps(planned, login):
    from territories.models import Territory

    manager = get_user_model().objects.get(username="manager")
    page = login("manager").get("/", secure=True)
    mine = set(Territory.objects.for_user(manager).values_list("name", flat=True))
    assert set(page.context["chart"]["territory_attainment"]["data"]["labels"]) <= mine
    others = set(Territory.objects.exclude(name__in=mine).values_list("name", flat=True))
    assert others and not others & set(page.context["chart"]["territory_attainment"]["data"]["labels"])
    from territories.selectors import visible_reps

    reps = {f"{u.first_name} {u.last_name}".strip() for u in visible_reps(user=manager)}
    assert set(page.context["chart"]["rep_attainment"]["data"]["labels"]) <= reps
    assert all(
        a["territory__code"] is None
        or a["territory__code"] in set(Territory.objects.for_user(manager).values_list("code", flat=True))
        for a in page.context["target_alerts"]
    )


def test_a_rep_sees_only_their_own_pay_accounts_and_quota(planned, login):
    from compensation.models import Statement
    from territories.models import Account

    rep = get_user_model().objects.get(username="rep1")
    page = login("rep1").get("/", secure=True)
    assert Statement.objects.get(pk=page.context["statement"]["id"]).rep == rep
    own = set(Account.objects.for_user(rep).values_list("id", flat=True))
    accounts = login("rep1").get("/home/accounts/", secure=True)
    shown = {a["id"] for a in accounts.context["accounts"]}
    assert shown == own and len(own) < Account.objects.count()
    assert "no-store" in page["Cache-Control"]


@pytest.mark.parametrize(
    ("username", "role"),
    [
        ("rep1", "sales_manager"),
        ("rep1", "executive"),
        ("manager", "sales_rep"),
        ("ops", "sales_rep"),
        ("planner", "ops_lead"),
        ("exec", "sales_rep"),
    ],
)
def test_nobody_opens_another_roles_dashboard_or_its_exports(planned, login, username, role):
    client = login(username)
    assert client.get(f"/?view={role}", secure=True).status_code == 403
    chart = {"sales_manager": "rep_attainment", "executive": "severity", "sales_rep": "pace", "ops_lead": "severity"}[
        role
    ]
    assert client.get(f"/home/{role}/{chart}.csv", secure=True).status_code == 403
    assert client.get(f"/home/{role}/{chart}.xlsx", secure=True).status_code == 403


def test_a_charts_table_exports_as_xlsx_and_german_csv(planned, login):
    import csv
    import io
    import re

    from openpyxl import load_workbook

    client = login("manager")
    client.post("/language/", {"language": "de", "next": "/"})
    page = client.get("/", secure=True)
    table = page.context["chart"]["forecast"]["table"]
    assert "/home/sales_manager/forecast.xlsx" in page.content.decode()
    book = load_workbook(io.BytesIO(client.get("/home/sales_manager/forecast.xlsx", secure=True).content))
    rows = [list(r) for r in book.active.iter_rows(values_only=True)]
    assert rows[0] == [str(h) for h in table["headers"]]
    assert [r[0] for r in rows[1:]] == [str(r[0]) for r in table["rows"]]
    assert [r[1:] for r in rows[1:]] == [[None if v is None else float(v) for v in r[1:]] for r in table["rows"]]
    text = client.get("/home/sales_manager/forecast.csv", secure=True).content.decode("utf-8-sig")
    semicolon = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(semicolon) == 1 + len(table["rows"]) and len(semicolon[0]) == len(table["headers"])
    numbers = [v for r in semicolon[1:] for v in r[1:] if v]
    assert numbers and all(re.match(r"^-?\d+(,\d+)?$", v) for v in numbers), numbers[:5]


def test_unknown_dashboards_and_charts_are_not_found(planned, login):
    assert login("rep1").get("/?view=nope", secure=True).status_code == 404
    assert login("rep1").get("/home/sales_rep/nope.csv", secure=True).status_code == 404


def test_a_rep_cannot_read_another_reps_pace_even_as_admin_view(planned, login):
    """The rep dashboard of an admin is the admin's own (no quota), never a rep's."""
    page = login("admin").get("/?view=sales_rep", secure=True)
    assert page.status_code == 200
    assert page.context["statement"] is None
    assert page.context["chart"]["pace"]["facts"]["ytd_pct"] is None


def _grow():
    """More of everything the homes read: sales lines, accounts, alerts."""
    from inventory.models import Product
    from sales.models import SalesOrderLine
    from sop.models import CapacityAlert
    from territories.models import Account, AccountAssignment, Territory

    rep = get_user_model().objects.get(username="rep1")
    territory = Territory.objects.for_user(rep).filter(code__contains="-T").first()
    product = Product.objects.order_by("id").first()
    for i in range(30):
        account = Account.objects.create(external_id=f"GROW{i}", name=f"Grown account {i}")
        AccountAssignment.objects.create(account=account, territory=territory, valid_from=dt.date(2020, 1, 1))
        for j in range(3):
            SalesOrderLine.objects.create(
                external_id=f"GROW{i}-{j}",
                order_date=AS_OF - dt.timedelta(days=j * 20),
                account=account,
                product=product,
                quantity=Decimal(1),
                net_amount=Decimal(100),
                status="invoiced",
                territory=territory,
            )
        CapacityAlert.objects.create(
            fingerprint=f"grow-{i}",
            type="aged_stock",
            severity="warning",
            product=product,
            amount=Decimal(1),
            unit="units",
            message="grown",
        )


@pytest.mark.parametrize("username", list(HOMES) + ["admin"])
def test_home_query_count_does_not_grow_with_data(planned, login, username, django_assert_max_num_queries):
    from core import memo

    client = login(username)
    client.get("/", secure=True)  # warm what Django itself keeps per process
    memo.clear()  # each measured view builds its figures (none kept from the view before)
    with CaptureQueriesContext(connection) as before:
        assert client.get("/", secure=True).status_code == 200
    memo.clear()
    with CaptureQueriesContext(connection) as accounts_before:
        assert client.get("/home/accounts/", secure=True).status_code in (200, 403)
    _grow()
    memo.clear()
    with django_assert_max_num_queries(len(before)):
        assert client.get("/", secure=True).status_code == 200
    memo.clear()
    with django_assert_max_num_queries(len(accounts_before)):
        assert client.get("/home/accounts/", secure=True).status_code in (200, 403)


def test_areas_link_to_each_other(planned, login):
    """An alert links to its capacity cell, product or territory and quota plans; a capacity
    cell to its alerts; a forecast series to its product's supply page."""
    from forecasting.models import ForecastSeries
    from sop.models import CapacityAlert

    overload = CapacityAlert.objects.filter(work_center__isnull=False, period_start__isnull=False).first()
    html = login("ops").get(f"/supply/alerts/{overload.pk}/", secure=True).content.decode()
    cell = f"/supply/capacity/{overload.work_center.code}/{overload.period_start:%Y-%m-%d}/"
    assert f'href="{cell}"' in html
    cell_html = login("ops").get(cell, secure=True).content.decode()
    assert (
        f"/supply/alerts/?work_center={overload.work_center.code}&amp;period={overload.period_start:%Y-%m-%d}"
        in cell_html
    )
    manager = get_user_model().objects.get(username="manager")
    target = CapacityAlert.objects.for_user(manager).filter(territory__isnull=False).first()
    manager_html = login("manager").get(f"/supply/alerts/{target.pk}/", secure=True).content.decode()
    assert 'href="/territories/quotas/"' in manager_html and target.territory.name in manager_html
    series = ForecastSeries.objects.first()
    if series is not None:
        page = login("planner").get(f"/forecasts/runs/{series.run_id}/series/{series.pk}/", secure=True)
        assert f'href="/supply/products/{series.product.sku}/"' in page.content.decode()


def test_alert_comment_box_and_quota_owner_have_labels(planned, login):
    from sop.models import CapacityAlert
    from territories.models import QuotaPlan

    alert = CapacityAlert.objects.filter(work_center__isnull=False).first()
    html = login("ops").get(f"/supply/alerts/{alert.pk}/", secure=True).content.decode()
    assert '<label for="alert-comment">' in html and 'id="alert-comment"' in html
    plan = QuotaPlan.objects.filter(status="draft").order_by("id").first() or QuotaPlan.objects.create(
        code="FY2031", name="Draft", fiscal_year=2031
    )
    html = login("admin").get(f"/territories/quotas/{plan.code}/", secure=True).content.decode()
    assert 'Owner (username or territory code)<input name="owner"' in html
    assert 'class="skip-link" href="#main"' in html and 'id="main"' in html


def test_stock_by_age_is_read_again_once_stock_or_costs_change(planned, login):
    """The homes keep the whole-table stock read per process while its tables are unchanged;
    a changed cost or a new snapshot shows at once."""
    from inventory.models import InventorySnapshot, Product

    client = login("ops")
    before = client.get("/", secure=True).context["chart"]["aged"]["facts"]["total"]
    assert before and client.get("/", secure=True).context["chart"]["aged"]["facts"]["total"] == before
    sku = (
        InventorySnapshot.objects.filter(on_hand__gt=0)
        .order_by("-on_hand")
        .values_list("product__sku", flat=True)
        .first()
    )
    product = Product.objects.get(sku=sku)
    product.unit_cost = product.unit_cost * 3 + 1
    product.save()
    after = client.get("/", secure=True).context["chart"]["aged"]["facts"]["total"]
    assert after > before


def test_a_rep_sees_the_answers_to_their_own_disputes_only(planned, login):
    from compensation.models import Dispute, StatementLine

    rep = get_user_model().objects.get(username="rep1")
    other = get_user_model().objects.get(username="rep2")
    mine = StatementLine.objects.filter(statement__rep=rep).first()
    theirs = StatementLine.objects.filter(statement__rep=other).first()
    Dispute.objects.create(
        line=mine, raised_by=rep, reason="Missing order", status="answered", answer="Credited next period"
    )
    Dispute.objects.create(line=theirs, raised_by=other, reason="Someone else's", status="open")
    page = login("rep1").get("/", secure=True)
    assert [d["reason"] for d in page.context["disputes"]] == ["Missing order"]
    html = page.content.decode()
    assert "Credited next period" in html and "Someone else" not in html


def test_a_reps_home_shows_amounts_in_the_organisations_currency_in_their_format(planned, login):
    from django.utils import translation

    from core.templatetags.sop_tags import format_money

    page = login("rep1").get("/", secure=True, HTTP_ACCEPT_LANGUAGE="de")
    statement = page.context["statement"]
    html = page.content.decode()
    with translation.override("de"):
        credited, total = format_money(statement["credited"], 0), format_money(statement["total"])
    assert credited.endswith(("\u00a0€", "\u00a0$")) and credited in html and total in html
    accounts = login("rep1").get("/home/accounts/", secure=True, HTTP_ACCEPT_LANGUAGE="de")
    first = accounts.context["accounts"][0]
    with translation.override("de"):
        assert format_money(first["revenue_l12m"], 0) in accounts.content.decode()
