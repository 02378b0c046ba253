"""Row-level visibility by role: the one helper every selector and API queryset uses.

Each model's QuerySet subclasses :class:`ScopedQuerySet` and says which roles see every row
(``all_rows_roles``) and how the others are narrowed (``scoped_to``). ``for_user`` is the only
entry point: pages, APIs and exports all call it, so a rule is written once.
"""

from __future__ import annotations

from django.db import models

from core.roles import user_roles


class ScopedQuerySet(models.QuerySet):
    #: every authenticated user sees every row (reference data such as products, periods)
    visible_to_all: bool = False
    #: roles that see every row of this model
    all_rows_roles: frozenset[str] = frozenset({"admin"})

    def for_user(self, user) -> ScopedQuerySet:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if self.visible_to_all or user.is_superuser:
            return self
        roles = user_roles(user)
        if roles & self.all_rows_roles:
            return self
        return self.scoped_to(user, roles)

    def scoped_to(self, user, roles: frozenset[str]) -> ScopedQuerySet:
        """Rows visible to a user holding none of ``all_rows_roles``. Default: nothing."""
        return self.none()
