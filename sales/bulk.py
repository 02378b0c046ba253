"""Bulk-upsert resource for sales history (ERP contract: names are binding).

Returns may arrive with a positive or a negative quantity: they are stored negative (the
returned quantity and amount reduce demand and credit). Every other status needs a positive
quantity. Each line is credited to the territory that owned its account on the order date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.bulk.cache import cached_by_version
from core.bulk.columnar import as_numbers, dates_in_order, negated
from core.bulk.spec import Field, Ref, ReferenceGuard, ResourceSpec
from core.bulk.validation import ERROR_COLUMNS
from sales.db_guards import SALES_REFERENCES_LOCK
from territories.models import AccountAssignment
from territories.ownership import OwnershipIndex

STATUSES = ("booked", "shipped", "invoiced", "returned", "cancelled")


def _numbers(values: pd.Series) -> np.ndarray:
    """Validated decimal text as floats (sign and zero are exact); NaN where not a number."""
    try:
        return values.to_numpy(dtype=object).astype("float64")
    except (TypeError, ValueError):  # the batch has bad cells (reported by the validator)
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")


def sign_and_dates_rule(frame: pd.DataFrame) -> pd.DataFrame:
    errors = []
    quantity = _numbers(frame["quantity"])
    amount = _numbers(frame["net_amount"])
    returned = (frame["status"] == "returned").to_numpy()
    bad_qty = ~returned & (quantity <= 0)
    if bad_qty.any():
        errors.append(
            pd.DataFrame(
                {
                    "row": frame.index[bad_qty],
                    "field": "quantity",
                    "code": "invalid_sign",
                    "message": "must be positive unless status is 'returned'",
                }
            )
        )
    bad_amount = ~returned & (amount < 0)
    if bad_amount.any():
        errors.append(
            pd.DataFrame(
                {
                    "row": frame.index[bad_amount],
                    "field": "net_amount",
                    "code": "invalid_sign",
                    "message": "must not be negative unless status is 'returned'",
                }
            )
        )
    zero_return = returned & (quantity == 0)
    if zero_return.any():
        errors.append(
            pd.DataFrame(
                {
                    "row": frame.index[zero_return],
                    "field": "quantity",
                    "code": "invalid_sign",
                    "message": "a returned line needs a non-zero quantity",
                }
            )
        )
    ship = frame["ship_date"].to_numpy(dtype=object)
    order = frame["order_date"].to_numpy(dtype=object)
    early = (ship != "") & (order != "") & (ship < order)  # ISO dates compare as text
    if early.any():
        errors.append(
            pd.DataFrame(
                {
                    "row": frame.index[early],
                    "field": "ship_date",
                    "code": "before_order_date",
                    "message": "ship_date is before order_date",
                }
            )
        )
    return pd.concat(errors, ignore_index=True) if errors else pd.DataFrame(columns=ERROR_COLUMNS)


def _negative(values: pd.Series, returned: np.ndarray) -> pd.Series:
    """Returned lines' numbers stored negative, whatever sign they were sent with."""
    if not returned.any():
        return values
    out = np.array(values.to_numpy(dtype=object), dtype=object, copy=True)
    out[returned] = ["0" if v.lstrip("-") == "0" else "-" + v.lstrip("-") for v in out[returned]]
    return pd.Series(out, index=values.index, dtype=object, copy=False)


def _owner_territories(context: dict, accounts: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Territory id owning each account on each day, and where no one owned it."""
    owners: OwnershipIndex | None = context.get("ownership")
    territory_ids = context.get("territory_ids")
    if owners is None or territory_ids is None or not len(days):
        return np.zeros(len(days), dtype="int64"), np.ones(len(days), dtype=bool)
    found = owners.positions(accounts, days)
    return territory_ids[found.clip(0)], found < 0


def territory_on_order_date(frame: pd.DataFrame, context: dict) -> dict[str, pd.Series]:
    """Store returns negative; find the account's owner on each order date (vectorised)."""
    returned = (frame["status"] == "returned").to_numpy()
    ids, nobody = _owner_territories(
        context,
        frame["account_external_id"].to_numpy(dtype="int64"),
        frame["order_date"].to_numpy(dtype=object).astype("datetime64[D]"),
    )
    return {
        "quantity": _negative(frame["quantity"], returned),
        "net_amount": _negative(frame["net_amount"], returned),
        "territory_id": pd.Series(pd.arrays.IntegerArray(ids, nobody), index=frame.index),
    }


def sign_and_dates_proof(values: dict) -> bool:
    """``sign_and_dates_rule`` over Arrow columns: True when no row breaks it."""
    quantity, amount = as_numbers(values["quantity"]), as_numbers(values["net_amount"])
    returned = pc.equal(values["status"], "returned").to_numpy(zero_copy_only=False)
    if (~returned & (quantity <= 0)).any() or (~returned & (amount < 0)).any() or (returned & (quantity == 0)).any():
        return False
    return dates_in_order("order_date", "ship_date")(values)


def territory_on_order_date_columnar(values: dict, context: dict) -> dict:
    """``territory_on_order_date`` over Arrow columns (the columnar path)."""
    returned = pc.equal(values["status"], "returned").to_numpy(zero_copy_only=False)
    ids, nobody = _owner_territories(
        context,
        values["account_external_id"].to_numpy(zero_copy_only=False),
        pc.cast(values["order_date"], pa.date32()).to_numpy(zero_copy_only=False),
    )
    return {
        "quantity": negated(values["quantity"], returned),
        "net_amount": negated(values["net_amount"], returned),
        "territory_id": pa.array(ids, pa.int64(), mask=nobody),
    }


def load_ownership() -> dict:
    return cached_by_version("sales-lines:ownership", AccountAssignment, _ownership)


def _ownership() -> dict:
    """Every account's ownership history, indexed for look-ups by (account id, order date)."""
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


SALES_LINES = ResourceSpec(
    name="sales-lines",
    table="sop_salesorderline",
    key=("external_id",),
    scope="sales:write",
    fields=(
        Field("external_id", max_length=64),
        Field("order_date", kind="date"),
        Field("ship_date", kind="date", required=False),
        Field("account_external_id", ref=Ref("account", "account_id", "territories.Account", "external_id")),
        Field("product_sku", ref=Ref("product", "product_id", "inventory.Product", "sku")),
        Field("quantity", kind="decimal", max_digits=16, decimal_places=3),
        Field("net_amount", kind="decimal", max_digits=16, decimal_places=2),
        Field("status", kind="choice", choices=STATUSES),
        Field("opportunity_external_id", max_length=64, required=False),
    ),
    rules=(sign_and_dates_rule,),
    derive=territory_on_order_date,
    fast_rules=(sign_and_dates_proof,),
    fast_derive=territory_on_order_date_columnar,
    derived_columns=("territory_id",),
    load_context=load_ownership,
    reference_guard=ReferenceGuard(
        SALES_REFERENCES_LOCK,
        (
            ("product_id", "inventory_product"),
            ("account_id", "territories_account"),
            ("territory_id", "territories_territory"),
        ),
    ),
)
