"""Bulk upsert of comp plans and plan assignments (ERP contract: names are binding).

``comp-assignments`` is a plain single-table resource (``COMP_ASSIGNMENTS``, written by the
shared writer, natural key ``rep_username + plan_code + valid_from``).

``comp-plans`` carries a nested ``tiers`` list (``[{from, to, rate}]``) and versions, so it has
its own small writer (``comp_plans_bulk_upsert``) with the same conventions as the shared one:
JSON array or CSV (``tiers`` then as JSON text or ``from-to:rate`` items joined by ``;``), every
row checked and every error listed (row, field, code, message), all or nothing, an
``IngestBatch`` record, ``Idempotency-Key`` replay/409, created/updated/unchanged counts. A
changed plan gets ``version + 1`` and an audit event.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation

from django.conf import settings

from compensation.models import CompPlan
from compensation.selectors import plan_from_values
from core.bulk import keys as natural_keys
from core.bulk.rules import VALIDITY
from core.bulk.service import (
    CSV_TYPES,
    JSON_TYPES,
    BulkRequest,
    IngestOutcome,
    media_type,
    parse_body,
    parse_json_rows,
)
from core.bulk.spec import Field, Ref, ResourceSpec
from core.bulk.writer import UpsertCounts
from core.errors import ApplicationError
from core.services import audit_record

COMP_ASSIGNMENTS = ResourceSpec(
    name="comp-assignments",
    table="compensation_compassignment",
    key=("rep_username", "plan_code", "valid_from"),
    scope="comp:write",
    fields=(
        Field("rep_username", max_length=150, ref=Ref("user", "rep_id", "auth.User", "username")),
        Field("plan_code", max_length=64, ref=Ref("comp plan", "plan_id", "compensation.CompPlan", "code")),
        Field("valid_from", kind="date"),
        Field("valid_to", kind="date", required=False),
        Field("quota", kind="decimal", required=False, max_digits=16, decimal_places=2, min_value=0),
    ),
    rules=(VALIDITY.rule,),
    fast_rules=(VALIDITY.proof,),
    description="Which rep is on which commission plan, from when to when (inclusive).",
)

# --- comp plans -------------------------------------------------------------------------------

PLAN_FIELDS = (
    "code",
    "name",
    "valid_from",
    "valid_to",
    "measure",
    "basis",
    "tier_on",
    "mode",
    "tiers",
    "threshold",
    "cap",
    "cap_kind",
    "base_rate",
    "family_rules",
    "draw_kind",
    "draw_amount",
    "draw_recovery_cap_pct",
    "draw_on_termination",
    "ytd_true_up",
)
REQUIRED = ("code", "name", "valid_from", "tiers")
# The model fields a version compares: every column but the key, the cap under its field name.
TERMS = tuple("cap_value" if name == "cap" else name for name in PLAN_FIELDS if name != "code")


def _rows(body: bytes, content_type: str) -> list[dict]:
    """The rows as dicts (``tiers`` may be a nested list in JSON), read as every bulk body is."""
    kind = media_type(content_type)
    if kind in CSV_TYPES:
        return parse_body(body, content_type).to_dict("records")
    if kind in JSON_TYPES:
        return parse_json_rows(body)
    raise ApplicationError(
        f"Unsupported content type '{kind}': send application/json or text/csv.",
        code="unsupported_media_type",
        status=415,
    )


def _tiers(value) -> list[dict]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            value = json.loads(text, parse_float=str, parse_int=str)
        else:  # "0-1000:1;1000-3000:2;3000-:3"
            value = []
            for item in filter(None, (part.strip() for part in text.split(";"))):
                bounds, rate = item.split(":")
                low, high = bounds.split("-")
                value.append({"from": low, "to": high, "rate": rate})
    if not isinstance(value, list):
        raise ValueError("a list of {from, to, rate}")
    return [
        {
            "from": str(t.get("from", "0")),
            "to": "" if t.get("to") in (None, "") else str(t["to"]),
            "rate": str(t["rate"]),
        }
        for t in value
    ]


def _decimal(value) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"'{value}' is not a number") from None
    if not result.is_finite():
        raise ValueError(f"'{value}' is not a number")
    return result


def _date(value) -> dt.date | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"'{value}' is not a date (YYYY-MM-DD)") from None


def plan_row_values(row: dict) -> tuple[dict, list[tuple[str, str, str]]]:
    """A contract row → model values, and errors as (field, code, message)."""
    errors: list[tuple[str, str, str]] = []
    unknown = sorted(set(row) - set(PLAN_FIELDS))
    for name in unknown:
        errors.append((name, "unknown_field", f"unknown field; expected one of {', '.join(PLAN_FIELDS)}"))
    for name in REQUIRED:
        if row.get(name) in (None, "", []):
            errors.append((name, "required", "this field is required"))
    if errors:
        return {}, errors
    values: dict = {"code": natural_keys.normalise(str(row["code"]).strip()), "name": str(row["name"]).strip()}
    if (why := natural_keys.problem(values["code"])) is not None:
        errors.append(("code", "invalid_character", why))
    for name, parse in (
        ("valid_from", _date),
        ("valid_to", _date),
        ("threshold", _decimal),
        ("base_rate", _decimal),
        ("draw_amount", _decimal),
        ("draw_recovery_cap_pct", _decimal),
        ("tiers", _tiers),
    ):
        try:
            values[name] = parse(row.get(name))
        except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
            errors.append((name, "invalid", str(exc) or "invalid value"))
    for name, default in (
        ("measure", "revenue"),
        ("basis", "period"),
        ("tier_on", "amount"),
        ("mode", "whole"),
        ("draw_kind", ""),
        ("draw_on_termination", "due"),
    ):
        values[name] = str(row.get(name) or default).strip().lower()
    try:
        cap = _decimal(row.get("cap"))
    except ValueError as exc:
        errors.append(("cap", "invalid", str(exc)))
        cap = None
    values["cap_value"] = cap
    values["cap_kind"] = str(row.get("cap_kind") or ("payout" if cap is not None else "")).strip().lower()
    rules = row.get("family_rules") or []
    if isinstance(rules, str):
        try:
            rules = json.loads(rules, parse_float=str, parse_int=str) if rules.strip() else []
        except json.JSONDecodeError as exc:
            errors.append(("family_rules", "invalid", str(exc)))
            rules = []
    values["family_rules"] = rules
    values["ytd_true_up"] = str(row.get("ytd_true_up") or "").strip().lower() in ("1", "true", "yes")
    if len(values["code"]) > 64:
        errors.append(("code", "too_long", "at most 64 characters"))
    if values.get("valid_to") and values.get("valid_from") and values["valid_to"] < values["valid_from"]:
        errors.append(("valid_to", "before_valid_from", "valid_to is before valid_from"))
    if not errors:
        try:
            plan_from_values(values["code"], values["name"], values)
        except Exception as exc:  # the pure plan says what is inconsistent
            errors.append(("tiers" if "tier" in str(exc) else "plan", "invalid_plan", str(exc)))
    return values, errors


def comp_plans_bulk_upsert(
    *, body: bytes, content_type: str, user, client=None, idempotency_key: str | None = None, path: str = "comp-plans"
) -> IngestOutcome:
    request, replayed = BulkRequest.open(
        resource="comp-plans",
        body=body,
        content_type=content_type,
        user=user,
        client=client,
        idempotency_key=idempotency_key,
        path=path,
        source="api",
    )
    if replayed is not None:
        return replayed
    rows = _rows(body, content_type)
    if len(rows) > settings.API_MAX_BULK_ROWS:
        raise ApplicationError(f"A batch holds at most {settings.API_MAX_BULK_ROWS:,} rows.", code="invalid_columns")
    parsed, errors, seen = [], [], {}
    for index, row in enumerate(rows):
        values, row_errors = plan_row_values(row)
        code = values.get("code")
        if code and code in seen:
            row_errors.append(("code", "duplicate_key", f"duplicate code in this batch (first at row {seen[code]})"))
        elif code:
            seen[code] = index
        errors += [{"row": index, "field": f, "code": c, "message": m} for f, c, m in row_errors]
        parsed.append(values)
    if errors:
        raise request.reject(len(rows), errors)

    def write() -> UpsertCounts:
        created = updated = unchanged = 0
        existing = {p.code: p for p in CompPlan.objects.select_for_update().filter(code__in=list(seen))}
        for values in parsed:
            plan = existing.get(values["code"])
            terms = {name: values[name] for name in TERMS}
            if plan is None:
                plan = CompPlan.objects.create(code=values["code"], **terms)
                created += 1
                audit_record(
                    actor=user, action="compensation.plan_created", target=plan, after={"code": plan.code, "version": 1}
                )
                continue
            before = {name: _comparable(getattr(plan, name)) for name in TERMS}
            after = {name: _comparable(value) for name, value in terms.items()}
            if before == after:
                unchanged += 1
                continue
            for name, value in terms.items():
                setattr(plan, name, value)
            plan.version += 1
            plan.save()
            updated += 1
            changed = sorted(name for name in TERMS if before[name] != after[name])
            audit_record(
                actor=user,
                action="compensation.plan_changed",
                target=plan,
                before={name: before[name] for name in changed},
                after={**{name: after[name] for name in changed}, "version": plan.version},
            )
        return UpsertCounts(created, updated, unchanged)

    return request.apply(len(rows), write)


def _comparable(value):
    """Terms in one canonical form, so an unchanged plan is recognised (and JSON-able for audit)."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [
            {
                k: _comparable(Decimal(v)) if k in ("from", "to", "rate", "multiplier") and v not in ("", None) else v
                for k, v in item.items()
            }
            if isinstance(item, dict)
            else item
            for item in value
        ]
    return value
