"""The main menu: one entry per area, shown to the roles that may open it.

Areas whose pages have not been built yet have no URL to reverse and are simply left out,
so the menu always links to real pages only.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from core import roles as r


@dataclass(frozen=True)
class NavItem:
    label: object  # a lazily translated string
    url_name: str
    roles: frozenset[str]


ALL = frozenset(r.ROLES) - {r.ERP}

MENU: tuple[NavItem, ...] = (
    NavItem(_("Home"), "home", ALL),
    NavItem(_("Forecasts"), "forecasting:runs", frozenset({r.ADMIN, r.PLANNER, r.EXECUTIVE, r.OPS_LEAD})),
    NavItem(_("Alerts"), "sop:alerts", frozenset({r.ADMIN, r.OPS_LEAD, r.PLANNER, r.EXECUTIVE, r.SALES_MANAGER})),
    NavItem(_("Capacity"), "sop:capacity", frozenset({r.ADMIN, r.OPS_LEAD, r.PLANNER, r.EXECUTIVE})),
    NavItem(_("Inventory"), "inventory:positions", frozenset({r.ADMIN, r.OPS_LEAD, r.PLANNER, r.EXECUTIVE})),
    NavItem(_("S&OP cycle"), "sop:cycle", frozenset({r.ADMIN, r.PLANNER, r.OPS_LEAD, r.EXECUTIVE, r.SALES_MANAGER})),
    NavItem(
        _("Scenarios"), "scenarios:list", frozenset({r.ADMIN, r.PLANNER, r.OPS_LEAD, r.EXECUTIVE, r.SALES_MANAGER})
    ),
    NavItem(_("Territories"), "territories:tree", frozenset({r.ADMIN, r.SALES_MANAGER, r.SALES_REP, r.EXECUTIVE})),
    NavItem(_("Quotas"), "territories:quotas", frozenset({r.ADMIN, r.SALES_MANAGER, r.SALES_REP, r.EXECUTIVE})),
    NavItem(_("Compensation"), "compensation:statements", frozenset({r.ADMIN, r.SALES_MANAGER, r.SALES_REP})),
    NavItem(_("CRM"), "crm:opportunities", ALL),
    NavItem(_("Data upload"), "core:upload", frozenset({r.ADMIN, r.PLANNER, r.OPS_LEAD, r.SALES_MANAGER})),
    # For integrators: business users find what they need in the pages.
    NavItem(_("API docs"), "api-docs", frozenset({r.ADMIN})),
)


def menu_for(user, current_path: str) -> list[dict]:
    user_role_codes = r.user_roles(user)
    items = []
    for item in MENU:
        if not (item.roles & user_role_codes):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": item.label, "url": url, "active": False})
    # The entry whose URL is the longest prefix of the page is the active one (Quotas, not
    # Territories, on /territories/quotas/).
    matches = [i for i in items if (current_path == i["url"] if i["url"] == "/" else current_path.startswith(i["url"]))]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    return items
