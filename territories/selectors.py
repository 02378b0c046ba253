"""Reads of the territories app: ORM rows → QuerySets and DataFrames for pages, the API and
the pure calculations (``territories.calculations``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
from django.contrib.auth import get_user_model
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Sum, Value, When
from django.utils import timezone

from core.calendar import add_months
from core.roles import ADMIN, ERP, EXECUTIVE, SALES_MANAGER, SALES_REP, user_roles
from core.services import organisation_settings_get
from inventory.models import ProductFamily
from territories import calculations as calc
from territories.models import (
    ALL_SALES_ROWS,
    Account,
    AccountAssignment,
    AssignmentRule,
    Quota,
    QuotaPlan,
    QuotaTarget,
    Territory,
    TerritoryAssignment,
    managed_subtree_q,
    subtree_rep_ids_q,
    valid_on,
)
from territories.money import ZERO, decimal_column, quantize, to_decimal
from territories.sources import READERS

CENT = Decimal("0.01")

FAMILY_QUOTA_COLUMNS = ["family_code", "territory_code", "period_start", "quota_qty"]
_STATUS_RANK = Case(
    When(status=QuotaPlan.Status.APPROVED, then=Value(0)),
    When(status=QuotaPlan.Status.SUBMITTED, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
_STATUS_RANK_OF_PLAN = Case(
    When(plan__status=QuotaPlan.Status.APPROVED, then=Value(0)),
    When(plan__status=QuotaPlan.Status.SUBMITTED, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def quota_plan_current(*, period_starts: list[dt.date] | None = None) -> QuotaPlan | None:
    """The plan that counts: the latest approved one, else the latest submitted, else draft.

    With ``period_starts`` only plans holding quotas in those periods are considered.
    """
    plans = QuotaPlan.objects.all()
    if period_starts is not None:  # a semi-join per plan, not a DISTINCT over every quota row
        plans = plans.filter(Exists(Quota.objects.filter(plan=OuterRef("pk"), period_start__in=period_starts)))
    return plans.annotate(rank=_STATUS_RANK).order_by("rank", "-fiscal_year", "-id").first()


def quota_plan_standing(plans) -> dict[int, str]:
    """``in_force`` for the newest approved version of each fiscal year, ``superseded`` for the
    older approved ones (a later approval replaced them)."""
    out: dict[int, str] = {}
    newest: dict[int, int] = {}
    for plan in plans:
        if plan.status == QuotaPlan.Status.APPROVED:
            newest[plan.fiscal_year] = max(newest.get(plan.fiscal_year, 0), plan.pk)
    for plan in plans:
        if plan.status == QuotaPlan.Status.APPROVED:
            out[plan.pk] = "in_force" if newest[plan.fiscal_year] == plan.pk else "superseded"
    return out


def quota_plan_in_reach(*, user, plan: QuotaPlan) -> bool:
    """Whether ``user`` holds the whole scope of ``plan``, as approving or returning it needs.

    Administrators and executives hold every plan (so do ERP clients, whom the ``quotas:write`` scope already
    gates). A sales manager holds a plan whose every quota and node target lies in the subtrees
    they manage. A plan with a company revenue target, or still empty, is the company's: it
    needs a manager whose subtrees cover every top-level territory.
    """
    if user_roles(user) & {ADMIN, ERP, EXECUTIVE}:
        return True
    mine = managed_subtree_q(user)
    if not Territory.objects.filter(mine).exists():
        return False
    if Territory.objects.filter(parent__isnull=True).exclude(mine).exists():
        # Not a manager of the whole company: the plan must be regional and inside the subtrees.
        quotas = Quota.objects.filter(plan=plan)
        if plan.revenue_target is not None or not quotas.exists():
            return False
        inside = quotas.scoped_to(user, frozenset({SALES_MANAGER}))
        if quotas.exclude(pk__in=inside.values("pk")).exists():
            return False
        if QuotaTarget.objects.filter(plan=plan).exclude(managed_subtree_q(user, "territory__")).exists():
            return False
    return True


def family_unit_quotas(*, period_starts: list[dt.date]) -> pd.DataFrame:
    """Units quotas per product family × territory × period of the plan that counts.

    For each period the plan is the latest approved quota plan holding units-by-family quotas
    in it (else the latest submitted, else draft), so a horizon spanning two fiscal years
    reads each year's plan. Territory-owned quotas only (family unit quotas are set on
    territories). Returns ``family_code``, ``territory_code``, ``period_start``
    (``datetime.date``), ``quota_qty`` (float, summed); an empty frame with those columns when
    there is none. Not scoped: the supply reconciliation reads it whole.
    """
    rows = (
        Quota.objects.units_by_family()
        .filter(period_start__in=period_starts, territory__isnull=False)
        .annotate(rank=_STATUS_RANK_OF_PLAN)
        .values("plan_id", "rank", "plan__fiscal_year", "family__code", "territory__code", "period_start")
        .annotate(quota_qty=Sum("amount"))
        .values_list(
            "plan_id", "rank", "plan__fiscal_year", "family__code", "territory__code", "period_start", "quota_qty"
        )
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["plan_id", "rank", "fiscal_year", *FAMILY_QUOTA_COLUMNS])
    if frame.empty:
        return pd.DataFrame(columns=FAMILY_QUOTA_COLUMNS)
    best = (
        frame[["period_start", "plan_id", "rank", "fiscal_year"]]
        .drop_duplicates()
        .sort_values(["period_start", "rank", "fiscal_year", "plan_id"], ascending=[True, True, False, False])
        .drop_duplicates("period_start")
    )
    frame = frame.merge(best[["period_start", "plan_id"]], on=["period_start", "plan_id"])
    frame = frame.sort_values(["family_code", "territory_code", "period_start"]).reset_index(drop=True)
    frame["quota_qty"] = frame["quota_qty"].astype(float)
    return frame[FAMILY_QUOTA_COLUMNS]


# ---------------------------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------------------------


# Fiscal years whose twelve months are all dates (a year runs into the next calendar year).
MIN_FISCAL_YEAR, MAX_FISCAL_YEAR = 1900, 9998


def fiscal_year_months(*, fiscal_year: int) -> list[dt.date]:
    """The 12 first-of-month dates of a fiscal year (it starts in the organisation's month)."""
    start = dt.date(fiscal_year, organisation_settings_get().fiscal_year_start_month, 1)
    return [add_months(start, i) for i in range(12)]


def fiscal_year_of(day: dt.date) -> int:
    start_month = organisation_settings_get().fiscal_year_start_month
    return day.year if day.month >= start_month else day.year - 1


# ---------------------------------------------------------------------------------------------
# Visibility helpers
# ---------------------------------------------------------------------------------------------


def sees_all_people(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user_roles(user) & ALL_SALES_ROWS))


def visible_reps(*, user, day: dt.date | None = None):
    """Users the viewer may see as reps: everyone for all-rows roles, a manager's subtree, a
    rep themself."""
    day = day or timezone.localdate()
    User = get_user_model()
    reps = User.objects.filter(territory_assignments__isnull=False).distinct()
    if not (user.is_authenticated and user.is_active):
        return reps.none()
    roles = user_roles(user)
    if user.is_superuser or roles & ALL_SALES_ROWS:
        return reps
    q = Q(pk__in=[])
    if SALES_MANAGER in roles:
        q |= subtree_rep_ids_q(user, day)
    if SALES_REP in roles:
        q |= Q(pk=user.pk)
    return reps.filter(q)


# ---------------------------------------------------------------------------------------------
# Frames for the calculations
# ---------------------------------------------------------------------------------------------


def tree_frame(*, territories=None) -> pd.DataFrame:
    """``id, code, name, level, path, parent_code, manager_username, manager_name``."""
    qs = territories if territories is not None else Territory.objects.all()
    rows = qs.order_by("path").values_list(
        "id",
        "code",
        "name",
        "level",
        "path",
        "parent__code",
        "manager__username",
        "manager__first_name",
        "manager__last_name",
    )
    frame = pd.DataFrame.from_records(
        list(rows),
        columns=[
            "id",
            "code",
            "name",
            "level",
            "path",
            "parent_code",
            "manager_username",
            "manager_first",
            "manager_last",
        ],
    )
    frame["manager_name"] = (frame["manager_first"].fillna("") + " " + frame["manager_last"].fillna("")).str.strip()
    frame["manager_username"] = frame["manager_username"].fillna("")
    frame["parent_code"] = frame["parent_code"].astype(object).where(frame["parent_code"].notna(), None)
    return frame.drop(columns=["manager_first", "manager_last"])


def assignments_frame(*, territory_ids=None) -> pd.DataFrame:
    """Rep assignments: ``rep_id, rep_username, rep_name, territory_code, role, share, valid_from,
    valid_to``."""
    qs = TerritoryAssignment.objects.all()
    if territory_ids is not None:
        qs = qs.filter(territory_id__in=territory_ids)
    rows = qs.values_list(
        "rep_id",
        "rep__username",
        "rep__first_name",
        "rep__last_name",
        "territory__code",
        "role",
        "share",
        "valid_from",
        "valid_to",
    )
    frame = pd.DataFrame.from_records(
        list(rows),
        columns=[
            "rep_id",
            "rep_username",
            "first",
            "last",
            "territory_code",
            "role",
            "share",
            "valid_from",
            "valid_to",
        ],
    )
    frame["rep_name"] = (frame["first"] + " " + frame["last"]).str.strip()
    return frame.drop(columns=["first", "last"])


ACCOUNT_FIELDS = (
    "external_id",
    "name",
    "country",
    "region",
    "state",
    "postal_code",
    "industry",
    "potential",
    "exclude_from_realignment",
)


def accounts_frame(*, as_of: dt.date, accounts=None) -> pd.DataFrame:
    """Accounts with their owner on ``as_of``: the columns ``match_accounts`` and the balancing
    report read (``account_id, external_id, name, country, region, state, postal_code,
    industry, potential, exclude_from_realignment, territory_code``)."""
    qs = accounts if accounts is not None else Account.objects.all()
    rows = qs.order_by("external_id").values_list("id", *ACCOUNT_FIELDS)
    frame = pd.DataFrame.from_records(list(rows), columns=["account_id", *ACCOUNT_FIELDS])
    owners = AccountAssignment.objects.filter(valid_on(as_of)).values_list("account_id", "territory__code")
    owner_of = dict(owners)
    frame["territory_code"] = frame["account_id"].map(owner_of).astype(object)
    frame["territory_code"] = frame["territory_code"].where(frame["territory_code"].notna(), None)
    return frame


#: the frame's column → the rule's field, as ``match_accounts`` reads them
RULE_FIELDS = {
    "code": "code",
    "territory_code": "territory__code",
    "priority": "priority",
    "named_accounts": "named_accounts",
    "country": "country",
    "region": "region",
    "state": "state",
    "postal_prefix": "postal_prefix",
    "industry": "industry",
    "valid_from": "valid_from",
}


def rules_frame(*, rules=None) -> pd.DataFrame:
    """Assignment rules as ``match_accounts`` reads them (``named_accounts`` as lists)."""
    qs = rules if rules is not None else AssignmentRule.objects.all()
    rows = qs.order_by("code").values_list(*RULE_FIELDS.values())
    frame = pd.DataFrame.from_records(list(rows), columns=list(RULE_FIELDS))
    frame["named_accounts"] = [[p.strip() for p in (v or "").split(";") if p.strip()] for v in frame["named_accounts"]]
    return frame


def account_figures(*, as_of: dt.date, accounts: pd.DataFrame) -> pd.DataFrame:
    """Per account of ``accounts`` (from :func:`accounts_frame`): ``revenue_l12m`` (net sales
    of the 12 months up to ``as_of``, returns netted, cancellations left out) and
    ``forecast_n12m`` — the owning territory's forecast value for the next 12 months, split
    over its accounts by their share of its last-12-month revenue (evenly when it has none)."""
    out = accounts[["account_id", "external_id", "territory_code"]].copy()
    revenue = READERS.sales_by_account(
        start=as_of - dt.timedelta(days=364),
        end=as_of,
        account_ids=list(out["account_id"]) if len(out) < 5000 else None,
    )
    out["revenue_l12m"] = decimal_column(out["account_id"].map(revenue)).to_numpy()
    forecast = READERS.territory_forecast_n12m(as_of=as_of)
    codes = dict(Territory.objects.values_list("code", "id"))
    out["forecast_n12m"] = [ZERO] * len(out)
    if forecast and len(out):
        territory_id = out["territory_code"].map(codes)
        for tid, group in out.groupby(territory_id):
            total = forecast.get(int(tid))
            if not total:
                continue
            weights = list(group["revenue_l12m"])
            parts = calc.allocate_exact(total, weights, quantum=CENT)
            out.loc[group.index, "forecast_n12m"] = pd.Series(parts, index=group.index, dtype=object)
    return out


# ---------------------------------------------------------------------------------------------
# Territory tree page
# ---------------------------------------------------------------------------------------------


def territory_tree(*, user, as_of: dt.date) -> list[dict]:
    """Visible territories in tree order with owners and figures rolled up the tree: accounts
    owned today, net revenue of the last 12 months, this fiscal year's revenue quota, credited
    revenue so far and attainment."""
    visible = Territory.objects.for_user(user)
    tree = tree_frame()
    if tree.empty:
        return []
    pairs = calc.ancestor_pairs(tree[["code", "parent_code"]], child="code", parent="parent_code")
    code_of = dict(zip(tree["id"], tree["code"]))

    def rolled(values: dict[int, object]) -> dict[str, Decimal]:
        own = pd.Series({code_of[k]: to_decimal(v) for k, v in values.items() if k in code_of}, dtype=object)
        if own.empty:
            return {}
        spread = pairs.assign(value=pairs["node"].map(own)).dropna(subset=["value"])
        sums = spread.groupby("ancestor")["value"].agg(lambda s: sum(s, ZERO))
        return {code: quantize(value, CENT) for code, value in sums.items()}

    accounts = rolled(
        dict(
            AccountAssignment.objects.filter(valid_on(as_of))
            .values("territory_id")
            .annotate(n=Count("id"))
            .values_list("territory_id", "n")
        )
    )
    revenue = rolled(READERS.sales_by_territory(start=as_of - dt.timedelta(days=364), end=as_of))
    year = fiscal_year_of(as_of)
    months = fiscal_year_months(fiscal_year=year)
    plan = quota_plan_current(period_starts=months)
    quota_by_territory: dict[int, Decimal] = {}
    if plan is not None:
        territory_quota = dict(
            Quota.objects.filter(plan=plan, measure="revenue", family__isnull=True, territory__isnull=False)
            .values("territory_id")
            .annotate(t=Sum("amount"))
            .values_list("territory_id", "t")
        )
        if territory_quota:
            quota_by_territory = territory_quota
        else:  # rep quotas: booked on the territory where the rep is primary at the year start
            rep_quota = dict(
                Quota.objects.filter(plan=plan, measure="revenue", family__isnull=True, rep__isnull=False)
                .values("rep_id")
                .annotate(t=Sum("amount"))
                .values_list("rep_id", "t")
            )
            for rep_id, territory_id in TerritoryAssignment.objects.filter(
                valid_on(as_of), role="primary", rep_id__in=list(rep_quota)
            ).values_list("rep_id", "territory_id"):
                quota_by_territory[territory_id] = quota_by_territory.get(territory_id, ZERO) + rep_quota.pop(
                    rep_id, ZERO
                )
    quota = rolled(quota_by_territory)
    ytd = rolled(READERS.sales_by_territory(start=months[0], end=as_of))

    reps: dict[int, list[str]] = {}
    for territory_id, first, last, role, share in (
        TerritoryAssignment.objects.filter(valid_on(as_of))
        .order_by("role", "-share", "rep__username")
        .values_list("territory_id", "rep__first_name", "rep__last_name", "role", "share")
    ):
        label = f"{first} {last}".strip() + (f" {share:.0f} %" if role == "primary" and share != 100 else "")
        reps.setdefault(territory_id, []).append(label + (" (overlay)" if role == "overlay" else ""))

    visible_ids = set(visible.values_list("id", flat=True))
    rows = []
    for row in tree.itertuples(index=False):
        if row.id not in visible_ids:
            continue
        q = quota.get(row.code)
        actual = ytd.get(row.code, ZERO)
        rows.append(
            {
                "id": row.id,
                "code": row.code,
                "name": row.name,
                "level": row.level,
                "depth": row.path.count("/") - 2,
                "manager": row.manager_name or row.manager_username or "",
                "reps": reps.get(row.id, []),
                "accounts": int(accounts.get(row.code, 0)),
                "revenue_l12m": revenue.get(row.code, ZERO),
                "quota": q,
                "ytd_actual": actual,
                "ytd_pct": None if not q else quantize(actual * 100 / q, Decimal("0.1")),
            }
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Attainment
# ---------------------------------------------------------------------------------------------


def attainment_table(
    *, user, fiscal_year: int, owner_kind: str = "rep", measure: str = "revenue", owner: str | None = None
) -> pd.DataFrame:
    """Quota vs credited actual per owner × month of a fiscal year, with year to date.

    ``owner_kind`` ``rep``: actuals are the credits of the sales of the rep's territories on
    each order date × their share (overlays included); ``territory``: the sales of the
    territory's whole subtree. Only owners the viewer may see; ``owner`` narrows to one.
    Columns: those of ``calculations.attainment`` plus ``owner_name``.
    """
    months = fiscal_year_months(fiscal_year=fiscal_year)
    end = add_months(months[-1], 1) - dt.timedelta(days=1)
    sales = READERS.daily_sales(start=months[0], end=end, measure=measure)
    plan = quota_plan_current(period_starts=months)
    quotas = (
        Quota.objects.none()
        if plan is None
        else Quota.objects.filter(plan=plan, measure=measure, family__isnull=True, period_start__in=months)
    )
    if owner_kind == "rep":
        reps = visible_reps(user=user)
        if owner:
            reps = reps.filter(username=owner)
        names = {u: f"{f} {last}".strip() for u, f, last in reps.values_list("username", "first_name", "last_name")}
        credits = (
            calc.credit_lines(sales, assignments_frame())
            if len(sales)
            else pd.DataFrame(columns=["rep_username", "order_date", "amount"])
        )
        actuals = pd.DataFrame(
            {"owner": credits["rep_username"], "period_start": credits["order_date"], "amount": credits["amount"]}
        )
        actuals = actuals.loc[actuals["owner"].isin(names)]
        actuals["period_start"] = calc.month_start(actuals["period_start"]) if len(actuals) else []
        quota_rows = quotas.filter(rep__username__in=list(names)).values_list("rep__username", "period_start", "amount")
    else:
        visible = Territory.objects.for_user(user)
        if owner:
            visible = visible.filter(code=owner)
        names = dict(visible.values_list("code", "name"))
        tree = tree_frame()
        pairs = calc.ancestor_pairs(tree[["code", "parent_code"]], child="code", parent="parent_code")
        spread = sales.merge(pairs, left_on="territory_code", right_on="node")
        spread = spread.loc[spread["ancestor"].isin(names)]
        actuals = pd.DataFrame(
            {"owner": spread["ancestor"], "period_start": spread["order_date"], "amount": spread["amount"]}
        )
        actuals["period_start"] = calc.month_start(actuals["period_start"]) if len(actuals) else []
        quota_rows = quotas.filter(territory__code__in=list(names)).values_list(
            "territory__code", "period_start", "amount"
        )
    quota_frame = pd.DataFrame.from_records(list(quota_rows), columns=["owner", "period_start", "amount"])
    table = calc.attainment(
        actuals, quota_frame, fiscal_year_start_month=organisation_settings_get().fiscal_year_start_month
    )
    table["owner_name"] = table["owner"].map(names)
    return table


# ---------------------------------------------------------------------------------------------
# Balancing
# ---------------------------------------------------------------------------------------------


def balancing(
    *, user, as_of: dt.date, potential_source: str = "potential", measure: str = "revenue_l12m", max_moves: int = 10
) -> dict:
    """Balancing report over the leaf territories the viewer sees, spreads per measure and
    suggested moves between sibling territories."""
    visible = Territory.objects.for_user(user).filter(children__isnull=True)
    leaves = tree_frame(territories=visible)
    if leaves.empty:
        return {"report": [], "spreads": {}, "moves": []}
    assignments = assignments_frame(territory_ids=list(leaves["id"]))
    reps = (
        calc.rep_counts_as_of(assignments, as_of=as_of)
        if len(assignments)
        else pd.DataFrame(columns=["territory_code", "reps"])
    )
    leaves["reps"] = leaves["code"].map(dict(zip(reps["territory_code"], reps["reps"]))).fillna(0).astype(int)
    accounts = accounts_frame(
        as_of=as_of, accounts=Account.objects.owned_by(Q(territory_id__in=list(leaves["id"])), as_of)
    )
    figures = account_figures(as_of=as_of, accounts=accounts)
    accounts["revenue_l12m"] = figures["revenue_l12m"].to_numpy()
    accounts["forecast_n12m"] = figures["forecast_n12m"].to_numpy()
    report = calc.balancing_report(leaves, accounts, potential_source=potential_source)
    moves = calc.suggest_moves(
        leaves, accounts, measure=measure, potential_source=potential_source, max_moves=max_moves
    )
    external = dict(zip(accounts["account_id"], accounts["external_id"]))
    account_names = dict(zip(accounts["account_id"], accounts["name"]))
    moves["external_id"] = moves["account_id"].map(external)
    moves["account_name"] = moves["account_id"].map(account_names)
    return {
        "report": report.to_dict("records"),
        "spreads": {m: calc.measure_spread(report, measure=m) for m in calc.MEASURES},
        "moves": moves.to_dict("records"),
    }


# ---------------------------------------------------------------------------------------------
# Quota plan editor
# ---------------------------------------------------------------------------------------------


def reconciled_plan_ids(*, period_starts: list[dt.date]) -> set[int]:
    """The quota plan versions the supply reconciliation reads for these periods (the choice
    :func:`family_unit_quotas` makes: per period the latest approved, else submitted, else draft)."""
    rows = (
        Quota.objects.units_by_family()
        .filter(period_start__in=period_starts, territory__isnull=False)
        .annotate(rank=_STATUS_RANK_OF_PLAN)
        .values_list("period_start", "rank", "plan__fiscal_year", "plan_id")
        .distinct()
    )
    best: dict[dt.date, tuple] = {}
    for month, rank, year, plan_id in rows:
        key = (rank, -year, -plan_id)
        if month not in best or key < best[month][0]:
            best[month] = (key, plan_id)
    return {plan_id for _, plan_id in best.values()}


def quota_plan_buildability(*, user, plan: QuotaPlan) -> dict:
    """This plan version's family unit quotas (the viewer's territories) checked against the
    latest finished plan run's feasible quantities: what a manager checks on a draft before
    submitting it. ``counted`` says whether the reconciliation already reads this version (its
    ``target_not_buildable`` alerts then belong to it)."""
    months = fiscal_year_months(fiscal_year=plan.fiscal_year)
    run, family_plan = READERS.family_plan_feasible(months=months)
    counted = plan.pk in reconciled_plan_ids(period_starts=months)
    if run is None:
        return {"run": None, "rows": [], "counted": counted}
    quotas = pd.DataFrame.from_records(
        list(
            Quota.objects.units_by_family()
            .filter(plan=plan, territory__isnull=False)
            .values("family__code", "territory__code", "period_start")
            .annotate(quota_qty=Sum("amount"))
            .values_list("family__code", "territory__code", "period_start", "quota_qty")
        ),
        columns=["family_code", "territory_code", "period_start", "quota_qty"],
    )
    short = calc.quota_buildability(quotas, family_plan)
    visible = dict(Territory.objects.for_user(user).values_list("code", "name"))
    families = dict(ProductFamily.objects.values_list("code", "name"))
    rows = [
        {
            "family_code": r.family_code,
            "family_name": families.get(r.family_code, ""),
            "territory_code": r.territory_code,
            "territory_name": visible[r.territory_code],
            "period_start": r.period_start,
            "quota_qty": r.quota_qty,
            "feasible_qty": r.feasible_qty,
            "family_quota_qty": r.family_quota_qty,
            "short_qty": r.short_qty,
        }
        for r in short.itertuples(index=False)
        if r.territory_code in visible
    ]
    return {"run": run, "rows": rows, "counted": counted}


def family_units_summary(*, user, plan: QuotaPlan) -> list[dict]:
    """Units quotas per family × month over the territories the viewer sees."""
    months = fiscal_year_months(fiscal_year=plan.fiscal_year)
    rows = (
        Quota.objects.for_user(user)
        .filter(plan=plan, measure="units", family__isnull=False)
        .values("family__code", "family__name", "period_start")
        .annotate(t=Sum("amount"))
        .values_list("family__code", "family__name", "period_start", "t")
    )
    families: dict[str, dict] = {}
    for code, name, month, total in rows:
        item = families.setdefault(code, {"code": code, "name": name, "cells": {m: ZERO for m in months}})
        item["cells"][month] = total
    return [
        {
            "code": f["code"],
            "name": f["name"],
            "cells": [f["cells"][m] for m in months],
            "total": sum(f["cells"].values(), ZERO),
        }
        for f in sorted(families.values(), key=lambda f: f["code"])
    ]


def quota_grid(*, user, plan: QuotaPlan, measure: str = "revenue") -> dict:
    """Quotas (no family) of one measure: one row per owner the viewer sees × the 12 months."""
    months = fiscal_year_months(fiscal_year=plan.fiscal_year)
    rows = (
        Quota.objects.for_user(user)
        .filter(plan=plan, measure=measure, family__isnull=True)
        .values_list(
            "rep__username",
            "rep__first_name",
            "rep__last_name",
            "territory__code",
            "territory__name",
            "period_start",
            "amount",
            "full_amount",
        )
    )
    owners: dict[tuple[str, str], dict] = {}
    for username, first, last, code, tname, month, amount, full in rows:
        key = ("rep", username) if username else ("territory", code)
        label = f"{first} {last}".strip() if username else tname
        item = owners.setdefault(
            key, {"kind": key[0], "owner": key[1], "label": label, "cells": {m: None for m in months}, "ramped": False}
        )
        item["cells"][month] = amount
        item["ramped"] |= full is not None and full != amount
    out = []
    for item in sorted(owners.values(), key=lambda o: (o["kind"], o["owner"])):
        cells = [item["cells"][m] for m in months]
        out.append(
            {
                **item,
                "cells": [{"month": m, "amount": a} for m, a in zip(months, cells)],
                "total": sum((a for a in cells if a is not None), ZERO),
            }
        )
    column_totals = [sum((o["cells"][i]["amount"] or ZERO for o in out), ZERO) for i in range(12)]
    return {"months": months, "owners": out, "column_totals": column_totals, "total": sum(column_totals, ZERO)}


def quota_roll_up(*, user, plan: QuotaPlan, measure: str = "revenue", as_of: dt.date) -> list[dict]:
    """Bottom-up annual quota per visible node and its gap to the top-down target.

    Rep quotas count on the territory where the rep is primary (largest share) on ``as_of``
    or the fiscal year's first day, whichever is later.
    """
    months = fiscal_year_months(fiscal_year=plan.fiscal_year)
    day = max(months[0], as_of)
    tree = tree_frame()
    if tree.empty:
        return []
    territory_rows = list(
        Quota.objects.filter(plan=plan, measure=measure, family__isnull=True, territory__isnull=False)
        .values("territory__code")
        .annotate(t=Sum("amount"))
        .values_list("territory__code", "t")
    )
    rep_rows = dict(
        Quota.objects.filter(plan=plan, measure=measure, family__isnull=True, rep__isnull=False)
        .values("rep_id")
        .annotate(t=Sum("amount"))
        .values_list("rep_id", "t")
    )
    home: dict[int, str] = {}
    for rep_id, code in (
        TerritoryAssignment.objects.filter(valid_on(day), role="primary", rep_id__in=list(rep_rows))
        .order_by("rep_id", "share")
        .values_list("rep_id", "territory__code")
    ):
        home[rep_id] = code  # ordered by share: the largest share wins
    booked = territory_rows + [(home[r], t) for r, t in rep_rows.items() if r in home]
    quotas = pd.DataFrame.from_records(booked, columns=["territory_code", "amount"])
    targets = pd.DataFrame.from_records(
        list(QuotaTarget.objects.filter(plan=plan, measure=measure).values_list("territory__code", "amount")),
        columns=["territory_code", "target"],
    )
    rolled = calc.roll_up_quotas(tree[["code", "parent_code"]], quotas, targets=targets)
    visible = set(Territory.objects.for_user(user).values_list("code", flat=True))
    names = dict(zip(tree["code"], tree["name"]))
    company = []
    if sees_all_people(user) and measure == "revenue" and plan.revenue_target is not None:
        total = sum((to_decimal(a) for a in quotas["amount"]), ZERO)
        company = [
            {
                "code": "",
                "name": "Company",
                "depth": 0,
                "rolled_up": total,
                "target": plan.revenue_target,
                "gap": plan.revenue_target - total,
            }
        ]
    return company + [
        {
            "code": row.territory_code,
            "name": names[row.territory_code],
            "depth": int(row.depth),
            "rolled_up": row.rolled_up,
            "target": row.target,
            "gap": row.gap,
        }
        for row in rolled.itertuples(index=False)
        if row.territory_code in visible
    ]
