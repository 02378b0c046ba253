"""Writes of the territories app: rep assignments (with the primary-share check), account
realignment from an effective date, quota plans and their workflow, top-down allocation.

Every function owns its transaction; the maths lives in ``territories.calculations``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext

from core.bulk.keys import cleaned as natural_key
from core.calendar import add_months
from core.errors import ApplicationError
from core.models import Profile
from core.services import audit_record, comment_add
from territories import calculations as calc
from territories import selectors
from territories.models import (
    Account,
    AccountAssignment,
    AssignmentRule,
    Quota,
    QuotaPlan,
    QuotaTarget,
    Territory,
    TerritoryAssignment,
    valid_on,
)
from territories.money import ZERO, to_decimal
from territories.rules import MOVE_COLUMNS
from territories.sources import READERS

CENT = Decimal("0.01")
RAMP_PCT = calc.DEFAULT_RAMP_PCT


# ---------------------------------------------------------------------------------------------
# Territory tree and rep assignments
# ---------------------------------------------------------------------------------------------


def territory_paths_refresh() -> int:
    """Recompute every materialised path from the parent links; returns rows changed.

    Raises when the parents form a cycle.
    """
    tree = selectors.tree_frame()
    if tree.empty:
        return 0
    try:
        pairs = calc.ancestor_pairs(tree[["code", "parent_code"]], child="code", parent="parent_code")
    except ValueError as exc:
        raise ApplicationError(f"The territory tree is not a tree: {exc}.", code="territory_cycle") from exc
    pairs = pairs.sort_values(["node", "distance"], ascending=[True, False])
    paths = pairs.groupby("node", sort=False)["ancestor"].agg(lambda codes: "/" + "/".join(codes) + "/")
    changed = [
        Territory(pk=pk, path=paths[code])
        for pk, code, old in zip(tree["id"], tree["code"], tree["path"])
        if paths[code] != old
    ]
    Territory.objects.bulk_update(changed, ["path"], batch_size=1000)
    return len(changed)


def primary_share_problems(*, territory_ids: list[int] | None = None) -> pd.DataFrame:
    """``primary_share_errors`` over the stored assignments of some (or all) territories.

    A vacancy (no primary at all for a while) is allowed: a territory may be open between
    two reps; a total other than 0 or 100 % is not.
    """
    frame = selectors.assignments_frame(territory_ids=territory_ids)
    if frame.empty:
        return pd.DataFrame(columns=["territory_code", "valid_from", "valid_to", "total_share", "message"])
    return calc.primary_share_errors(frame, allow_vacancies=True)


def territory_shares_check(*, territory_ids: list[int]) -> None:
    """Raise a clear error when the primary shares of these territories are not 100 %."""
    problems = primary_share_problems(territory_ids=territory_ids)
    if not problems.empty:
        messages = list(problems["message"])
        raise ApplicationError(
            messages[0] if len(messages) == 1 else f"{len(messages)} share problems: " + " ".join(messages),
            code="primary_shares_invalid",
            details={
                "errors": [
                    {
                        "territory_code": r.territory_code,
                        "valid_from": str(r.valid_from),
                        "valid_to": None if r.valid_to is None else str(r.valid_to),
                        "total_share": str(r.total_share),
                        "message": r.message,
                    }
                    for r in problems.itertuples(index=False)
                ]
            },
        )


@transaction.atomic
def territory_assignment_save(
    *,
    rep,
    territory: Territory,
    role: str = "primary",
    share: Decimal = Decimal(100),
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    actor=None,
) -> TerritoryAssignment:
    """Create or update the assignment (rep, territory, valid_from); the territory's primary
    shares must still total 100 % on every date (else nothing is saved)."""
    if valid_to is not None and valid_to < valid_from:
        raise ApplicationError(f"valid_to {valid_to} is before valid_from {valid_from}.", code="invalid_dates")
    assignment, _ = TerritoryAssignment.objects.update_or_create(
        rep=rep,
        territory=territory,
        valid_from=valid_from,
        defaults={"role": role, "share": share, "valid_to": valid_to},
    )
    territory_shares_check(territory_ids=[territory.pk])
    audit_record(
        actor=actor,
        action="territory_assignment_saved",
        target=assignment,
        after={
            "rep": rep.username,
            "territory": territory.code,
            "role": role,
            "share": str(share),
            "valid_from": str(valid_from),
            "valid_to": None if valid_to is None else str(valid_to),
        },
    )
    return assignment


# ---------------------------------------------------------------------------------------------
# Account ownership and realignment
# ---------------------------------------------------------------------------------------------


def _ownership_move(*, moves: dict[int, int], effective_from: dt.date) -> None:
    """Give each account (id → territory id) a new owner from ``effective_from``.

    The row in force the day before is closed on that day; rows starting on or after
    ``effective_from`` are replaced. Sales lines ordered before the date keep their territory
    (history never moves); lines ordered on or after it are re-stamped with the new owner,
    which is what the ingestion would have stamped (sales does that: ``ownership_moved``).
    """
    if not moves:
        return
    ids = list(moves)
    day_before = effective_from - dt.timedelta(days=1)
    AccountAssignment.objects.filter(account_id__in=ids, valid_from__gte=effective_from).delete()
    AccountAssignment.objects.filter(account_id__in=ids, valid_from__lt=effective_from).filter(
        valid_to__isnull=True
    ).update(valid_to=day_before)
    AccountAssignment.objects.filter(
        account_id__in=ids, valid_from__lt=effective_from, valid_to__gte=effective_from
    ).update(valid_to=day_before)
    AccountAssignment.objects.bulk_create(
        [
            AccountAssignment(account_id=a, territory_id=t, valid_from=effective_from, source="rule")
            for a, t in moves.items()
        ],
        batch_size=2000,
    )
    READERS.ownership_moved(moves=moves, effective_from=effective_from)


@transaction.atomic
def account_assign(*, account: Account, territory: Territory, effective_from: dt.date, actor=None) -> None:
    """A manual move of one account to ``territory`` from ``effective_from``."""
    _ownership_move(moves={account.pk: territory.pk}, effective_from=effective_from)
    audit_record(
        actor=actor,
        action="account_assigned",
        target=account,
        after={"territory": territory.code, "effective_from": str(effective_from)},
    )


@dataclass
class Realignment:
    effective_from: dt.date
    applied: bool
    proposal: pd.DataFrame  # match_accounts output
    moves: pd.DataFrame  # realignment_diff moves
    summary: pd.DataFrame  # realignment_diff summary
    counts: dict = field(default_factory=dict)

    def as_dict(self, *, limit: int = 1000) -> dict:
        def listed(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
            out = []
            for row in frame[columns].head(limit).itertuples(index=False):
                item = {}
                for name, value in zip(columns, row):
                    if isinstance(value, Decimal):
                        value = str(value)
                    elif isinstance(value, tuple):
                        value = list(value)
                    item[name] = value
                out.append(item)
            return out

        unresolved = self.proposal.loc[self.proposal["status"].isin([calc.UNASSIGNED, calc.CONFLICT])]
        return {
            "effective_from": str(self.effective_from),
            "dry_run": not self.applied,
            "counts": self.counts,
            "moved": listed(
                self.moves, ["external_id", "from_territory_code", "to_territory_code", "revenue_l12m", "forecast_n12m"]
            ),
            "unassigned": listed(
                unresolved.loc[unresolved["status"] == calc.UNASSIGNED], ["external_id", "current_territory_code"]
            ),
            "conflicts": listed(
                unresolved.loc[unresolved["status"] == calc.CONFLICT],
                ["external_id", "current_territory_code", "candidate_territory_codes", "rule_codes"],
            ),
            "territories": listed(self.summary, list(self.summary.columns)),
        }


def realignment_run(
    *, effective_from: dt.date, dry_run: bool = True, actor=None, as_of: dt.date | None = None
) -> Realignment:
    """Run the assignment rules over every account as of ``effective_from``.

    Unassigned (no rule) and conflicting (several territories at the top priority) accounts
    stay where they are and are listed for a manager; excluded accounts are kept. A dry run
    writes nothing; otherwise moved accounts change owner from ``effective_from``.
    """
    as_of = as_of or timezone.localdate()
    accounts = selectors.accounts_frame(as_of=effective_from)
    rules = selectors.rules_frame()
    if accounts.empty:
        empty = pd.DataFrame(columns=["external_id", "current_territory_code", "territory_code", "status"])
        return Realignment(
            effective_from,
            False,
            empty,
            pd.DataFrame(columns=[*MOVE_COLUMNS, "status"]),
            pd.DataFrame(),
            {"accounts": 0, "moved": 0, "unassigned": 0, "conflicts": 0, "kept": 0},
        )
    proposal = calc.match_accounts(accounts, rules, as_of=effective_from)
    target = proposal.copy()
    unresolved = target["territory_code"].isna()
    target.loc[unresolved, "territory_code"] = target.loc[unresolved, "current_territory_code"]
    figures = selectors.account_figures(as_of=as_of, accounts=accounts)
    moves, summary = calc.realignment_diff(target, figures[["external_id", "revenue_l12m", "forecast_n12m"]])
    counts = {
        "accounts": len(proposal),
        "moved": len(moves),
        "unassigned": int((proposal["status"] == calc.UNASSIGNED).sum()),
        "conflicts": int((proposal["status"] == calc.CONFLICT).sum()),
        "kept": int((proposal["status"] == calc.KEPT).sum()),
    }
    result = Realignment(effective_from, not dry_run, proposal, moves, summary, counts)
    if dry_run or moves.empty:
        return result
    with transaction.atomic():
        account_id = dict(zip(accounts["external_id"], accounts["account_id"]))
        territory_id = dict(Territory.objects.values_list("code", "id"))
        _ownership_move(
            moves={
                int(account_id[e]): territory_id[t] for e, t in zip(moves["external_id"], moves["to_territory_code"])
            },
            effective_from=effective_from,
        )
        audit_record(actor=actor, action="realignment_applied", after={"effective_from": str(effective_from), **counts})
    return result


# ---------------------------------------------------------------------------------------------
# Quota plans
# ---------------------------------------------------------------------------------------------


def _editable(plan: QuotaPlan) -> None:
    # Read the status again (locked): the caller's instance may predate a transition.
    plan.status = QuotaPlan.objects.select_for_update().values_list("status", flat=True).get(pk=plan.pk)
    if plan.status != QuotaPlan.Status.DRAFT:
        raise ApplicationError(
            f"Quota plan {plan.code} is {plan.status}; only a draft plan can be changed. Return it to draft first.",
            code="plan_not_draft",
            status=409,
        )


@transaction.atomic
def quota_plan_create(*, code: str, fiscal_year: int, name: str = "", actor=None) -> QuotaPlan:
    code = natural_key(code, field="code")
    if not code:
        raise ApplicationError(gettext("A quota plan needs a code."), code="required")
    if not selectors.MIN_FISCAL_YEAR <= fiscal_year <= selectors.MAX_FISCAL_YEAR:
        raise ApplicationError(
            f"The fiscal year must be between {selectors.MIN_FISCAL_YEAR} and {selectors.MAX_FISCAL_YEAR}.",
            code="invalid_fiscal_year",
        )
    if QuotaPlan.objects.filter(code=code).exists():
        raise ApplicationError(f"A quota plan with code {code} already exists.", code="duplicate_code")
    plan = QuotaPlan.objects.create(code=code, fiscal_year=fiscal_year, name=name or f"Quotas FY{fiscal_year}")
    audit_record(actor=actor, action="quota_plan_created", target=plan, after={"code": code})
    return plan


TRANSITIONS = {
    "submit": (QuotaPlan.Status.DRAFT, QuotaPlan.Status.SUBMITTED),
    "approve": (QuotaPlan.Status.SUBMITTED, QuotaPlan.Status.APPROVED),
    "return": (QuotaPlan.Status.SUBMITTED, QuotaPlan.Status.DRAFT),
}


@transaction.atomic
def quota_plan_transition(*, plan: QuotaPlan, action: str, actor, comment: str = "") -> QuotaPlan:
    """Move a plan along draft → submitted → approved (or return a submitted plan to draft),
    recording who and when, with an optional comment."""
    if action not in TRANSITIONS:
        raise ApplicationError(f"Unknown action '{action}'.", code="invalid_action")
    plan = QuotaPlan.objects.select_for_update().get(pk=plan.pk)
    source, target = TRANSITIONS[action]
    if plan.status != source:
        raise ApplicationError(
            f"Quota plan {plan.code} is {plan.status}; '{action}' needs a {source} plan.",
            code="invalid_transition",
            status=409,
        )
    if action == "approve" and plan.submitted_by_id == getattr(actor, "pk", None) and not actor.is_superuser:
        raise ApplicationError(
            gettext("A plan is approved by someone other than who submitted it."), code="four_eyes", status=403
        )
    if action in ("approve", "return") and not selectors.quota_plan_in_reach(user=actor, plan=plan):
        raise ApplicationError(
            gettext(
                "Quota plan %(plan)s covers territories beyond the ones you manage: only an administrator or a "
                "manager of all of them may %(action)s it."
            )
            % {"plan": plan.code, "action": action},
            code="out_of_scope",
            status=403,
        )
    if action == "return" and not comment.strip():
        raise ApplicationError(
            gettext("Say why the plan goes back to draft (a comment is required)."), code="comment_required"
        )
    before = plan.status
    plan.status = target
    now = timezone.now()
    if action == "submit":
        plan.submitted_by, plan.submitted_at = actor, now
    elif action == "approve":
        plan.approved_by, plan.approved_at = actor, now
    plan.save()
    if comment.strip():
        comment_add(author=actor, target=plan, text=comment)
    audit_record(
        actor=actor, action=f"quota_plan_{action}", target=plan, before={"status": before}, after={"status": target}
    )
    return plan


@transaction.atomic
def quota_set(
    *,
    plan: QuotaPlan,
    period_start: dt.date,
    amount: Decimal,
    measure: str = "revenue",
    rep=None,
    territory: Territory | None = None,
    family=None,
    actor=None,
) -> Quota:
    """Set one quota of a draft plan (an edit in the quota plan editor)."""
    _editable(plan)
    if (rep is None) == (territory is None):
        raise ApplicationError(
            gettext("A quota belongs to a rep or to a territory (exactly one)."), code="invalid_owner"
        )
    amount = to_decimal(amount)
    if amount < 0:
        raise ApplicationError(gettext("A quota cannot be negative."), code="negative_amount")
    quota, _ = Quota.objects.update_or_create(
        plan=plan,
        rep=rep,
        territory=territory,
        period_start=period_start.replace(day=1),
        measure=measure,
        family=family,
        defaults={"amount": amount, "full_amount": amount},
    )  # an edit is the full quota: no ramp
    audit_record(actor=actor, action="quota_set", target=quota, after={"amount": str(amount)})
    return quota


def _leaf_bases(*, leaves: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """history / forecast / potential per leaf territory (code, id)."""
    ids = list(leaves["id"])
    history = READERS.sales_by_territory(start=as_of - dt.timedelta(days=364), end=as_of, territory_ids=ids)
    forecast = READERS.territory_forecast_n12m(as_of=as_of)
    potential = dict(
        AccountAssignment.objects.filter(valid_on(as_of), territory_id__in=ids)
        .values("territory_id")
        .annotate(t=Sum("account__potential"))
        .values_list("territory_id", "t")
    )
    out = leaves[["id", "code"]].copy()
    out["history"] = [to_decimal(history.get(i)) for i in out["id"]]
    out["forecast"] = [to_decimal(forecast.get(i)) for i in out["id"]]
    out["potential"] = [to_decimal(potential.get(i)) for i in out["id"]]
    return out


def allocation_parts(*, node: Territory | None, owner_kind: str, as_of: dt.date, day: dt.date) -> pd.DataFrame:
    """Owners under ``node`` (company when ``None``) with their history/forecast/potential.

    ``owner_kind`` ``territory``: the leaf territories; ``rep``: the primary reps of those
    leaves on ``day``, each weighted by their credit share of the leaf.
    """
    tree = selectors.tree_frame()
    parents = set(tree["parent_code"].dropna())
    leaves = tree.loc[~tree["code"].isin(parents)]
    if node is not None:
        leaves = leaves.loc[leaves["path"].str.startswith(node.path)]
    if leaves.empty:
        raise ApplicationError(gettext("There is no territory under this node to allocate to."), code="no_owners")
    bases = _leaf_bases(leaves=leaves, as_of=as_of)
    if owner_kind == "territory":
        return bases.rename(columns={"code": "owner"}).drop(columns=["id"]).reset_index(drop=True)
    reps = selectors.assignments_frame(territory_ids=list(leaves["id"]))
    starts = pd.to_datetime(reps["valid_from"])
    ends = pd.to_datetime(reps["valid_to"])
    live = (reps["role"] == "primary") & (starts <= pd.Timestamp(day)) & (ends.isna() | (ends >= pd.Timestamp(day)))
    reps = reps.loc[live].merge(bases, left_on="territory_code", right_on="code")
    if reps.empty:
        raise ApplicationError(
            gettext("No primary rep is assigned under this node on %(day)s; allocate to territories instead.")
            % {"day": day},
            code="no_owners",
        )
    for column in ("history", "forecast", "potential"):
        reps[column] = [b * s / 100 for b, s in zip(reps[column], reps["share"])]
    grouped = reps.groupby("rep_username", sort=True)
    return pd.DataFrame(
        {
            "owner": list(grouped.groups),
            "history": [sum(g, ZERO) for _, g in grouped["history"]],
            "forecast": [sum(g, ZERO) for _, g in grouped["forecast"]],
            "potential": [sum(g, ZERO) for _, g in grouped["potential"]],
        }
    )


def seasonality_for(*, node: Territory | None, as_of: dt.date, measure: str = "revenue") -> pd.Series:
    """Monthly weights from the 24 full months before ``as_of`` under ``node``."""
    first = add_months(as_of.replace(day=1), -24)
    last = add_months(as_of.replace(day=1), -1)
    history = READERS.sales_by_month(
        start=first,
        end=as_of.replace(day=1) - dt.timedelta(days=1),
        measure=measure,
        path=None if node is None else node.path,
    )
    return calc.seasonality_weights(history, first_month=first, last_month=last)


@transaction.atomic
def quota_allocate_top_down(
    *,
    plan: QuotaPlan,
    target: Decimal,
    basis: str,
    owner_kind: str = "rep",
    node: Territory | None = None,
    measure: str = "revenue",
    ramp: bool = True,
    as_of: dt.date | None = None,
    actor=None,
) -> pd.DataFrame:
    """Split an annual target of ``node`` (the company when ``None``) over its reps or leaf
    territories by ``basis``, exactly; spread each part over the fiscal year's months by
    seasonality from history; reduce new hires by the ramp; replace those quotas in the plan.

    Returns the annual split (``owner``, basis columns, ``share_pct``, ``amount``,
    ``basis_used``).
    """
    _editable(plan)
    if basis not in calc.BASES:
        raise ApplicationError(f"Basis must be one of {', '.join(calc.BASES)}.", code="invalid_basis")
    if owner_kind not in ("rep", "territory"):
        raise ApplicationError(gettext("Allocate to 'rep' or 'territory'."), code="invalid_owner_kind")
    target = to_decimal(target)
    if target < 0:
        raise ApplicationError(gettext("The target cannot be negative."), code="negative_amount")
    quantum: Decimal | int = 1 if measure == "units" else CENT
    if measure == "units":
        if target != target.to_integral_value():
            raise ApplicationError(gettext("A units target is a whole number."), code="invalid_amount")
        target = int(target)
    as_of = as_of or timezone.localdate()
    months = selectors.fiscal_year_months(fiscal_year=plan.fiscal_year)
    day = max(months[0], as_of)
    parts = allocation_parts(node=node, owner_kind=owner_kind, as_of=as_of, day=day)
    split = calc.allocate_top_down(target, parts, basis=basis, quantum=quantum)
    weights = seasonality_for(node=node, as_of=as_of, measure=measure)
    monthly = []
    for owner, annual in zip(split["owner"], split["amount"]):
        spread = calc.spread_by_season(annual, months, weights, quantum=quantum)
        spread.insert(0, "owner", owner)
        monthly.append(spread)
    quotas = pd.concat(monthly, ignore_index=True)
    quotas["full_amount"] = quotas["amount"]
    if ramp and owner_kind == "rep":
        hires = pd.DataFrame.from_records(
            list(
                Profile.objects.filter(user__username__in=list(split["owner"]), hire_date__isnull=False).values_list(
                    "user__username", "hire_date"
                )
            ),
            columns=["owner", "hire_date"],
        )
        if not hires.empty:
            ramped = calc.apply_ramp(
                quotas[["owner", "period_start", "amount"]], hires, ramp_pct=RAMP_PCT, quantum=quantum
            )
            quotas["amount"] = ramped["amount"]

    owner_ids = (
        dict(get_user_model().objects.filter(username__in=list(split["owner"])).values_list("username", "id"))
        if owner_kind == "rep"
        else dict(Territory.objects.values_list("code", "id"))
    )
    owner_field = "rep_id" if owner_kind == "rep" else "territory_id"
    Quota.objects.filter(
        plan=plan,
        measure=measure,
        family__isnull=True,
        period_start__in=months,
        **{f"{owner_field}__in": [owner_ids[o] for o in split["owner"]]},
    ).delete()
    Quota.objects.bulk_create(
        [
            Quota(
                plan=plan,
                measure=measure,
                period_start=row.period_start,
                amount=Decimal(row.amount),
                full_amount=Decimal(row.full_amount),
                **{owner_field: owner_ids[row.owner]},
            )
            for row in quotas.itertuples(index=False)
        ],
        batch_size=2000,
    )
    if node is not None:
        QuotaTarget.objects.update_or_create(
            plan=plan, territory=node, measure=measure, defaults={"amount": Decimal(target), "basis": basis}
        )
    elif measure == "revenue":
        plan.revenue_target = Decimal(target)
        plan.save(update_fields=["revenue_target", "updated_at"])
    audit_record(
        actor=actor,
        action="quota_allocated",
        target=plan,
        after={
            "target": str(target),
            "basis": basis,
            "owner_kind": owner_kind,
            "measure": measure,
            "node": node.code if node else None,
            "owners": len(split),
        },
    )
    return split


@transaction.atomic
def quota_units_from_history(
    *,
    plan: QuotaPlan,
    uplift_pct: Decimal = Decimal(0),
    month_uplift_pct: dict[tuple[str, int], Decimal] | None = None,
    as_of: dt.date | None = None,
    actor=None,
) -> int:
    """Units quotas per product family × leaf territory × month of the plan's fiscal year:
    the units of the latest full same calendar month before ``as_of``, raised by
    ``uplift_pct`` (or, per ``(family code, calendar month)``, by ``month_uplift_pct``).
    Replaces the plan's family units quotas; returns the rows written.
    """
    _editable(plan)
    as_of = as_of or timezone.localdate()
    this_month = as_of.replace(day=1)
    months = selectors.fiscal_year_months(fiscal_year=plan.fiscal_year)
    # Each plan month takes its base from the latest full occurrence of its calendar month.
    base_of = {}
    for month in months:
        base = month
        while base >= this_month:
            base = add_months(base, -12)
        while add_months(base, 12) < this_month:
            base = add_months(base, 12)
        base_of[base] = month
    rows = READERS.family_units_by_month(first=min(base_of), before=this_month, months=list(base_of))
    extra = month_uplift_pct or {}
    quotas = []
    for month, territory_id, family_id, family_code, qty in rows:
        pct = extra.get((family_code, month.month), to_decimal(uplift_pct))
        amount = (to_decimal(qty) * (100 + pct) / 100).quantize(Decimal(1))
        if amount > 0:
            quotas.append(
                Quota(
                    plan=plan,
                    territory_id=territory_id,
                    family_id=family_id,
                    measure="units",
                    period_start=base_of[month],
                    amount=amount,
                    full_amount=amount,
                )
            )
    Quota.objects.filter(plan=plan, measure="units", family__isnull=False).delete()
    Quota.objects.bulk_create(quotas, batch_size=2000)
    audit_record(actor=actor, action="quota_units_from_history", target=plan, after={"rows": len(quotas)})
    return len(quotas)


# ---------------------------------------------------------------------------------------------
# Assignment rules (editor)
# ---------------------------------------------------------------------------------------------

RULE_TEXT_FIELDS = ("country", "region", "state", "postal_prefix", "industry")


@transaction.atomic
def assignment_rule_save(
    *,
    code: str,
    territory: Territory,
    priority: int = 0,
    named_accounts: str = "",
    valid_from: dt.date | None = None,
    actor=None,
    **criteria: str,
):
    """Create or update the rule ``code``; named accounts must exist."""
    code = natural_key(code, field="code")
    if not code:
        raise ApplicationError(gettext("A rule needs a code."), code="required")
    unknown_fields = set(criteria) - set(RULE_TEXT_FIELDS)
    if unknown_fields:
        raise ApplicationError(f"Unknown criteria: {', '.join(sorted(unknown_fields))}.", code="invalid_field")
    names = [p.strip() for p in named_accounts.replace(",", ";").split(";") if p.strip()]
    missing = sorted(
        set(names) - set(Account.objects.filter(external_id__in=names).values_list("external_id", flat=True))
    )
    if missing:
        raise ApplicationError(f"No account with external id {', '.join(missing)}.", code="unknown_account")
    rule, created = AssignmentRule.objects.update_or_create(
        code=code,
        defaults={
            "territory": territory,
            "priority": priority,
            "named_accounts": ";".join(names),
            "valid_from": valid_from,
            **{f: (criteria.get(f) or "").strip() for f in RULE_TEXT_FIELDS},
        },
    )
    audit_record(
        actor=actor,
        action="assignment_rule_saved",
        target=rule,
        after={"code": code, "territory": territory.code, "priority": priority, "created": created},
    )
    return rule


@transaction.atomic
def assignment_rule_delete(*, rule, actor=None) -> None:
    audit_record(actor=actor, action="assignment_rule_deleted", target=rule, before={"code": rule.code})
    rule.delete()
