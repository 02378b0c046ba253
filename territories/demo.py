"""Demo steps: sales regions and territories, reps and managers, customer accounts and the
assignment rules that give them their territory (``seed``); then, once sales history exists,
quota plans (``QUOTAS.seed``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
from django.contrib.auth import get_user_model
from django.utils import timezone

from core import roles as r
from core.calendar import add_months
from core.demo import demo_user_create
from territories import selectors, services
from territories.models import (
    Account,
    AccountAssignment,
    AssignmentRule,
    Quota,
    QuotaPlan,
    QuotaTarget,
    Territory,
    TerritoryAssignment,
)
from territories.sources import READERS

REGIONS = [
    (
        "NE",
        "Northeast",
        [
            ("Boston", "MA", "021"),
            ("Hartford", "CT", "061"),
            ("Providence", "RI", "029"),
            ("Albany", "NY", "122"),
            ("Buffalo", "NY", "142"),
            ("Portland", "ME", "041"),
            ("Burlington", "VT", "054"),
            ("Manchester", "NH", "031"),
        ],
    ),
    (
        "SE",
        "Southeast",
        [
            ("Atlanta", "GA", "303"),
            ("Miami", "FL", "331"),
            ("Tampa", "FL", "336"),
            ("Orlando", "FL", "328"),
            ("Charlotte", "NC", "282"),
            ("Raleigh", "NC", "276"),
            ("Nashville", "TN", "372"),
            ("Charleston", "SC", "294"),
        ],
    ),
    (
        "CE",
        "Central",
        [
            ("Chicago", "IL", "606"),
            ("Detroit", "MI", "482"),
            ("Columbus", "OH", "432"),
            ("Indianapolis", "IN", "462"),
            ("Milwaukee", "WI", "532"),
            ("Minneapolis", "MN", "554"),
            ("St. Louis", "MO", "631"),
            ("Kansas City", "MO", "641"),
        ],
    ),
    (
        "WE",
        "West",
        [
            ("Los Angeles", "CA", "900"),
            ("San Francisco", "CA", "941"),
            ("San Diego", "CA", "921"),
            ("Sacramento", "CA", "958"),
            ("Phoenix", "AZ", "850"),
            ("Las Vegas", "NV", "891"),
            ("Tucson", "AZ", "857"),
            ("Fresno", "CA", "937"),
        ],
    ),
    (
        "MA",
        "Mid-Atlantic",
        [
            ("New York", "NY", "100"),
            ("Newark", "NJ", "071"),
            ("Philadelphia", "PA", "191"),
            ("Pittsburgh", "PA", "152"),
            ("Baltimore", "MD", "212"),
            ("Richmond", "VA", "232"),
            ("Wilmington", "DE", "198"),
            ("Washington", "DC", "200"),
        ],
    ),
    (
        "SC",
        "South Central",
        [
            ("Houston", "TX", "770"),
            ("Dallas", "TX", "752"),
            ("San Antonio", "TX", "782"),
            ("Austin", "TX", "787"),
            ("New Orleans", "LA", "701"),
            ("Oklahoma City", "OK", "731"),
            ("Little Rock", "AR", "722"),
            ("Memphis", "TN", "381"),
        ],
    ),
    (
        "MO",
        "Mountain",
        [
            ("Denver", "CO", "802"),
            ("Salt Lake City", "UT", "841"),
            ("Albuquerque", "NM", "871"),
            ("Boise", "ID", "837"),
            ("Colorado Springs", "CO", "809"),
            ("Cheyenne", "WY", "820"),
            ("Billings", "MT", "591"),
            ("Reno", "NV", "895"),
        ],
    ),
    (
        "PN",
        "Pacific Northwest",
        [
            ("Seattle", "WA", "981"),
            ("Portland", "OR", "972"),
            ("Spokane", "WA", "992"),
            ("Tacoma", "WA", "984"),
            ("Eugene", "OR", "974"),
            ("Anchorage", "AK", "995"),
            ("Honolulu", "HI", "968"),
            ("Bellingham", "WA", "982"),
        ],
    ),
]
INDUSTRIES = [
    "Water utilities",
    "Food & beverage",
    "Chemicals",
    "HVAC contractors",
    "Oil & gas",
    "Mining",
    "Pharmaceuticals",
    "Municipal",
    "Agriculture",
    "Building services",
]
NAME_A = [
    "Harbor",
    "Summit",
    "Pioneer",
    "Granite",
    "Riverside",
    "Keystone",
    "Evergreen",
    "Atlas",
    "Beacon",
    "Cedar",
    "Frontier",
    "Liberty",
    "Meridian",
    "Northstar",
    "Oakridge",
    "Prairie",
    "Redwood",
    "Sterling",
    "Tidewater",
    "Valley",
]
NAME_B = [
    "Water",
    "Foods",
    "Chemical",
    "Mechanical",
    "Energy",
    "Minerals",
    "Pharma",
    "Utilities",
    "Farms",
    "Facilities",
    "Industrial",
    "Process",
    "Fluid Systems",
    "Brewing",
    "Dairy",
]
NAME_C = ["Co.", "Inc.", "LLC", "Group", "Corp.", "Partners", "& Sons", "Authority"]
FIRST = [
    "Alex",
    "Maria",
    "James",
    "Priya",
    "Chen",
    "Fatima",
    "Lucas",
    "Olivia",
    "Noah",
    "Sofia",
    "Ethan",
    "Amara",
    "Mateo",
    "Hannah",
    "Ravi",
    "Grace",
    "Diego",
    "Yuki",
    "Samuel",
    "Leila",
    "Omar",
    "Emma",
]
LAST = [
    "Garcia",
    "Smith",
    "Nguyen",
    "Patel",
    "Johnson",
    "Kim",
    "Okafor",
    "Rossi",
    "Müller",
    "Brown",
    "Silva",
    "Cohen",
    "Novak",
    "Tanaka",
    "Dubois",
    "Lopez",
    "Walker",
    "Singh",
    "Ivanova",
    "Hughes",
]


def wipe() -> None:
    quotas_wipe()
    AssignmentRule.objects.all().delete()
    AccountAssignment.objects.all().delete()
    Account.objects.all().delete()
    TerritoryAssignment.objects.all().delete()
    Territory.objects.filter(parent__isnull=False).update(parent=None)
    Territory.objects.all().delete()


def _name(rng: np.random.Generator, i: int) -> tuple[str, str]:
    return FIRST[i % len(FIRST)], LAST[(i * 7 + int(rng.integers(0, 3))) % len(LAST)]


def seed(ctx) -> None:
    rng = ctx.child_rng("territories")
    scale = ctx.scale
    start = ctx.history_start - dt.timedelta(days=365)
    regions = REGIONS[: scale.regions]

    # --- tree ---------------------------------------------------------------------------
    leaves: list[tuple[Territory, int]] = []  # (leaf, region index)
    managers = []
    for ri, (code, name, _cities) in enumerate(regions):
        manager = demo_user_create(
            ctx,
            username="manager" if ri == 0 else f"manager{ri + 1}",
            first_name=FIRST[(ri + 5) % len(FIRST)],
            last_name=f"({name})",
            role_codes=[r.SALES_MANAGER],
        )
        managers.append(manager)
        region = Territory.objects.create(code=code, name=name, level="region", manager=manager, path=f"/{code}/")
        parents = [region]
        if scale.districts_per_region:
            parents = [
                Territory.objects.create(
                    code=f"{code}-D{d + 1}",
                    name=f"{name} district {d + 1}",
                    level="district",
                    parent=region,
                    path=f"/{code}/{code}-D{d + 1}/",
                )
                for d in range(scale.districts_per_region)
            ]
        for parent in parents:
            for t in range(scale.territories_per_parent):
                tcode = f"{parent.code}-T{t + 1}"
                leaf = Territory.objects.create(
                    code=tcode,
                    name=f"{parent.name} territory {t + 1}",
                    level="territory",
                    parent=parent,
                    path=f"{parent.path}{tcode}/",
                )
                leaves.append((leaf, ri))

    # --- reps: one primary per territory, every third territory split 60/40, one overlay
    # specialist per region; one territory changed hands to a new hire two months ago.
    rep_no = 0
    assignments = []
    reps_by_leaf: dict[int, list] = {}

    def new_rep(region_index: int, hire: dt.date):
        nonlocal rep_no
        rep_no += 1
        first, last = _name(rng, rep_no)
        return demo_user_create(
            ctx,
            username=f"rep{rep_no}",
            first_name=first,
            last_name=last,
            role_codes=[r.SALES_REP],
            manager=managers[region_index],
            hire_date=hire,
        )

    hire_switch = add_months(ctx.as_of.replace(day=1), -2)
    switch_leaf = leaves[len(leaves) // 2][0] if len(leaves) > 3 else None
    for li, (leaf, ri) in enumerate(leaves):
        first_rep = new_rep(ri, start)
        reps_by_leaf[leaf.pk] = [first_rep]
        if li % 3 == 1:
            second = new_rep(ri, start)
            reps_by_leaf[leaf.pk].append(second)
            assignments += [
                TerritoryAssignment(rep=first_rep, territory=leaf, role="primary", share=Decimal(60), valid_from=start),
                TerritoryAssignment(rep=second, territory=leaf, role="primary", share=Decimal(40), valid_from=start),
            ]
        elif leaf is switch_leaf:
            newcomer = new_rep(ri, hire_switch)
            reps_by_leaf[leaf.pk].append(newcomer)
            assignments += [
                TerritoryAssignment(
                    rep=first_rep,
                    territory=leaf,
                    role="primary",
                    share=Decimal(100),
                    valid_from=start,
                    valid_to=hire_switch - dt.timedelta(days=1),
                ),
                TerritoryAssignment(
                    rep=newcomer, territory=leaf, role="primary", share=Decimal(100), valid_from=hire_switch
                ),
            ]
        else:
            assignments.append(
                TerritoryAssignment(rep=first_rep, territory=leaf, role="primary", share=Decimal(100), valid_from=start)
            )
    for ri in range(len(regions)):
        overlay = new_rep(ri, start)
        region_leaves = [leaf for leaf, lri in leaves if lri == ri]
        for leaf in region_leaves[:2]:
            assignments.append(
                TerritoryAssignment(rep=overlay, territory=leaf, role="overlay", share=Decimal(25), valid_from=start)
            )
    TerritoryAssignment.objects.bulk_create(assignments)

    # --- accounts -----------------------------------------------------------------------
    n = scale.accounts
    region_of = rng.integers(0, len(regions), size=n)
    city_of = rng.integers(0, 8, size=n)
    digits = rng.integers(0, 100, size=n)
    industries = rng.integers(0, len(INDUSTRIES), size=n)
    weights = rng.lognormal(0.0, 1.0, size=n)
    leaves_by_region = [[leaf for leaf, lri in leaves if lri == ri] for ri in range(len(regions))]
    accounts, owner = [], []
    for i in range(n):
        _code, region_name, cities = regions[region_of[i]]
        city, state, zip3 = cities[city_of[i]]
        postal = f"{zip3}{digits[i]:02d}"
        region_leaves = leaves_by_region[region_of[i]]
        # Geography decides the owner: a territory covers whole 4-digit postal prefixes.
        owner.append(region_leaves[(city_of[i] * 10 + digits[i] // 10) % len(region_leaves)])
        name = f"{NAME_A[i % len(NAME_A)]} {NAME_B[(i // len(NAME_A)) % len(NAME_B)]} {NAME_C[i % len(NAME_C)]}"
        if i >= len(NAME_A) * len(NAME_B):
            name = f"{name} {city}"
        accounts.append(
            Account(
                external_id=f"C{100000 + i}",
                name=name,
                industry=INDUSTRIES[industries[i]],
                country="US",
                region=region_name,
                state=state,
                city=city,
                postal_code=postal,
                potential=Decimal(int(weights[i] * 250_000)),
            )
        )
    Account.objects.bulk_create(accounts, batch_size=2000)
    accounts = list(Account.objects.order_by("external_id"))

    # Eight months ago part of the first region was realigned: accounts of its first
    # territory in one city moved to the second. History stays with the old owner.
    realign = add_months(ctx.as_of.replace(day=1), -8)
    first_leaves = leaves_by_region[0]
    ownership = []
    account_owner_changes = {}
    for i, account in enumerate(accounts):
        leaf = owner[i]
        if len(first_leaves) > 1 and leaf is first_leaves[0] and city_of[i] % 2 == 0:
            ownership.append(
                AccountAssignment(
                    account=account,
                    territory=leaf,
                    valid_from=start,
                    valid_to=realign - dt.timedelta(days=1),
                    source="rule",
                )
            )
            ownership.append(
                AccountAssignment(account=account, territory=first_leaves[1], valid_from=realign, source="manual")
            )
            account_owner_changes[i] = first_leaves[1].pk
        else:
            ownership.append(AccountAssignment(account=account, territory=leaf, valid_from=start, source="rule"))
    AccountAssignment.objects.bulk_create(ownership, batch_size=2000)

    ctx.data["accounts"] = {
        "ids": np.array([a.pk for a in accounts]),
        "external_ids": [a.external_id for a in accounts],
        "weights": weights,
        "owner_before": np.array([leaf.pk for leaf in owner]),
        "owner_after": np.array([account_owner_changes.get(i, owner[i].pk) for i in range(n)]),
        "realign_date": realign,
    }
    ctx.data["leaves"] = [leaf for leaf, _ in leaves]
    _rules_seed(ctx, regions, leaves_by_region, realign)
    ctx.say(f"{len(regions)} regions, {len(leaves)} territories, {rep_no} reps, {n} accounts")


def _rules_seed(ctx, regions, leaves_by_region, realign: dt.date) -> None:
    """One rule per 4-digit postal prefix, matching how the accounts were placed (the first
    region's even cities went to its second territory at the realignment), one named-account
    rule, and a planned change next quarter for the realignment preview to show."""
    rng = ctx.child_rng("territories-rules")
    rules = []
    for ri, (code, _name, cities) in enumerate(regions):
        region_leaves = leaves_by_region[ri]
        for ci, (_city, state, zip3) in enumerate(cities):
            for d in range(10):
                leaf = region_leaves[(ci * 10 + d) % len(region_leaves)]
                if ri == 0 and len(region_leaves) > 1 and leaf is region_leaves[0] and ci % 2 == 0:
                    leaf = region_leaves[1]
                rules.append(
                    AssignmentRule(
                        code=f"{code}-{zip3}{d}",
                        territory=leaf,
                        priority=10,
                        country="US",
                        state=state,
                        postal_prefix=f"{zip3}{d}",
                        valid_from=realign,
                    )
                )
    # A key account stays with its current owner whatever the geography says.
    key_account = Account.objects.order_by("-potential", "external_id").first()
    if key_account is not None:
        owner = AccountAssignment.objects.filter(account=key_account, valid_to__isnull=True).first()
        rules.append(
            AssignmentRule(
                code="KEY-ACCOUNTS", territory=owner.territory, priority=50, named_accounts=key_account.external_id
            )
        )
    # Planned for next quarter: one prefix of the last region moves to a neighbouring territory.
    last_leaves = leaves_by_region[len(regions) - 1]
    candidates = list(
        Account.objects.filter(region=regions[-1][1]).order_by("external_id").values_list("postal_code", "state")
    )
    if len(last_leaves) > 1 and candidates:
        code = regions[-1][0]
        postal, state = candidates[int(rng.integers(0, len(candidates)))]
        prefix = postal[:4]
        old = next(rule.territory for rule in rules if rule.postal_prefix == prefix)
        new = last_leaves[(last_leaves.index(old) + 1) % len(last_leaves)]
        start = add_months(ctx.as_of.replace(day=1), 3 - (ctx.as_of.month - 1) % 3)
        rules.append(
            AssignmentRule(
                code=f"{code}-{prefix}-NEXT",
                territory=new,
                priority=20,
                country="US",
                state=state,
                postal_prefix=prefix,
                valid_from=start,
            )
        )
    AssignmentRule.objects.bulk_create(rules, batch_size=2000)


# --- quotas (run after the sales history exists) --------------------------------------------

PEAK_FAMILY, PEAK_MONTHS, PEAK_UPLIFT_PCT, UPLIFT_PCT = "PMP", (6, 7, 8), Decimal(35), Decimal(6)


def quotas_wipe() -> None:
    QuotaTarget.objects.all().delete()
    Quota.objects.all().delete()
    QuotaPlan.objects.all().delete()


def quotas_seed(ctx) -> None:
    """This fiscal year's plan (approved) and next year's (submitted): revenue quotas per rep
    allocated top-down from a target of last year's revenue + 8 % by history share, spread by
    seasonality with the new-hire ramp; units quotas per family × territory × month from the
    same month a year earlier + 6 %, and + 35 % for pumps in their summer peak — more than the
    plants can build, so the supply reconciliation raises ``target_not_buildable``."""
    User = get_user_model()
    manager, approver = User.objects.get(username="manager"), User.objects.get(username="exec")
    year = selectors.fiscal_year_of(ctx.as_of)
    revenue = sum(
        (
            t or Decimal(0)
            for t in READERS.sales_by_territory(start=ctx.as_of - dt.timedelta(days=364), end=ctx.as_of).values()
        ),
        Decimal(0),
    )
    target = (revenue * Decimal("1.08") / 1000).quantize(Decimal(1)) * 1000
    month_uplift = {(PEAK_FAMILY, m): PEAK_UPLIFT_PCT for m in PEAK_MONTHS}
    plans = []
    for fiscal_year, status in ((year, "approved"), (year + 1, "submitted")):
        plan = services.quota_plan_create(
            code=f"FY{fiscal_year}", fiscal_year=fiscal_year, name=f"Sales quotas FY{fiscal_year}"
        )
        services.quota_allocate_top_down(plan=plan, target=target, basis="history", owner_kind="rep", as_of=ctx.as_of)
        services.quota_units_from_history(
            plan=plan, uplift_pct=UPLIFT_PCT, month_uplift_pct=month_uplift, as_of=ctx.as_of
        )
        now = timezone.now()
        QuotaPlan.objects.filter(pk=plan.pk).update(
            status=status,
            submitted_by=manager,
            submitted_at=now,
            approved_by=approver if status == "approved" else None,
            approved_at=now if status == "approved" else None,
        )
        plans.append(plan)
        target = (target * Decimal("1.05")).quantize(Decimal(1))
    ctx.data["quota_plans"] = [p.code for p in plans]
    ctx.say(f"quota plans {', '.join(p.code for p in plans)}: revenue per rep, units per family × territory")


class _QuotaStep:
    """The second territories step, listed after the sales history in ``home.demo``."""

    wipe = staticmethod(quotas_wipe)
    seed = staticmethod(quotas_seed)


QUOTAS = _QuotaStep()
