"""Who may call what: token scopes for API clients, roles for signed-in people.

Scopes come in families: ``<family>:read`` and ``<family>:write``, where a write implies the
read (a client that pushes sales lines may read them back), plus two operations that start runs
(``plans:run``, ``forecasts:run``; each implies ``plans:read`` so the run it starts can be
polled). A view names the scope each kind of access needs (``read_scope``, ``write_scope``): a
token must hold that scope or one implying it; a signed-in person must hold one of the roles
the scope lists for people. Rows are then narrowed by the model's ``for_user`` queryset.

Adding a family is one line in ``FAMILIES`` (a scope without a read twin, ``webhooks:write``
say, one line in ``OPERATIONS``); the authorisation matrix (``tests/security/authz_matrix.py``)
then wants the scope declared and a row for each endpoint that uses it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import permissions

from core import roles as r
from core.errors import ApplicationError
from core.models import ApiToken

#: people of any role: their reads are narrowed by ``for_user`` alone
ANYONE = None
#: the readers of quotas and attainment, pages and API alike (the territories pages use it too)
QUOTA_READERS = frozenset({r.ADMIN, r.SALES_MANAGER, r.SALES_REP, r.EXECUTIVE})
PLAN_READERS = frozenset({r.ADMIN, r.PLANNER, r.OPS_LEAD, r.EXECUTIVE, r.SALES_MANAGER})

#: family: (roles of people who read it, roles of people who write it; None for the write
#: means the family has no write scope)
FAMILIES: dict[str, tuple[frozenset[str] | None, frozenset[str] | None]] = {
    "master": (ANYONE, frozenset({r.ADMIN, r.PLANNER})),
    "sales": (ANYONE, frozenset({r.ADMIN, r.PLANNER})),
    "inventory": (ANYONE, frozenset({r.ADMIN, r.OPS_LEAD})),
    "capacity": (ANYONE, frozenset({r.ADMIN, r.OPS_LEAD})),
    "territories": (ANYONE, frozenset({r.ADMIN})),
    "quotas": (QUOTA_READERS, frozenset({r.ADMIN, r.SALES_MANAGER})),
    "users": (ANYONE, frozenset({r.ADMIN})),
    "plans": (PLAN_READERS, None),
    "alerts": (PLAN_READERS, frozenset({r.ADMIN, r.PLANNER, r.OPS_LEAD})),
    "comp": (frozenset({r.ADMIN, r.SALES_MANAGER, r.SALES_REP}), frozenset({r.ADMIN})),
    "cycles": (PLAN_READERS, PLAN_READERS),
    # opportunities, feedback, training: every role reads (rows narrowed by ``for_user``; the
    # pipeline demand and availability reads also want a ``CRM_PLAN_READERS`` role)
    "crm": (ANYONE, frozenset({r.ADMIN, r.SALES_MANAGER})),
}
#: people who read the pipeline demand and ask for availability (the plan's readers)
CRM_PLAN_READERS = PLAN_READERS
#: operations outside the read/write pairs: scope → (roles of people, scopes it implies)
OPERATIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "plans:run": (frozenset({r.ADMIN, r.PLANNER, r.OPS_LEAD}), frozenset({"plans:read"})),
    "forecasts:run": (frozenset({r.ADMIN, r.PLANNER}), frozenset({"plans:read"})),
    "webhooks:write": (frozenset({r.ADMIN}), frozenset()),
}


def _scope_table() -> tuple[dict[str, frozenset[str] | None], dict[str, frozenset[str]]]:
    roles: dict[str, frozenset[str] | None] = {}
    implies: dict[str, frozenset[str]] = {}
    for family, (readers, writers) in FAMILIES.items():
        roles[f"{family}:read"] = readers
        if writers is not None:
            roles[f"{family}:write"] = writers
            implies[f"{family}:write"] = frozenset({f"{family}:read"})
    for scope, (people, implied) in OPERATIONS.items():
        roles[scope] = people
        implies[scope] = implied
    return roles, implies


#: every grantable scope → the roles that hold it through the session (None: every person)
SCOPES, IMPLIES = _scope_table()
#: a view's ``read_scope`` for the caller's own records (ingest batch receipts): any token
#: holding a write scope (only writers have batches), any signed-in person
ANY_WRITE = "any:write"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def scopes_clean(scopes) -> list[str]:
    """The scope list of a new or edited API client, sorted, or ``ApplicationError``: at least
    one scope, each a known one (a token with none would be useless; a typo would silently
    grant less than intended)."""
    if isinstance(scopes, str) or not isinstance(scopes, list | tuple | set | frozenset):
        raise ApplicationError(_("Scopes are a list of scope names."), code="invalid_scopes")
    names = {str(s).strip() for s in scopes if str(s).strip()}
    known = ", ".join(SCOPES)
    if not names:
        raise ApplicationError(
            _("Give the client at least one scope. Known scopes: %(known)s.") % {"known": known}, code="no_scope"
        )
    unknown = sorted(names - set(SCOPES))
    if unknown:
        raise ApplicationError(
            _("Unknown scope(s): %(unknown)s. Known scopes: %(known)s.")
            % {"unknown": ", ".join(unknown), "known": known},
            code="unknown_scope",
        )
    return sorted(names)


def granted_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """What a token holding ``scopes`` may do: its known scopes and the reads they imply."""
    held = set(scopes) & set(SCOPES)
    for scope in list(held):
        held |= IMPLIES.get(scope, frozenset())
    return frozenset(held)


def token_scopes(request) -> frozenset[str] | None:
    """Scopes the request's token grants, or None when the caller is a signed-in person."""
    if isinstance(request.auth, ApiToken):
        return granted_scopes(request.auth.client.scopes or ())
    return None


def may_use_scope(request, scope: str) -> bool:
    scopes = token_scopes(request)
    if scope == ANY_WRITE:
        return scopes is None or any(s.endswith(":write") for s in scopes)
    if scopes is not None:
        return scope in scopes
    people = SCOPES[scope]
    return people is ANYONE or bool(r.user_roles(request.user) & people)


class ScopedAccess(permissions.BasePermission):
    """Authenticated, and holding the scope (token) or role (person) the view requires.

    Every view declares its scopes: a view without the one a method needs refuses it.
    """

    message = gettext_lazy("Your token or role does not grant access to this operation.")

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        attribute = "read_scope" if request.method in READ_METHODS else "write_scope"
        scope = getattr(view, attribute, None)
        if scope is None:
            self.message = _("This operation declares no scope, so nobody may use it.")
            return False
        if not may_use_scope(request, scope):
            if token_scopes(request) is None:
                self.message = _("Your role does not allow this operation.")
            elif scope == ANY_WRITE:
                self.message = _("This token holds no write scope; only writers have records here.")
            else:
                self.message = _("This token lacks the '%(scope)s' scope.") % {"scope": scope}
            return False
        return True
