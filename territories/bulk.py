"""Bulk-upsert resources of the territories app (ERP contract: names are binding).

``accounts`` and ``assignment-rules`` go through the shared single-table writer (listed in
``home/bulk.py``). ``territories``, ``territory-assignments``, ``quotas`` and ``users``
need more than one upsert — tree paths, the primary-share check, plan status and nullable key
parts, groups and profiles — so each pairs its spec with a write step that ``core.bulk.service.bulk_ingest`` runs after the
same opening and validation (``DEDICATED`` below, served at the same
``POST /api/v1/<name>/bulk`` URL).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from core.bulk.rules import MONTH_START, VALIDITY, errors_where, row_errors
from core.bulk.service import RowErrors
from core.bulk.spec import Field, Ref, ResourceSpec
from core.bulk.validation import ERROR_COLUMNS
from core.bulk.writer import UpsertCounts, upsert_frame
from core.models import ApiClient, Profile
from core.roles import ADMIN, ROLES, user_roles
from territories.models import ALL_SALES_ROWS, Quota, QuotaPlan, Territory
from territories.selectors import fiscal_year_of, visible_reps
from territories.services import primary_share_problems, territory_paths_refresh

ACCOUNTS = ResourceSpec(
    name="accounts",
    table="territories_account",
    key=("external_id",),
    scope="master:write",
    fields=(
        Field("external_id", max_length=64),
        Field("name", max_length=200),
        Field("industry", max_length=100, required=False),
        Field("country", max_length=64, required=False),
        Field("region", max_length=100, required=False),
        Field("state", max_length=100, required=False),
        Field("city", max_length=100, required=False),
        Field("postal_code", max_length=20, required=False),
    ),
)

TERRITORY_REF = Ref("territory", "territory_id", "territories.Territory", "code")
USER_REF = Ref("user", "rep_id", "auth.User", "username")


ASSIGNMENT_RULES = ResourceSpec(
    name="assignment-rules",
    table="territories_assignmentrule",
    key=("code",),
    scope="territories:write",
    description="Account assignment rules: every non-empty criterion must match; higher priority wins; "
    "named accounts win over geography.",
    fields=(
        Field("code", max_length=64),
        Field("territory_code", ref=TERRITORY_REF),
        Field("priority", kind="int", required=False, default="0"),
        Field("named_accounts", kind="list", required=False),
        Field("country", max_length=64, required=False),
        Field("region", max_length=100, required=False),
        Field("state", max_length=100, required=False),
        Field("postal_prefix", max_length=20, required=False),
        Field("industry", max_length=100, required=False),
        Field("valid_from", kind="date", required=False),
    ),
)

# --- territories ---------------------------------------------------------------------------

TERRITORIES = ResourceSpec(
    name="territories",
    table="territories_territory",
    key=("code",),
    scope="territories:write",
    fields=(
        Field("code", max_length=64),
        Field("name", max_length=200),
        Field("parent_code", max_length=64, required=False),
        Field("manager_username", required=False, ref=Ref("user", "manager_id", "auth.User", "username")),
        Field("level", max_length=32, required=False),
    ),
)


def territories_write(typed: pd.DataFrame, stored: pd.DataFrame) -> UpsertCounts:
    existing = {t.code: t for t in Territory.objects.all()}
    known = set(existing) | set(typed["code"])
    parent = typed["parent_code"]
    errors = [
        errors_where(
            typed,
            (parent != "") & ~parent.isin(known),
            "parent_code",
            "unknown_reference",
            "no territory with this code in the database or the batch",
        ),
        errors_where(
            typed, parent == typed["code"], "parent_code", "own_parent", "a territory cannot be its own parent"
        ),
    ]
    errors = [e for e in errors if len(e)]
    if errors:
        raise RowErrors(pd.concat(errors, ignore_index=True))
    created = updated = 0
    new = []
    for row in typed.itertuples(index=False):
        manager_id = None if pd.isna(row.manager_username) else int(row.manager_username)
        current = existing.get(row.code)
        if current is None:
            new.append(
                Territory(code=row.code, name=row.name, level=row.level, manager_id=manager_id, path=f"/{row.code}/")
            )
            created += 1
    Territory.objects.bulk_create(new)
    ids = dict(Territory.objects.values_list("code", "id"))
    changed = []
    for row in typed.itertuples(index=False):
        manager_id = None if pd.isna(row.manager_username) else int(row.manager_username)
        parent_id = ids[row.parent_code] if row.parent_code else None
        territory = existing.get(row.code) or Territory(pk=ids[row.code], code=row.code)
        values = {"name": row.name, "level": row.level, "manager_id": manager_id, "parent_id": parent_id}
        if row.code in existing and all(getattr(territory, k) == v for k, v in values.items()):
            continue
        for k, v in values.items():
            setattr(territory, k, v)
        territory.updated_at = timezone.now()
        changed.append(territory)
        updated += row.code in existing
    Territory.objects.bulk_update(changed, ["name", "level", "manager_id", "parent_id", "updated_at"])
    try:
        territory_paths_refresh()
    except Exception as exc:  # a cycle: name the rows that set a parent
        raise RowErrors(
            row_errors(
                typed.index[typed["parent_code"] != ""], "parent_code", "cycle", getattr(exc, "message", str(exc))
            )
        ) from exc
    return UpsertCounts(created=created, updated=updated, unchanged=len(typed) - created - updated)


# --- territory assignments -----------------------------------------------------------------

TERRITORY_ASSIGNMENTS = ResourceSpec(
    name="territory-assignments",
    table="territories_territoryassignment",
    key=("rep_username", "territory_code", "valid_from"),
    scope="territories:write",
    fields=(
        Field("rep_username", ref=USER_REF),
        Field("territory_code", ref=TERRITORY_REF),
        Field("role", kind="choice", choices=("primary", "overlay"), required=False, default="primary"),
        Field("share", kind="decimal", max_digits=5, decimal_places=2, min_value=0.01, required=False, default="100"),
        Field("valid_from", kind="date"),
        Field("valid_to", kind="date", required=False),
    ),
    rules=(
        VALIDITY.rule,
        lambda f: errors_where(
            f, pd.to_numeric(f["share"], errors="coerce") > 100, "share", "too_large", "a credit share is at most 100 %"
        ),
    ),
)


def territory_assignments_write(typed: pd.DataFrame, stored: pd.DataFrame) -> UpsertCounts:
    """Upsert by (rep, territory, valid_from), then every touched territory's primary shares
    must total 100 % on every date; each failing territory's rows get the message."""
    counts = upsert_frame(TERRITORY_ASSIGNMENTS, stored)
    territory_ids = sorted({int(t) for t in stored["territory_id"]})
    problems = primary_share_problems(territory_ids=territory_ids)
    if not problems.empty:
        code_of = dict(Territory.objects.filter(pk__in=territory_ids).values_list("pk", "code"))
        codes = stored["territory_id"].astype(int).map(code_of)
        frames = []
        for code, group in problems.groupby("territory_code"):
            rows = typed.index[(codes == code).to_numpy()]
            frames.append(row_errors(rows, "share", "primary_shares_invalid", " ".join(group["message"])))
        raise RowErrors(pd.concat(frames, ignore_index=True))
    return counts


# --- quotas --------------------------------------------------------------------------------

QUOTAS = ResourceSpec(
    name="quotas",
    table="territories_quota",
    key=("plan_code", "rep_username", "territory_code", "period_start", "measure", "family_code"),
    scope="quotas:write",
    description="Quotas by plan, owner (rep_username or territory_code), month, measure and optional family.",
    fields=(
        Field("plan_code", max_length=64),
        Field("rep_username", required=False, ref=USER_REF),
        Field("territory_code", required=False, ref=TERRITORY_REF),
        Field("period_start", kind="date"),
        Field("measure", kind="choice", choices=("revenue", "units", "margin")),
        Field("family_code", required=False, ref=Ref("product family", "family_id", "inventory.ProductFamily", "code")),
        Field("amount", kind="decimal", max_digits=16, decimal_places=2, min_value=0),
    ),
    rules=(
        lambda f: errors_where(
            f,
            (f["rep_username"].notna() & f["rep_username"].astype(str).ne(""))
            == (f["territory_code"].notna() & f["territory_code"].astype(str).ne("")),
            "rep_username",
            "one_owner",
            "give rep_username or territory_code (exactly one)",
        ),
        MONTH_START.rule,
    ),
)


def _owner_scope_errors(typed: pd.DataFrame, user) -> pd.DataFrame:
    """A sales manager signed in may only write quotas of their subtree's reps and territories."""
    if user is None or user.is_superuser or user_roles(user) & ALL_SALES_ROWS:
        return pd.DataFrame(columns=ERROR_COLUMNS)

    reps = set(visible_reps(user=user).values_list("pk", flat=True))
    territories = set(Territory.objects.for_user(user).values_list("pk", flat=True))
    rep = pd.to_numeric(typed["rep_username"], errors="coerce")
    territory = pd.to_numeric(typed["territory_code"], errors="coerce")
    outside = (rep.notna() & ~rep.isin(reps)) | (territory.notna() & ~territory.isin(territories))
    return errors_where(typed, outside, "rep_username", "out_of_scope", "this owner is outside your territories")


def quotas_write_for(user):
    def write(typed: pd.DataFrame, stored: pd.DataFrame) -> UpsertCounts:
        scope_errors = _owner_scope_errors(typed, user)
        if len(scope_errors):
            raise RowErrors(scope_errors)
        plans = {p.code: p for p in QuotaPlan.objects.filter(code__in=set(typed["plan_code"]))}
        locked = typed["plan_code"].map(lambda c: c in plans and plans[c].status != "draft")
        if locked.any():
            raise RowErrors(
                row_errors(
                    typed.index[locked],
                    "plan_code",
                    "plan_not_draft",
                    [
                        f"quota plan {c} is {plans[c].status}; only a draft plan takes quotas"
                        for c in typed.loc[locked, "plan_code"]
                    ],
                )
            )
        for code, group in typed.groupby("plan_code"):
            if code not in plans:  # a new plan arrives as a draft for the year of its first month
                first = dt.date.fromisoformat(min(group["period_start"]))
                plans[code] = QuotaPlan.objects.create(
                    code=code, fiscal_year=fiscal_year_of(first), name=f"Quotas {code}"
                )

        def ident(value):
            return None if pd.isna(value) or value == "" else int(value)

        existing = {}
        for q in Quota.objects.filter(plan__in=[p.pk for p in plans.values()]):
            existing[(q.plan_id, q.rep_id, q.territory_id, q.period_start, q.measure, q.family_id)] = q
        new, changed = [], []
        for row in typed.itertuples(index=False):
            key = (
                plans[row.plan_code].pk,
                ident(row.rep_username),
                ident(row.territory_code),
                dt.date.fromisoformat(row.period_start),
                row.measure,
                ident(row.family_code),
            )
            amount = Decimal(row.amount)
            current = existing.get(key)
            if current is None:
                new.append(
                    Quota(
                        plan_id=key[0],
                        rep_id=key[1],
                        territory_id=key[2],
                        period_start=key[3],
                        measure=key[4],
                        family_id=key[5],
                        amount=amount,
                        full_amount=amount,
                    )
                )
            elif current.amount != amount:
                current.amount = current.full_amount = amount
                current.updated_at = timezone.now()
                changed.append(current)
        Quota.objects.bulk_create(new, batch_size=2000)
        Quota.objects.bulk_update(changed, ["amount", "full_amount", "updated_at"], batch_size=2000)
        return UpsertCounts(created=len(new), updated=len(changed), unchanged=len(typed) - len(new) - len(changed))

    return write


# --- users ---------------------------------------------------------------------------------

API_GRANTABLE_ROLES = ("sales_manager", "sales_rep", "planner", "ops_lead", "executive")

USERS = ResourceSpec(
    name="users",
    table="auth_user",
    key=("username",),
    scope="users:write",
    description="People kept in sync by HR/CRM systems: names, roles, manager. No passwords.",
    fields=(
        Field("username", max_length=150),
        Field("email", max_length=254, required=False),
        Field("first_name", max_length=150, required=False),
        Field("last_name", max_length=150, required=False),
        Field("roles", kind="list", required=False),
        Field("manager_username", max_length=150, required=False),
        Field("is_active", kind="bool", required=False, default="true"),
    ),
)


def _holds_admin(user) -> bool:
    return user.is_superuser or any(g.name == ADMIN for g in user.groups.all())


def users_write(typed: pd.DataFrame, stored: pd.DataFrame) -> UpsertCounts:
    User = get_user_model()
    roles = typed["roles"].map(lambda v: sorted({p.strip() for p in str(v or "").split(";") if p.strip()}))
    existing = {
        u.username: u
        for u in User.objects.filter(username__in=list(typed["username"]))
        .select_related("profile")
        .prefetch_related("groups")
    }
    known = set(User.objects.filter(username__in=list(typed["manager_username"])).values_list("username", flat=True))
    known |= set(typed["username"])
    protected = set(ApiClient.objects.values_list("user__username", flat=True))
    frames = []
    for i, wanted in roles.items():
        bad = [r for r in wanted if r not in API_GRANTABLE_ROLES]
        if bad:
            unknown = [r for r in bad if r not in ROLES]
            message = (
                f"unknown role(s): {', '.join(unknown)}"
                if unknown
                else f"role(s) {', '.join(bad)} cannot be granted through the API"
            )
            frames.append(row_errors([i], "roles", "invalid_role", message))
    manager = typed["manager_username"]
    frames.append(
        errors_where(
            typed,
            (manager != "") & ~manager.isin(known),
            "manager_username",
            "unknown_reference",
            "no user with this username in the database or the batch",
        )
    )
    frames.append(
        errors_where(
            typed, manager == typed["username"], "manager_username", "own_manager", "a user cannot manage themself"
        )
    )
    # Administrators (the role or a superuser) are managed in the admin site only: a sync token
    # must not demote, deactivate or re-address the people who control it.
    untouchable = typed["username"].map(lambda u: u in protected or (u in existing and _holds_admin(existing[u])))
    frames.append(
        errors_where(
            typed,
            untouchable,
            "username",
            "protected_user",
            "administrators and API clients are not managed through this resource",
        )
    )
    frames = [f for f in frames if len(f)]
    if frames:
        raise RowErrors(pd.concat(frames, ignore_index=True))

    groups = {g.name: g for g in Group.objects.filter(name__in=ROLES)}
    created = updated = 0
    users = {}
    for row, wanted in zip(typed.itertuples(index=False), roles):
        active = row.is_active == "1"
        user = existing.get(row.username)
        fields = {"email": row.email, "first_name": row.first_name, "last_name": row.last_name, "is_active": active}
        if user is None:
            user = User(username=row.username, **fields)
            user.set_unusable_password()
            user.save()
            created += 1
            changed = True
        else:
            changed = any(getattr(user, k) != v for k, v in fields.items())
            if changed:
                for k, v in fields.items():
                    setattr(user, k, v)
                user.save(update_fields=list(fields))
        current_roles = sorted(g.name for g in user.groups.all() if g.name in ROLES) if row.username in existing else []
        if current_roles != wanted:
            user.groups.remove(*[groups[r] for r in current_roles if r in groups])
            user.groups.add(*[groups[r] for r in wanted if r in groups])
            changed = True
        users[row.username] = (user, changed)
    for row in typed.itertuples(index=False):
        user, changed = users[row.username]
        manager_user = (
            users[row.manager_username][0]
            if row.manager_username in users
            else (User.objects.get(username=row.manager_username) if row.manager_username else None)
        )
        profile, made = Profile.objects.get_or_create(user=user)
        if profile.manager_id != (manager_user.pk if manager_user else None):
            profile.manager = manager_user
            profile.save(update_fields=["manager", "updated_at"])
            changed = True
        if changed and row.username in existing:
            updated += 1
    return UpsertCounts(created=created, updated=updated, unchanged=len(typed) - created - updated)


def dedicated_resources(user=None) -> dict[str, tuple[ResourceSpec, object]]:
    """Specs served by ``bulk_ingest`` with their write step (per request user)."""
    return {
        TERRITORIES.name: (TERRITORIES, territories_write),
        TERRITORY_ASSIGNMENTS.name: (TERRITORY_ASSIGNMENTS, territory_assignments_write),
        QUOTAS.name: (QUOTAS, quotas_write_for(user)),
        USERS.name: (USERS, users_write),
    }
