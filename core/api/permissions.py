"""Who may call what: token scopes for API clients, roles for signed-in people.

A view names the scope each kind of access needs (``read_scope``, ``write_scope``); a token
must carry that scope, a person must hold one of the roles that scope maps to. Rows are then
narrowed by the model's ``for_user`` queryset.
"""

from __future__ import annotations

from rest_framework import permissions

from core import roles as r
from core.models import ApiToken

SCOPES: dict[str, frozenset[str]] = {
    "master:write": frozenset({r.ADMIN, r.PLANNER}),
    "sales:write": frozenset({r.ADMIN, r.PLANNER}),
    "inventory:write": frozenset({r.ADMIN, r.OPS_LEAD}),
    "capacity:write": frozenset({r.ADMIN, r.OPS_LEAD}),
    "quotas:write": frozenset({r.ADMIN, r.SALES_MANAGER}),
    "users:write": frozenset({r.ADMIN}),
    "territories:write": frozenset({r.ADMIN}),
    "plans:read": frozenset({r.ADMIN, r.PLANNER, r.OPS_LEAD, r.EXECUTIVE, r.SALES_MANAGER}),
    "plans:run": frozenset({r.ADMIN, r.PLANNER, r.OPS_LEAD}),
    "alerts:read": frozenset({r.ADMIN, r.PLANNER, r.OPS_LEAD, r.EXECUTIVE, r.SALES_MANAGER}),
    "alerts:write": frozenset({r.ADMIN, r.PLANNER, r.OPS_LEAD}),
    "forecasts:run": frozenset({r.ADMIN, r.PLANNER}),
    "comp:read": frozenset({r.ADMIN, r.SALES_MANAGER, r.SALES_REP}),
    "comp:write": frozenset({r.ADMIN}),
    "cycles:read": frozenset({r.ADMIN, r.PLANNER, r.OPS_LEAD, r.EXECUTIVE, r.SALES_MANAGER}),
    "cycles:write": frozenset({r.ADMIN, r.PLANNER, r.OPS_LEAD, r.EXECUTIVE, r.SALES_MANAGER}),
    "webhooks:write": frozenset({r.ADMIN}),
}
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_scopes(request) -> frozenset[str] | None:
    """Scopes of the request's token, or None when the caller is a signed-in person."""
    if isinstance(request.auth, ApiToken):
        return frozenset(request.auth.client.scopes or ())
    return None


def may_use_scope(request, scope: str | None) -> bool:
    if scope is None:
        return True
    scopes = token_scopes(request)
    if scopes is not None:
        return scope in scopes
    return bool(r.user_roles(request.user) & SCOPES[scope])


class ScopedAccess(permissions.BasePermission):
    """Authenticated, and holding the scope (token) or role (person) the view requires."""

    message = "Your token or role does not grant access to this operation."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in READ_METHODS:
            scope = getattr(view, "read_scope", None)
        else:
            scope = getattr(view, "write_scope", None)
            if scope is None:
                return False  # views that write must say which scope they need
        if not may_use_scope(request, scope):
            scopes = token_scopes(request)
            self.message = (
                f"This token lacks the '{scope}' scope." if scopes is not None
                else "Your role does not allow this operation."
            )
            return False
        return True
