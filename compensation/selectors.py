"""Reads for compensation: ORM rows → the pure inputs of ``compensation.calculations``
(plans, SPIFFs, credited lines) and the ready-made contexts of pages and exports.

Every read that returns pay goes through ``for_user`` (see ``compensation.models`` for the
visibility rule), so lists, counts and totals never include anyone else's pay.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

import pandas as pd
from django.contrib.auth import get_user_model
from django.db.models import Count, DateField, Prefetch, Q, Sum, Value
from django.utils.translation import gettext

from compensation import calculations as calc
from compensation.models import (
    PAY_ALL_ROWS,
    CompAssignment,
    CompPeriod,
    CompPlan,
    Credit,
    Dispute,
    Spiff,
    Statement,
    StatementLine,
    pay_visibility_q,
)
from compensation.money import plain
from core.errors import ApplicationError
from core.models import Profile
from core.roles import user_roles
from sales.models import SalesOrderLine
from territories.models import TerritoryAssignment
from territories.ownership import credit_lines, primary_share_totals_off, roll_up_credits

HUNDRED = Decimal(100)


# --- plan terms -------------------------------------------------------------------------------


def plan_terms(plan: CompPlan, *, overrides: dict | None = None) -> calc.Plan:
    """The pure ``Plan`` of a plan row (``overrides``: field → value, e.g. for a what-if).

    Raises ``ApplicationError`` when the terms are inconsistent.
    """
    values = {
        "measure": plan.measure,
        "basis": plan.basis,
        "tier_on": plan.tier_on,
        "mode": plan.mode,
        "tiers": plan.tiers,
        "threshold": plan.threshold,
        "cap_kind": plan.cap_kind,
        "cap_value": plan.cap_value,
        "base_rate": plan.base_rate,
        "family_rules": plan.family_rules,
        "draw_kind": plan.draw_kind,
        "draw_amount": plan.draw_amount,
        "draw_recovery_cap_pct": plan.draw_recovery_cap_pct,
        "draw_on_termination": plan.draw_on_termination,
    }
    values.update(overrides or {})
    try:
        return plan_from_values(plan.code, plan.name, values)
    except (calc.CompensationError, TypeError, KeyError) as exc:
        raise ApplicationError(f"Plan {plan.code}: {exc}", code="invalid_plan") from exc


def _text(value) -> str | None:
    return None if value is None or value == "" else str(value)


def plan_from_values(code: str, name: str, values: dict) -> calc.Plan:
    cap = None
    if values.get("cap_kind"):
        cap = calc.Cap(values["cap_kind"], _text(values.get("cap_value")))
    draw = None
    if values.get("draw_kind"):
        draw = calc.Draw(
            kind=values["draw_kind"],
            amount=_text(values.get("draw_amount")) or "0",
            recovery_cap_pct=_text(values.get("draw_recovery_cap_pct")),
            on_termination=values.get("draw_on_termination") or "due",
        )
    rules = tuple(
        calc.FamilyRule(
            family=str(rule["family"]),
            multiplier=_text(rule.get("multiplier")) or "1",
            constrained=bool(rule.get("constrained", False)),
        )
        for rule in values.get("family_rules") or ()
    )
    tiers = calc.tiers_from_contract([{k: _text(v) for k, v in row.items()} for row in values.get("tiers") or ()])
    return calc.Plan(
        code=code,
        name=name,
        tiers=tiers,
        measure=values["measure"],
        basis=values["basis"],
        tier_on=values["tier_on"],
        mode=values["mode"],
        threshold=_text(values.get("threshold")),
        cap=cap,
        base_rate=_text(values.get("base_rate")),
        family_rules=rules,
        draw=draw,
    )


def spiff_terms(spiff: Spiff) -> calc.Spiff:
    return calc.Spiff(
        code=spiff.code,
        name=spiff.name,
        start=spiff.start,
        end=spiff.end,
        kind=spiff.kind,
        amount=spiff.amount,
        skus=frozenset(spiff.skus or ()),
        families=frozenset(spiff.families or ()),
        margin_floor_pct=spiff.margin_floor_pct,
        budget=spiff.budget,
        include_overlay=spiff.include_overlay,
    )


def spiffs_between(start: dt.date, end: dt.date) -> list[calc.Spiff]:
    return [spiff_terms(s) for s in Spiff.objects.active_between(start, end).order_by("code")]


# --- crediting --------------------------------------------------------------------------------

LINE_COLUMNS = [
    "sales_line_pk",
    "line_id",
    "account_id",
    "order_date",
    "quantity",
    "amount",
    "status",
    "territory_code",
    "territory_id",
    "sku",
    "family",
    "unit_cost",
]


def sales_frame(start: dt.date, end: dt.date) -> pd.DataFrame:
    """Order lines dated in [start, end] with what crediting and the calculation need."""
    rows = (
        SalesOrderLine.objects.between(start, end)
        .values_list(
            "pk",
            "external_id",
            "account_id",
            "order_date",
            "quantity",
            "net_amount",
            "status",
            "territory__code",
            "territory_id",
            "product__sku",
            "product__family__code",
            "product__unit_cost",
        )
        .order_by("order_date", "external_id")
    )
    return pd.DataFrame.from_records(list(rows), columns=LINE_COLUMNS).astype(object)


def territory_assignments_frame(start: dt.date, end: dt.date) -> pd.DataFrame:
    rows = (
        TerritoryAssignment.objects.filter(valid_from__lte=end)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
        .values_list("rep__username", "territory__code", "role", "share", "valid_from", "valid_to")
    )
    columns = ["rep_username", "territory_code", "role", "share", "valid_from", "valid_to"]
    return pd.DataFrame.from_records(list(rows), columns=columns).astype(object)


def managers_frame() -> pd.DataFrame:
    rows = Profile.objects.values_list("user__username", "manager__username")
    return pd.DataFrame.from_records(list(rows), columns=["username", "manager_username"]).astype(object)


CREDIT_COLUMNS = LINE_COLUMNS + ["line_quantity", "line_amount", "rep_username", "role", "share", "distance"]


def credited_frame(start: dt.date, end: dt.date) -> pd.DataFrame:
    """Every credit of the lines dated in [start, end]: primary and overlay reps of the territory
    owning the account on the order date (``territories.ownership.credit_lines``), plus a
    ``rollup`` row per manager above each primary rep (shares of one line summed per manager).

    Raises ``ApplicationError`` (code ``credit_shares_invalid``) when the primary shares of a
    credited line do not total exactly 100 %.
    """
    lines = sales_frame(start, end)
    if lines.empty:
        return pd.DataFrame(columns=CREDIT_COLUMNS)
    assignments = territory_assignments_frame(start, end)
    if assignments.empty:
        return pd.DataFrame(columns=CREDIT_COLUMNS)
    credits = credit_lines(lines, assignments)
    if credits.empty:
        return pd.DataFrame(columns=CREDIT_COLUMNS)
    primary = credits.loc[credits["role"] == "primary"]
    bad = primary_share_totals_off(credits)
    if len(bad):
        first = primary.loc[primary["line_id"].isin(bad.index)].iloc[0]
        raise ApplicationError(
            f"Primary credit shares of territory {first['territory_code']} total {plain(bad.iloc[0])} % on "
            f"{first['order_date']} ({len(bad)} line(s) affected); they must total exactly 100 %. "
            "Fix the territory assignments, then run the period again.",
            code="credit_shares_invalid",
            details={"lines": sorted(bad.index.astype(str))[:50]},
        )
    credits["distance"] = 0
    rolled = roll_up_credits(primary, managers_frame())
    rolled = rolled.loc[rolled["distance"] > 0]
    if not rolled.empty:
        keys = [c for c in LINE_COLUMNS] + ["credited_to"]
        # A manager above a 60/40 split gets one row for the line, at the summed share.
        agg = (
            rolled.groupby(["line_id", "credited_to"], sort=True)
            .agg(
                {
                    **{c: "first" for c in keys if c not in ("line_id", "credited_to")},
                    "share": "sum",
                    "line_quantity": "first",
                    "line_amount": "first",
                    "distance": "min",
                }
            )
            .reset_index()
        )
        agg["rep_username"] = agg.pop("credited_to")
        agg["role"] = "rollup"
        agg["quantity"] = [q * s / HUNDRED for q, s in zip(agg["line_quantity"], agg["share"], strict=True)]
        agg["amount"] = [a * s / HUNDRED for a, s in zip(agg["line_amount"], agg["share"], strict=True)]
        credits = pd.concat([credits, agg[credits.columns]], ignore_index=True)
    return credits[CREDIT_COLUMNS].reset_index(drop=True)


def credited_lines(frame: pd.DataFrame) -> dict[str, list[calc.CreditedLine]]:
    """Pure ``CreditedLine`` records per person from a ``credited_frame``. A roll-up credit
    counts like a primary one for a manager who is on a plan."""
    out: dict[str, list[calc.CreditedLine]] = defaultdict(list)
    for row in frame.itertuples(index=False):
        quantity = abs(Decimal(row.line_quantity))
        out[row.rep_username].append(
            calc.CreditedLine(
                sales_line_id=row.line_id,
                rep=row.rep_username,
                date=row.order_date,
                sku=row.sku,
                family=row.family,
                quantity=quantity,
                revenue=abs(Decimal(row.line_amount)),
                cost=quantity * Decimal(row.unit_cost),
                share=Decimal(row.share),
                kind="return" if row.status == "returned" else "credit",
                role="overlay" if row.role == "overlay" else "primary",
            )
        )
    return out


def stored_credited_lines(
    *, usernames: Iterable[str], start: dt.date, end: dt.date
) -> dict[str, list[calc.CreditedLine]]:
    """Credited lines of stored ``Credit`` rows (earlier periods, e.g. for a YTD true-up)."""
    rows = Credit.objects.filter(rep__username__in=list(usernames), date__gte=start, date__lte=end).values_list(
        "sales_line__external_id",
        "rep__username",
        "date",
        "sales_line__product__sku",
        "sales_line__product__family__code",
        "sales_line__quantity",
        "sales_line__net_amount",
        "sales_line__product__unit_cost",
        "share",
        "kind",
        "role",
    )
    out: dict[str, list[calc.CreditedLine]] = defaultdict(list)
    for line_id, rep, day, sku, family, qty, amount, unit_cost, share, kind, role in rows:
        quantity = abs(qty)
        out[rep].append(
            calc.CreditedLine(
                sales_line_id=line_id,
                rep=rep,
                date=day,
                sku=sku,
                family=family,
                quantity=quantity,
                revenue=abs(amount),
                cost=quantity * unit_cost,
                share=share,
                kind=kind,
                role="overlay" if role == "overlay" else "primary",
            )
        )
    return out


# --- who is on which plan -----------------------------------------------------------------------


def plan_assignments(start: dt.date, end: dt.date) -> dict[int, tuple[CompAssignment, bool]]:
    """Per rep id: the assignment that applies to [start, end] (the one starting last) and
    whether the rep leaves in this period (it ends in the period and nothing follows)."""
    rows = list(
        CompAssignment.objects.overlapping(start, end).select_related("rep", "plan").order_by("rep_id", "valid_from")
    )
    later = set(
        CompAssignment.objects.filter(valid_from__gt=end, rep_id__in=[a.rep_id for a in rows]).values_list(
            "rep_id", flat=True
        )
    )
    chosen: dict[int, CompAssignment] = {}
    for assignment in rows:
        chosen[assignment.rep_id] = assignment
    return {
        rep_id: (a, a.valid_to is not None and a.valid_to <= end and rep_id not in later)
        for rep_id, a in chosen.items()
    }


def statement_snapshot(statement: Statement) -> calc.Statement:
    """The pure statement a closed ``Statement`` was paid on, read back from ``rendered``."""
    return calc.statement_from_dict(json.loads(statement.rendered))


# --- pages and exports ------------------------------------------------------------------------


def statement_list(
    *, user, period_start: dt.date | None = None, rep_username: str | None = None, status: str | None = None
):
    qs = Statement.objects.for_user(user).select_related("rep").order_by("-period_start", "rep__username")
    if period_start:
        qs = qs.filter(period_start=period_start)
    if rep_username:
        qs = qs.filter(rep__username=rep_username)
    if status:
        qs = qs.filter(status=status)
    return qs


def statements_page(*, user, period_start: dt.date | None, rep_username: str | None, status: str | None) -> dict:
    qs = statement_list(user=user, period_start=period_start, rep_username=rep_username, status=status)
    rows = list(qs[:500])
    summary = qs.aggregate(total=Sum("total"), count=Count("id"))
    periods = list(
        Statement.objects.for_user(user).order_by("-period_start").values_list("period_start", flat=True).distinct()
    )
    reps = list(
        Statement.objects.for_user(user).order_by("rep__username").values_list("rep__username", flat=True).distinct()
    )
    return {
        "statements": rows,
        "total": summary["total"] or Decimal(0),
        "count": summary["count"],
        "periods": periods,
        "reps": reps,
        "period_start": period_start,
        "rep_username": rep_username or "",
        "status": status or "",
    }


def statement_get(*, user, pk: int) -> Statement:
    statement = (
        Statement.objects.for_user(user)
        .select_related("rep", "period", "plan")
        .prefetch_related(Prefetch("lines", queryset=StatementLine.objects.order_by("position")))
        .filter(pk=pk)
        .first()
    )
    if statement is None:
        raise ApplicationError(gettext("No such statement."), code="not_found", status=404)
    return statement


def statement_detail(*, user, pk: int) -> dict:
    """A statement with component subtotals, and each line's credited order lines (drill-down)."""
    statement = statement_get(user=user, pk=pk)
    lines = list(statement.lines.all())
    subtotals = defaultdict(lambda: Decimal("0.00"))
    for line in lines:
        subtotals[line.component] += line.amount
    source_ids = sorted({source for line in lines for source in line.source_ids})
    credit_rows = Credit.objects.filter(rep=statement.rep, sales_line__external_id__in=source_ids).values(
        "sales_line__external_id",
        "sales_line__order_date",
        "sales_line__account__name",
        "sales_line__product__sku",
        "sales_line__quantity",
        "sales_line__net_amount",
        "sales_line__status",
        "role",
        "share",
        "amount",
        "territory__code",
    )
    credits_by_line = {row["sales_line__external_id"]: row for row in credit_rows}
    missing = [s for s in source_ids if s not in credits_by_line]
    if missing:  # e.g. a sales line whose credit moved after close: show the line itself
        for row in SalesOrderLine.objects.filter(external_id__in=missing).values(
            "external_id", "order_date", "account__name", "product__sku", "quantity", "net_amount", "status"
        ):
            credits_by_line[row["external_id"]] = {
                "sales_line__external_id": row["external_id"],
                "sales_line__order_date": row["order_date"],
                "sales_line__account__name": row["account__name"],
                "sales_line__product__sku": row["product__sku"],
                "sales_line__quantity": row["quantity"],
                "sales_line__net_amount": row["net_amount"],
                "sales_line__status": row["status"],
                "role": "",
                "share": None,
                "amount": None,
                "territory__code": "",
            }
    disputes = defaultdict(list)
    for dispute in Dispute.objects.filter(line__statement=statement).select_related("raised_by").order_by("id"):
        disputes[dispute.line_id].append(dispute)
    detail_lines = [
        {
            "line": line,
            "credits": [credits_by_line[s] for s in line.source_ids if s in credits_by_line],
            "disputes": disputes.get(line.pk, []),
        }
        for line in lines
    ]
    order = [c for c in calc.COMPONENTS if c in subtotals]
    return {"statement": statement, "lines": detail_lines, "subtotals": [(name, subtotals[name]) for name in order]}


def statement_csv_rows(statement: Statement) -> tuple[list[str], list[list]]:
    header = [
        "rep_username",
        "period_start",
        "status",
        "position",
        "component",
        "description",
        "base",
        "rate",
        "rate_unit",
        "amount",
        "source_sales_line_ids",
        "corrects",
    ]
    rows = [
        [
            statement.rep.username,
            statement.period_start,
            statement.status,
            line.position,
            line.component,
            line.description,
            line.base,
            line.rate,
            line.rate_unit,
            line.amount,
            list(line.source_ids),
            line.corrects,
        ]
        for line in statement.lines.all()
    ]
    return header, rows


PAYROLL_HEADER = [
    "rep_username",
    "first_name",
    "last_name",
    "period_start",
    "period_end",
    "plan_code",
    "plan_version",
    "status",
    "total",
    "draw_balance_carried",
]


def payroll_rows(*, user, period_start: dt.date | None = None, status: str = "closed") -> Iterable[tuple]:
    """One row per statement the user may see (closed ones by default), for payroll."""
    qs = Statement.objects.for_user(user).order_by("period_start", "rep__username")
    if period_start:
        qs = qs.filter(period_start=period_start)
    if status:
        qs = qs.filter(status=status)
    return qs.values_list(
        "rep__username",
        "rep__first_name",
        "rep__last_name",
        "period_start",
        "period_end",
        "plan_code",
        "plan_version",
        "status",
        "total",
        "draw_balance_carried",
    )


def disputes_page(*, user, status: str | None = None) -> dict:
    qs = (
        Dispute.objects.for_user(user)
        .select_related("line", "line__statement", "line__statement__rep", "raised_by", "answered_by")
        .order_by("-id")
    )
    if status:
        qs = qs.filter(status=status)
    return {"disputes": list(qs[:300]), "status": status or ""}


def plans_page(*, user) -> dict:
    plans = list(CompPlan.objects.for_user(user).order_by("code"))
    assignments = list(
        CompAssignment.objects.for_user(user).select_related("rep", "plan").order_by("rep__username", "valid_from")
    )
    spiffs = list(Spiff.objects.for_user(user).order_by("-start", "code"))
    return {"plans": plans, "assignments": assignments, "spiffs": spiffs}


def periods_page() -> dict:
    periods = list(CompPeriod.objects.order_by("-period_start")[:24])
    return {"periods": periods}


def visible_rep_usernames(*, user, start: dt.date, end: dt.date) -> set[str] | None:
    """Reps whose pay ``user`` may see in [start, end]; None = everyone (admin)."""
    roles = user_roles(user)
    if user.is_superuser or roles & PAY_ALL_ROWS:
        return None
    User = get_user_model()
    q = pay_visibility_q(user, roles, rep="pk", start="_start", end="_end")
    users = User.objects.annotate(
        _start=Value(start, output_field=DateField()), _end=Value(end, output_field=DateField())
    ).filter(q)
    return set(users.values_list("username", flat=True))
