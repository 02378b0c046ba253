"""Writes owned by core: periods, organisation settings, audit trail, comments."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext

from core import calendar
from core.api.auth import hash_token, new_token
from core.api.permissions import scopes_clean
from core.errors import ApplicationError
from core.models import ApiClient, ApiToken, AuditEvent, Comment, OrganisationSettings


def organisation_settings_get() -> OrganisationSettings:
    settings_row = OrganisationSettings.objects.order_by("pk").first()
    return settings_row or OrganisationSettings.objects.create()


def planning_horizon() -> int:
    """Months forecast and planned: the organisation's one horizon (forecast runs, plan runs,
    cycles and the demo all read it here)."""
    return calendar.horizon_months(organisation_settings_get().plan_horizon_periods)


def audit_record(
    *, actor, action: str, target: models.Model | None = None, before=None, after=None, actor_label: str = ""
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=actor_label,
        action=action,
        content_type=ContentType.objects.get_for_model(target) if target is not None else None,
        object_id=str(target.pk) if target is not None else "",
        before=before,
        after=after,
    )


def comment_add(*, author, target: models.Model, text: str) -> Comment:
    text = text.strip()
    if not text:
        raise ApplicationError(gettext("A comment cannot be empty."), code="empty_comment")
    return Comment.objects.create(
        author=author, text=text, content_type=ContentType.objects.get_for_model(target), object_id=str(target.pk)
    )


def api_client_create(*, name: str, scopes: list[str], rate_limit: str = "", expires_at: dt.datetime | None = None):
    """Create an API client with its service user (role ``erp``) and a first token.

    Returns ``(client, token)``; the clear token is not stored and cannot be shown again.
    """
    scopes = scopes_clean(scopes)
    if ApiClient.objects.filter(name=name).exists():
        raise ApplicationError(f"An API client named '{name}' already exists.", code="duplicate_client")
    with transaction.atomic():
        user = get_user_model().objects.create(username=f"api:{name}"[:150], is_active=True)
        user.set_unusable_password()
        user.save()
        user.groups.set(Group.objects.filter(name="erp"))
        client = ApiClient.objects.create(name=name, user=user, scopes=scopes, rate_limit=rate_limit)
        token = api_token_issue(client=client, expires_at=expires_at)
    return client, token


def api_token_issue(*, client, expires_at: dt.datetime | None = None) -> str:
    token = new_token()
    ApiToken.objects.create(client=client, prefix=token[:12], token_hash=hash_token(token), expires_at=expires_at)
    return token


def api_token_revoke(*, token) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
