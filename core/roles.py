"""Roles of DESIGN.md as Django groups, and the checks views and APIs use.

A user can hold several roles. Role codes are part of the API contract.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

ADMIN = "admin"
SALES_MANAGER = "sales_manager"
SALES_REP = "sales_rep"
PLANNER = "planner"
OPS_LEAD = "ops_lead"
EXECUTIVE = "executive"
ERP = "erp"

ROLES: dict[str, str] = {
    ADMIN: _("Administrator"),
    SALES_MANAGER: _("Sales manager"),
    SALES_REP: _("Sales rep"),
    PLANNER: _("Demand planner"),
    OPS_LEAD: _("Operations lead"),
    EXECUTIVE: _("Executive"),
    ERP: _("ERP integration"),
}

#: Django model permissions granted to each role's group (used by the admin site and as a
#: coarse second line; row visibility is enforced by ``for_user`` querysets).
GROUP_MODEL_PERMISSIONS: dict[str, dict[str, Iterable[str]]] = {
    ADMIN: {"*": ("add", "change", "delete", "view")},
    PLANNER: {"inventory": ("view",), "sop": ("view",), "forecasting": ("add", "change", "view")},
    OPS_LEAD: {"inventory": ("view", "change"), "sop": ("view", "change")},
    EXECUTIVE: {"*": ("view",)},
    SALES_MANAGER: {"territories": ("view", "change"), "compensation": ("view",)},
    SALES_REP: {},
    ERP: {},
}


def user_roles(user) -> frozenset[str]:
    """Role codes of a user, cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_role_codes", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        if user.is_superuser:
            cached = cached | {ADMIN}
        user._role_codes = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def role_required(*roles: str) -> Callable:
    """View decorator: 403 for a signed-in user holding none of ``roles``.

    Anonymous users never get here: the login-required middleware sends them to the login page.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        wrapped.required_roles = roles  # read by the navigation
        return wrapped

    return decorator


def sync_role_groups(**_kwargs) -> None:
    """Create one group per role and give it its model permissions (runs after migrate)."""
    all_perms = list(Permission.objects.select_related("content_type"))
    for code, grants in GROUP_MODEL_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=code)
        wanted = []
        for perm in all_perms:
            actions = grants.get(perm.content_type.app_label, grants.get("*", ()))
            if perm.codename.split("_", 1)[0] in actions:
                wanted.append(perm)
        group.permissions.set(wanted)
