"""Who may call what: the one table of expected outcomes for every API operation (from the
OpenAPI schema) and every page (from the URL conf), for every role, anonymous callers and API
tokens holding each single scope (and none). ``test_authz_matrix.py`` requests all of them.

A new endpoint or page fails ``test_every_endpoint_and_page_has_a_row`` until it has a row here.

How to read a row
- ``Op(scope, people)``: a token passes when it holds ``scope`` (or a scope implying it, see
  ``IMPLIES``); a signed-in person when they hold one of the ``people`` roles. Everyone else gets
  403 with the error body, anonymous callers 401.
- ``ok`` is the status an allowed caller gets from the probe (a dict: per role or ``token``,
  with a ``default``). Probes never write: details use keys that do not exist (→ 404), writes
  send a body the endpoint refuses (→ 400) or name a missing record (→ 404).
- ``Page(people)``: a signed-in person of another role gets 403, anonymous visitors are sent to
  the sign-in page. ``args`` picks real records from the demo company for the URL.

This file states the policy independently of ``core/api/permissions.py``: change both, on
purpose, together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# --- who ------------------------------------------------------------------------------------

#: demo user of each role
PEOPLE = {
    "admin": "admin",
    "sales_manager": "manager",
    "sales_rep": "rep1",
    "planner": "planner",
    "ops_lead": "ops",
    "executive": "exec",
}
ROLES = frozenset(PEOPLE)
#: every scope a client can be given; a token is tested with each alone, and with none
TOKEN_SCOPES = (
    "master:read",
    "master:write",
    "sales:read",
    "sales:write",
    "inventory:read",
    "inventory:write",
    "capacity:read",
    "capacity:write",
    "territories:read",
    "territories:write",
    "quotas:read",
    "quotas:write",
    "users:read",
    "users:write",
    "plans:read",
    "plans:run",
    "forecasts:run",
    "alerts:read",
    "alerts:write",
    "comp:read",
    "comp:write",
    "cycles:read",
    "cycles:write",
    "webhooks:write",
    "crm:read",
    "crm:write",
)
IMPLIES = {
    **{
        f"{family}:write": {f"{family}:read"}
        for family in (
            "master",
            "sales",
            "inventory",
            "capacity",
            "territories",
            "quotas",
            "users",
            "alerts",
            "comp",
            "cycles",
            "crm",
        )
    },
    "plans:run": {"plans:read"},
    "forecasts:run": {"plans:read"},
}
#: an operation on the caller's own records (ingest batch receipts): any token that writes
ANY_WRITE = "any:write"

EVERYONE = ROLES
ADMIN = frozenset({"admin"})
PLAN_READERS = frozenset({"admin", "sales_manager", "planner", "ops_lead", "executive"})
QUOTA_READERS = frozenset({"admin", "sales_manager", "sales_rep", "executive"})
PAY = frozenset({"admin", "sales_manager", "sales_rep"})
ADMIN_PLANNER = frozenset({"admin", "planner"})
ADMIN_OPS = frozenset({"admin", "ops_lead"})
ADMIN_MANAGER = frozenset({"admin", "sales_manager"})
ALERT_HANDLERS = frozenset({"admin", "planner", "ops_lead"})
SUPPLY_PAGES = frozenset({"admin", "ops_lead", "planner", "executive"})


@dataclass(frozen=True)
class Op:
    scope: str
    people: frozenset[str]
    ok: int | dict = 200
    params: dict = field(default_factory=dict)  # path parameters (default: MISSING_KEYS)
    query: str = ""
    body: object = None


@dataclass(frozen=True)
class Page:
    people: frozenset[str]
    ok: int | dict = 200
    method: str = "GET"
    args: Callable[[], dict] | None = None
    query: str = ""
    data: dict | None = None
    #: False: only the denials are requested (an allowed call starts real work; its own tests cover it)
    call_allowed: bool = True
    anonymous: int | None = None  # None: sent to the sign-in page (``sign_in``)
    sign_in: str = "/accounts/login/"
    signs_out: bool = False  # requested with a session of its own


#: path parameters of details and actions: records that do not exist
MISSING_KEYS = {
    "id": "999999",
    "external_id": "NO-SUCH",
    "code": "NO-SUCH",
    "sku": "NO-SUCH",
    "username": "no-such-user",
    "period_start": "2099-01-01",
    "action": "approve",
    "month": "2099-01-01",
}
REFUSED_BODY = {"not": "an array"}  # every bulk endpoint answers 400 (a body must be an array or CSV)


def bulk(scope: str, people: frozenset[str]) -> Op:
    return Op(scope, people, ok=400, body=REFUSED_BODY)


def resource(
    scope: str,
    people: frozenset[str],
    key: str,
    *,
    writers: frozenset[str] | None = None,
    ok: int | dict = 200,
    missing: int | dict = 404,
) -> dict[tuple[str, str], Op]:
    """A read resource's list and detail (and its bulk upsert when ``writers`` is given)."""
    name, _, lookup = key.partition("/")
    rows = {
        ("GET", f"/api/v1/{name}/"): Op(scope, people, ok=ok),
        ("GET", f"/api/v1/{name}/{{{lookup}}}/"): Op(scope, people, ok=missing),
    }
    if writers is not None:
        rows[("POST", f"/api/v1/{name}/bulk")] = bulk(scope.replace(":read", ":write"), writers)
    return rows


# --- the API --------------------------------------------------------------------------------

API: dict[tuple[str, str], Op] = {
    # master data
    **resource("master:read", EVERYONE, "product-families/code", writers=ADMIN_PLANNER),
    **resource("master:read", EVERYONE, "products/sku", writers=ADMIN_PLANNER),
    **resource("master:read", EVERYONE, "locations/code", writers=ADMIN_PLANNER),
    **resource("master:read", EVERYONE, "accounts/external_id", writers=ADMIN_PLANNER),
    # sales history
    **resource("sales:read", EVERYONE, "sales-lines/external_id", writers=ADMIN_PLANNER),
    # receipts of one's own bulk batches
    **resource(ANY_WRITE, EVERYONE, "ingest-batches/id"),
    # inventory
    **resource("inventory:read", EVERYONE, "inventory-snapshots/id", writers=ADMIN_OPS),
    **resource("inventory:read", EVERYONE, "inventory-lots/external_id", writers=ADMIN_OPS),
    **resource("inventory:read", EVERYONE, "inventory-policies/id", writers=ADMIN_OPS),
    **resource("inventory:read", EVERYONE, "inventory-positions/id"),
    # production capacity
    **resource("capacity:read", EVERYONE, "plants/code", writers=ADMIN_OPS),
    **resource("capacity:read", EVERYONE, "work-centers/code", writers=ADMIN_OPS),
    **resource("capacity:read", EVERYONE, "capacity/id", writers=ADMIN_OPS),
    **resource("capacity:read", EVERYONE, "routings/id", writers=ADMIN_OPS),
    # territories, people
    **resource("territories:read", EVERYONE, "territories/code", writers=ADMIN),
    **resource("territories:read", EVERYONE, "territory-assignments/id", writers=ADMIN),
    **resource("territories:read", EVERYONE, "assignment-rules/code", writers=ADMIN),
    ("POST", "/api/v1/territory-realignments/"): Op("territories:write", ADMIN, ok=400, body={}),
    **resource("users:read", EVERYONE, "users/username", writers=ADMIN),
    # quotas and attainment: the attainment page's roles
    **resource("quotas:read", QUOTA_READERS, "quota-plans/code"),
    ("POST", "/api/v1/quota-plans/{code}/{action}"): Op("quotas:write", ADMIN_MANAGER, ok=404, body={}),
    **resource("quotas:read", QUOTA_READERS, "quotas/id", writers=ADMIN_MANAGER),
    ("GET", "/api/v1/attainment/"): Op("quotas:read", QUOTA_READERS, query="rep_username=rep1&period_start=2026-05-01"),
    # plans, runs, forecasts
    **resource("plans:read", PLAN_READERS, "plan-runs/id"),
    ("POST", "/api/v1/plan-runs/"): Op(
        "plans:run", frozenset({"admin", "planner", "ops_lead"}), ok=400, body={"as_of": "not-a-date"}
    ),
    **resource("plans:read", PLAN_READERS, "capacity-load/id"),
    **resource("plans:read", PLAN_READERS, "supply-plan/id"),
    **resource("plans:read", PLAN_READERS, "forecast-runs/id"),
    ("POST", "/api/v1/forecast-runs/"): Op("forecasts:run", ADMIN_PLANNER, ok=400, body={"horizon": 0}),
    **resource("plans:read", PLAN_READERS, "forecasts/id"),
    # alerts
    **resource("alerts:read", PLAN_READERS, "alerts/id"),
    ("POST", "/api/v1/alerts/{id}/acknowledge"): Op("alerts:write", ALERT_HANDLERS, ok=404, body={}),
    ("POST", "/api/v1/alerts/{id}/resolve"): Op("alerts:write", ALERT_HANDLERS, ok=404, body={}),
    # what-if scenarios and forecast value added (issue 15): the S&OP cycle's scopes; the
    # service then refuses promotion to all but planners and admins (tests/scenarios)
    **resource("cycles:read", PLAN_READERS, "scenarios/id"),
    ("POST", "/api/v1/scenarios/"): Op("cycles:write", PLAN_READERS, ok=400, body={}),
    ("POST", "/api/v1/scenarios/{id}/run"): Op("cycles:write", PLAN_READERS, ok=404, body={}),
    ("POST", "/api/v1/scenarios/{id}/promote"): Op("cycles:write", PLAN_READERS, ok=404, body={}),
    ("GET", "/api/v1/scenarios/compare"): Op("cycles:read", PLAN_READERS, ok=404, query="ids=999999"),
    ("GET", "/api/v1/forecast-accuracy/"): Op("cycles:read", PLAN_READERS, query="lag=1&level=family"),
    # pay
    **resource("comp:read", PAY, "comp-plans/code"),
    ("POST", "/api/v1/comp-plans/bulk"): bulk("comp:write", ADMIN),
    **resource("comp:read", PAY, "comp-assignments/id", writers=ADMIN),
    **resource("comp:read", PAY, "credits/id"),
    **resource("comp:read", PAY, "comp-periods/period_start"),
    ("POST", "/api/v1/comp-periods/{period_start}/close"): Op(
        "comp:write", ADMIN, ok=400, body={}, params={"period_start": "not-a-date"}
    ),
    **resource("comp:read", PAY, "statements/id"),
    ("GET", "/api/v1/statements/{id}.csv"): Op("comp:read", PAY, ok=404),
    ("GET", "/api/v1/statements/payroll.csv"): Op("comp:read", PAY),
    **resource("comp:read", PAY, "disputes/id"),
    ("POST", "/api/v1/disputes/"): Op("comp:read", PAY, ok=400, body={}),
    ("POST", "/api/v1/disputes/{id}/answer"): Op("comp:read", PAY, ok=404, body={"answer": "x"}),
    ("POST", "/api/v1/disputes/{id}/close"): Op("comp:read", PAY, ok=404, body={}),
    ("POST", "/api/v1/comp-what-if"): Op("comp:read", PAY, ok=404, body={"plan_code": "NO-SUCH"}),
    ("POST", "/api/v1/spiffs/for-product"): Op("comp:write", ADMIN, ok=400, body={}),
    # the S&OP cycle: every plan reader reads and takes part; the services check the stage owner
    **resource("cycles:read", PLAN_READERS, "plan-cycles/month"),
    ("POST", "/api/v1/plan-cycles/"): Op("cycles:write", PLAN_READERS, ok=400, body={}),
    ("POST", "/api/v1/plan-cycles/{month}/advance"): Op("cycles:write", PLAN_READERS, ok=404, body={}),
    ("POST", "/api/v1/plan-cycles/{month}/send-back"): Op("cycles:write", PLAN_READERS, ok=404, body={}),
    ("POST", "/api/v1/plan-cycles/{month}/plan-run"): Op("cycles:write", PLAN_READERS, ok=404, body={}),
    ("GET", "/api/v1/plan-cycles/{month}/demand-plan/"): Op("cycles:read", PLAN_READERS, ok=404),
    ("POST", "/api/v1/plan-cycles/{month}/demand-plan/edits"): Op("cycles:write", PLAN_READERS, ok=404, body={}),
    ("GET", "/api/v1/plan-cycles/{month}/decisions/"): Op("cycles:read", PLAN_READERS, ok=404),
    ("POST", "/api/v1/plan-cycles/{month}/decisions/"): Op("cycles:write", PLAN_READERS, ok=404, body={}),
    ("GET", "/api/v1/plan-cycles/{month}/plan/"): Op("cycles:read", PLAN_READERS, ok=404),
    # webhook subscriptions (the ERP's): admins and tokens holding webhooks:write
    **resource("webhooks:write", ADMIN, "webhooks/id"),
    ("POST", "/api/v1/webhooks/"): Op("webhooks:write", ADMIN, ok=400, body={}),
    ("GET", "/api/v1/webhooks/{id}/deliveries/"): Op("webhooks:write", ADMIN, ok=404),
    # CRM: every role reads (rows narrowed: a rep's own deals, a manager's subtree); the plan's
    # readers ask for pipeline demand and availability
    **resource("crm:read", EVERYONE, "opportunities/external_id", writers=ADMIN_MANAGER),
    **resource("crm:read", EVERYONE, "feedback-notes/external_id", writers=ADMIN_MANAGER),
    **resource("crm:read", EVERYONE, "training-modules/code", writers=ADMIN_MANAGER),
    **resource("crm:read", EVERYONE, "training-completions/id", writers=ADMIN_MANAGER),
    ("GET", "/api/v1/availability/"): Op(
        "crm:read", PLAN_READERS, ok=404, query="product_sku=NO-SUCH&quantity=1&date=2026-07-01"
    ),
    ("GET", "/api/v1/pipeline-demand/"): Op("crm:read", PLAN_READERS, query="level=family"),
}

#: API routes of the URL conf that the schema leaves out: (method, path) → (status for anyone
#: signed in or holding a token, status for anonymous callers)
API_OUTSIDE_SCHEMA: dict[tuple[str, str], tuple[int, int]] = {
    ("GET", "/api/v1/"): (200, 401),  # the router's index of resources (names only)
    ("GET", "/api/schema/"): (200, 401),  # the OpenAPI document itself
}


# --- the pages ------------------------------------------------------------------------------


def _alert() -> dict:
    from sop.models import CapacityAlert

    return {
        "pk": CapacityAlert.objects.exclude(type__in=["target_not_buildable", "target_at_risk"])
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
    }


def _forecast_run() -> dict:
    from forecasting.models import ForecastRun

    return {"run_id": ForecastRun.objects.order_by("-id").values_list("pk", flat=True).first()}


def _series() -> dict:
    from forecasting.models import ForecastSeries

    series = ForecastSeries.objects.filter(status="ok").order_by("id").first()
    return {"run_id": series.run_id, "series_id": series.pk}


def _capacity_cell() -> dict:
    from sop.models import WorkCenterLoad

    load = WorkCenterLoad.objects.select_related("work_center").order_by("id").first()
    return {"code": load.work_center.code, "period": load.period_start.isoformat()}


def _product() -> dict:
    from inventory.models import Product

    return {"sku": Product.objects.order_by("id").values_list("sku", flat=True).first()}


def _plan_run() -> dict:
    from sop.models import PlanRun

    return {"pk": PlanRun.objects.order_by("-id").values_list("pk", flat=True).first()}


def _statement() -> dict:
    """A statement of rep1 (the rep's own; their manager's team)."""
    from compensation.models import Statement

    return {"pk": Statement.objects.filter(rep__username="rep1").order_by("id").values_list("pk", flat=True).first()}


def _quota_plan() -> dict:
    from territories.models import QuotaPlan

    return {"code": QuotaPlan.objects.order_by("id").values_list("code", flat=True).first()}


def _cycle() -> dict:
    from sop.models import PlanCycle

    return {"month": PlanCycle.objects.order_by("-month").values_list("month", flat=True).first().isoformat()}


def _opportunity() -> dict:
    """An open deal of rep1 (their manager's subtree; everyone who plans sees it)."""
    from crm.models import Opportunity

    return {
        "external_id": Opportunity.objects.filter(owner__username="rep1")
        .order_by("id")
        .values_list("external_id", flat=True)
        .first()
    }


NOT_ALLOWED = 405  # POST-only pages answer GET with 405 before any role check

PAGES: dict[str, Page] = {
    "": Page(EVERYONE),
    # role home dashboards: a rep's accounts; a chart's CSV (a rep's own pace to quota)
    "home/accounts/": Page(QUOTA_READERS),
    "home/signed-in/": Page(EVERYONE),  # the floor page of bench/pages.py
    "home/<str:role>/<str:chart>.csv": Page(
        frozenset({"admin", "sales_rep"}), args=lambda: {"role": "sales_rep", "chart": "pace"}
    ),
    "home/<str:role>/<str:chart>.xlsx": Page(
        frozenset({"admin", "sales_rep"}), args=lambda: {"role": "sales_rep", "chart": "pace"}
    ),
    "healthz": Page(EVERYONE, anonymous=200),
    "accounts/login/": Page(EVERYONE, ok=302, anonymous=200),  # signed in: sent home
    "accounts/logout/": Page(EVERYONE, ok=302, method="POST", anonymous=302, signs_out=True),
    # the language switch of the header (the sign-in page has it too): any visitor, back to "next"
    "language/": Page(EVERYONE, ok=302, method="POST", data={"language": "de", "next": "/"}, anonymous=302),
    # forecasting
    "forecasts/": Page(frozenset({"admin", "planner", "executive", "ops_lead"})),
    "forecasts/runs/start/": Page(ADMIN_PLANNER, method="POST", call_allowed=False),
    "forecasts/runs/<int:run_id>/": Page(frozenset({"admin", "planner", "executive", "ops_lead"}), args=_forecast_run),
    "forecasts/runs/<int:run_id>/series/<int:series_id>/": Page(
        frozenset({"admin", "planner", "executive", "ops_lead"}), args=_series
    ),
    # supply
    "supply/alerts/": Page(SUPPLY_PAGES | {"sales_manager"}),
    "supply/alerts/<int:pk>/": Page(
        SUPPLY_PAGES | {"sales_manager"}, args=_alert, ok={"default": 200, "sales_manager": 404}
    ),  # not a target alert
    "supply/alerts/<int:pk>/<str:action>/": Page(
        ALERT_HANDLERS, method="POST", ok=302, args=lambda: {"pk": 999999, "action": "acknowledge"}
    ),
    "supply/capacity/": Page(SUPPLY_PAGES),
    "supply/capacity/<str:code>/<str:period>/": Page(SUPPLY_PAGES, args=_capacity_cell),
    "supply/products/<str:sku>/": Page(SUPPLY_PAGES, args=_product),
    "supply/runs/start/": Page(ALERT_HANDLERS, method="POST", call_allowed=False),
    "supply/runs/<int:pk>/": Page(SUPPLY_PAGES, args=_plan_run),
    # the S&OP cycle
    "supply/cycle/": Page(PLAN_READERS),
    "supply/cycle/new/": Page(ADMIN_PLANNER, method="POST", call_allowed=False),
    "supply/cycle/versions/": Page(PLAN_READERS),
    "supply/cycle/<str:month>/demand/": Page(PLAN_READERS, args=_cycle),
    "supply/cycle/<str:month>/supply/": Page(PLAN_READERS, args=_cycle),
    "supply/cycle/<str:month>/executive/": Page(PLAN_READERS, args=_cycle),
    "supply/cycle/<str:month>/decisions/": Page(PLAN_READERS, args=_cycle),
    "supply/cycle/<str:month>/<str:action>/": Page(
        PLAN_READERS, method="POST", ok=404, args=lambda: {"month": "2099-01-01", "action": "advance"}
    ),
    # inventory
    "inventory/": Page(SUPPLY_PAGES),
    # pay
    "compensation/": Page(PAY),
    "compensation/statements/<int:pk>/": Page(PAY, args=_statement),
    "compensation/statements/<int:pk>.csv": Page(PAY, args=_statement),
    "compensation/payroll.csv": Page(PAY),
    "compensation/disputes/": Page(PAY),
    "compensation/disputes/raise": Page(PAY, method="POST", ok=302, data={"line_id": "0"}),
    "compensation/disputes/<int:pk>/answer": Page(PAY, method="POST", ok=302, args=lambda: {"pk": 999999}),
    "compensation/disputes/<int:pk>/close": Page(PAY, method="POST", ok=302, args=lambda: {"pk": 999999}),
    "compensation/plans/": Page(PAY),
    "compensation/what-if/": Page(ADMIN_MANAGER),
    "compensation/periods/": Page(ADMIN),
    "compensation/spiffs/from-alert": Page(
        frozenset({"admin", "ops_lead", "sales_manager"}), method="POST", ok=302, data={"alert_id": "0"}
    ),
    # data upload
    "data/upload/": Page(frozenset({"admin", "planner", "ops_lead", "sales_manager"})),  # follows write scopes
    # territories and quotas
    "territories/": Page(QUOTA_READERS),
    "territories/rules/": Page(ADMIN_MANAGER),
    "territories/realignment/": Page(ADMIN_MANAGER),
    "territories/balancing/": Page(frozenset({"admin", "sales_manager", "executive"})),
    "territories/quotas/": Page(QUOTA_READERS),  # the list of plan versions
    "territories/quotas/<str:code>/": Page(QUOTA_READERS, args=_quota_plan),
    "territories/attainment/": Page(QUOTA_READERS),
    "territories/attainment/lines/": Page(QUOTA_READERS, query="kind=rep&owner=rep1&period=2026-05-01"),
    # what-if scenarios and forecast value added
    "scenarios/": Page(PLAN_READERS),
    "scenarios/compare/": Page(PLAN_READERS, ok=302),  # no ids: back to the list with a message
    "scenarios/accuracy/": Page(frozenset({"admin", "planner", "executive", "sales_manager"})),
    "scenarios/<int:pk>/": Page(PLAN_READERS, ok=404, args=lambda: {"pk": 999999}),
    "scenarios/<int:pk>/run/": Page(PLAN_READERS, method="POST", ok=404, args=lambda: {"pk": 999999}),
    "scenarios/<int:pk>/promote/": Page(ADMIN_PLANNER, method="POST", ok=404, args=lambda: {"pk": 999999}),
    # CRM
    "crm/opportunities/": Page(EVERYONE),
    "crm/opportunities/<str:external_id>/": Page(EVERYONE, args=_opportunity),
    "crm/feedback/": Page(EVERYONE),
    "crm/training/": Page(frozenset({"admin", "sales_manager", "sales_rep", "executive"})),
    "crm/training/record": Page(ADMIN_MANAGER, method="POST", ok=302, data={}),
    # the admin site (its own staff check sends everyone else to its sign-in page)
    "admin/": Page(EVERYONE, ok={"default": 302, "admin": 200}, sign_in="/admin/login/"),
    # API documentation pages (the schema they read is in API_OUTSIDE_SCHEMA)
    "api/docs/": Page(EVERYONE),
}
