"""Writes owned by core: periods, organisation settings, audit trail, comments."""

from __future__ import annotations

import datetime as dt
from calendar import monthrange

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from core.models import AuditEvent, Comment, OrganisationSettings, Period


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def organisation_settings_get() -> OrganisationSettings:
    settings_row = OrganisationSettings.objects.order_by("pk").first()
    return settings_row or OrganisationSettings.objects.create()


@transaction.atomic
def periods_ensure(*, start: dt.date, count: int) -> list[Period]:
    """Monthly periods from the month of ``start``, creating the missing ones."""
    first = start.replace(day=1)
    wanted = [add_months(first, i) for i in range(count)]
    existing = set(Period.objects.filter(start__in=wanted).values_list("start", flat=True))
    Period.objects.bulk_create(
        [
            Period(start=m, end=m.replace(day=monthrange(m.year, m.month)[1]), label=m.strftime("%Y-%m"))
            for m in wanted
            if m not in existing
        ]
    )
    return list(Period.objects.filter(start__in=wanted))


def audit_record(*, actor, action: str, target: models.Model | None = None, before=None, after=None,
                 actor_label: str = "") -> AuditEvent:
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
        from core.errors import ApplicationError

        raise ApplicationError("A comment cannot be empty.", code="empty_comment")
    return Comment.objects.create(
        author=author, text=text, content_type=ContentType.objects.get_for_model(target), object_id=str(target.pk)
    )
