"""COPY text built column by column: NULLs, escapes, ids and decimals (no db)."""

import numpy as np
import pandas as pd
import pytest

from core.bulk.writer import _copy_text


def test_copy_text_escapes_text_and_writes_nulls_ids_and_exact_decimals():
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "amount": [1.5, np.nan, 1e-05],  # floats from services: shortest exact text
            "ref": [1.0, np.nan, 3.0],  # ids with blanks come as floats
            "owner": pd.array([1, None, 3], dtype="Int64"),
            "name": ["x\ty\\z", "", None],  # text: "" stays an empty string
            "qty": ["1.5", "", None],  # validated text of a number: "" is NULL
        }
    )
    assert _copy_text(frame, {"name"}).splitlines() == [
        "1\t1.5\t1\t1\tx\\ty\\\\z\t1.5",
        "2\t\\N\t\\N\t\\N\t\t\\N",
        "3\t1e-05\t3\t3\t\t\\N",
    ]


def test_a_batch_meeting_existing_keys_falls_back_to_the_upsert_and_writes_each_row_once(api):
    from django.db import connection

    from core.bulk import writer
    from inventory.models import ProductFamily

    if connection.vendor != "postgresql":
        pytest.skip("the direct COPY of new keys is the PostgreSQL path")
    table = ProductFamily._meta.db_table
    writer._recent_conflict.pop(table, None)
    first = api.post("/api/v1/product-families/bulk", data=b"code,name\nPMP,Pumps\n", content_type="text/csv")
    assert first.json()["created"] == 1
    assert table not in writer._recent_conflict  # all new: straight COPY

    # PMP exists: the direct COPY aborts at its savepoint, the upsert writes both rows once.
    again = api.post(
        "/api/v1/product-families/bulk", data=b"code,name\nVLV,Valves\nPMP,Pumps & motors\n", content_type="text/csv"
    )
    assert again.status_code == 200, again.json()
    assert (again.json()["created"], again.json()["updated"]) == (1, 1)
    assert dict(ProductFamily.objects.values_list("code", "name")) == {"PMP": "Pumps & motors", "VLV": "Valves"}
    assert writer._recent_conflict.get(table)  # the next batch goes straight to the upsert

    third = api.post("/api/v1/product-families/bulk", data=b"code,name\nMTR,Motors\n", content_type="text/csv")
    assert (third.json()["created"], third.json()["updated"]) == (1, 0)
    assert table not in writer._recent_conflict  # all new again: back to the direct COPY
    assert ProductFamily.objects.count() == 3


@pytest.mark.parametrize("values", [[0, 5, 3, 5], [10**7, 2], [-3, 4], [], [70_000, 1, 69_999]])
def test_ids_as_text_match_str_whatever_the_range(values):
    from core.bulk.writer import _ints_as_text

    assert _ints_as_text(np.array(values, dtype="int64")).tolist() == [str(v) for v in values]
