"""Bulk-upsert resources of the CRM (contract names are binding), served at
``POST /api/v1/<name>/bulk`` like every resource: JSON or CSV, all-or-nothing, a 400 naming
every bad row and field.

- ``opportunities`` (key ``external_id``): a product (``product_sku``) or a family
  (``family_code``), exactly one; each is placed in the territory that owns its account on the
  expected close date.
- ``feedback-notes`` (key ``external_id``), ``training-modules`` (key ``code``),
  ``training-completions`` (key ``username`` + ``module_code`` + ``completed_on``; without
  ``expires_on`` a completion expires ``valid_months`` after it, or never when the module's
  ``valid_months`` is 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.bulk.cache import cached_by_version
from core.bulk.rules import errors_where
from core.bulk.spec import Field, Ref, ResourceSpec
from core.roles import ROLES
from crm.models import TrainingModule
from territories.models import AccountAssignment
from territories.ownership import OwnershipIndex

ACCOUNT_REF = Ref("account", "account_id", "territories.Account", "external_id")
PRODUCT_REF = Ref("product", "product_id", "inventory.Product", "sku")


_errors_where = errors_where


def _present(values: pd.Series) -> np.ndarray:
    return (values.notna() & (values.astype(str) != "")).to_numpy(dtype=bool)


def opportunity_rules(frame: pd.DataFrame) -> pd.DataFrame:
    probability = pd.to_numeric(frame["probability"], errors="coerce")
    close, delivery = frame["expected_close_date"], frame["requested_delivery_date"]
    return pd.concat(
        [
            _errors_where(
                frame,
                _present(frame["product_sku"]) == _present(frame["family_code"]),
                "product_sku",
                "one_item",
                "give product_sku or family_code (exactly one)",
            ),
            _errors_where(
                frame, probability > 100, "probability", "out_of_range", "a probability is at most 100 (percent)"
            ),
            _errors_where(
                frame,
                (close != "") & (delivery != "") & (delivery < close),
                "requested_delivery_date",
                "before_close_date",
                "requested_delivery_date is before expected_close_date",
            ),
        ],
        ignore_index=True,
    )


def load_ownership() -> dict:
    return cached_by_version("crm:ownership", AccountAssignment, _ownership)


def _ownership() -> dict:
    rows = list(AccountAssignment.objects.values_list("account_id", "valid_from", "valid_to", "territory_id"))
    if not rows:
        return {}
    owners = pd.DataFrame.from_records(rows, columns=["account_id", "valid_from", "valid_to", "territory_id"])
    return {
        "ownership": OwnershipIndex(
            owners["account_id"].to_numpy(dtype="int64"),
            pd.to_datetime(owners["valid_from"]).to_numpy(),
            pd.to_datetime(owners["valid_to"]).to_numpy(),
        ),
        "territory_ids": owners["territory_id"].to_numpy(dtype="int64"),
    }


def territory_on_close_date(frame: pd.DataFrame, context: dict) -> dict[str, pd.Series]:
    owners, territory_ids = context.get("ownership"), context.get("territory_ids")
    if owners is None or territory_ids is None:
        return {"territory_id": pd.Series(pd.NA, index=frame.index, dtype="Int64")}
    found = owners.positions(
        frame["account_external_id"].to_numpy(dtype="int64"),
        frame["expected_close_date"].to_numpy(dtype=object).astype("datetime64[D]"),
    )
    return {
        "territory_id": pd.Series(pd.arrays.IntegerArray(territory_ids[found.clip(0)], found < 0), index=frame.index)
    }


OPPORTUNITIES = ResourceSpec(
    name="opportunities",
    table="crm_opportunity",
    key=("external_id",),
    scope="crm:write",
    description="Deals from the CRM: a product or a family, exactly one; status open, won or lost.",
    fields=(
        Field("external_id", max_length=64),
        Field("account_external_id", ref=ACCOUNT_REF),
        Field("product_sku", required=False, ref=PRODUCT_REF),
        Field("family_code", required=False, ref=Ref("product family", "family_id", "inventory.ProductFamily", "code")),
        Field("quantity", kind="decimal", max_digits=16, decimal_places=3, min_value=0.001),
        Field("amount", kind="decimal", max_digits=16, decimal_places=2, min_value=0),
        Field("expected_close_date", kind="date"),
        Field("requested_delivery_date", kind="date"),
        Field("stage", max_length=64),
        Field("probability", kind="decimal", max_digits=5, decimal_places=2, min_value=0),
        Field("owner_username", ref=Ref("user", "owner_id", "auth.User", "username")),
        Field("status", kind="choice", choices=("open", "won", "lost"), required=False, default="open"),
    ),
    rules=(opportunity_rules,),
    derive=territory_on_close_date,
    derived_columns=("territory_id",),
    load_context=load_ownership,
)

FEEDBACK_NOTES = ResourceSpec(
    name="feedback-notes",
    table="crm_feedbacknote",
    key=("external_id",),
    scope="crm:write",
    description="What customers said: per account and (optionally) product.",
    fields=(
        Field("external_id", max_length=64),
        Field("account_external_id", ref=ACCOUNT_REF),
        Field("product_sku", required=False, ref=PRODUCT_REF),
        Field("category", kind="choice", choices=("quality", "price", "delivery", "demand_signal", "other")),
        Field(
            "sentiment", kind="choice", choices=("positive", "neutral", "negative"), required=False, default="neutral"
        ),
        Field("text", max_length=4000),
        Field("author_username", ref=Ref("user", "author_id", "auth.User", "username")),
        Field("noted_on", kind="date"),
    ),
)


def roles_rule(frame: pd.DataFrame) -> pd.DataFrame:
    bad = [
        any(part.strip() not in ROLES for part in str(v).split(";") if part.strip())
        for v in frame["required_for_roles"]
    ]
    return _errors_where(frame, bad, "required_for_roles", "unknown_role", f"each role is one of: {', '.join(ROLES)}")


TRAINING_MODULES = ResourceSpec(
    name="training-modules",
    table="crm_trainingmodule",
    key=("code",),
    scope="crm:write",
    description="Training modules; required_for_roles is a list of role codes; valid_months 0 = never expires.",
    fields=(
        Field("code", max_length=64),
        Field("name", max_length=200),
        Field("required_for_roles", kind="list", required=False),
        Field("valid_months", kind="int", min_value=0, required=False, default="0"),
    ),
    rules=(roles_rule,),
)


def completion_rules(frame: pd.DataFrame) -> pd.DataFrame:
    expires, done = frame["expires_on"], frame["completed_on"]
    return _errors_where(
        frame,
        (expires != "") & (done != "") & (expires < done),
        "expires_on",
        "before_completed_on",
        "expires_on is before completed_on",
    )


def load_module_validity() -> dict:
    return {"valid_months": dict(TrainingModule.objects.values_list("pk", "valid_months"))}


def expiry_from_module(frame: pd.DataFrame, context: dict) -> dict[str, pd.Series]:
    months = frame["module_code"].map(context.get("valid_months", {})).fillna(0).astype(int)
    done = pd.to_datetime(frame["completed_on"])
    computed = [
        (d + pd.DateOffset(months=int(m))).date().isoformat() if m > 0 else ""
        for d, m in zip(done, months, strict=True)
    ]
    given = frame["expires_on"].astype(str)
    return {"expires_on": given.where(given != "", pd.Series(computed, index=frame.index))}


TRAINING_COMPLETIONS = ResourceSpec(
    name="training-completions",
    table="crm_trainingcompletion",
    key=("username", "module_code", "completed_on"),
    scope="crm:write",
    description="Completions per rep (from an LMS); without expires_on the module's valid_months decide.",
    fields=(
        Field("username", ref=Ref("user", "user_id", "auth.User", "username")),
        Field("module_code", ref=Ref("training module", "module_id", "crm.TrainingModule", "code")),
        Field("completed_on", kind="date"),
        Field("expires_on", kind="date", required=False),
    ),
    rules=(completion_rules,),
    derive=expiry_from_module,
    load_context=load_module_validity,
)
