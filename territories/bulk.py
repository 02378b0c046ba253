"""Bulk-upsert resources of the territories app (ERP contract: names are binding)."""

from core.bulk.spec import Field, ResourceSpec

ACCOUNTS = ResourceSpec(
    name="accounts", table="territories_account", key=("external_id",), scope="master:write",
    fields=(
        Field("external_id", max_length=64),
        Field("name", max_length=200),
        Field("industry", max_length=100, required=False),
        Field("country", max_length=64, required=False),
        Field("region", max_length=100, required=False),
        Field("state", max_length=100, required=False),
        Field("city", max_length=100, required=False),
        Field("postal_code", max_length=20, required=False),
    ),
)
