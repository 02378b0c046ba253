"""COPY text built column by column: NULLs, escapes, ids and decimals (no db)."""

import numpy as np
import pandas as pd

from core.bulk.writer import _copy_text


def test_copy_text_escapes_text_and_writes_nulls_ids_and_exact_decimals():
    frame = pd.DataFrame({
        "id": [1, 2, 3],
        "amount": [1.5, np.nan, 1e-05],  # floats from services: shortest exact text
        "ref": [1.0, np.nan, 3.0],  # ids with blanks come as floats
        "owner": pd.array([1, None, 3], dtype="Int64"),
        "name": ["x\ty\\z", "", None],  # text: "" stays an empty string
        "qty": ["1.5", "", None],  # validated text of a number: "" is NULL
    })
    assert _copy_text(frame, {"name"}).splitlines() == [
        "1\t1.5\t1\t1\tx\\ty\\\\z\t1.5",
        "2\t\\N\t\\N\t\\N\t\t\\N",
        "3\t1e-05\t3\t3\t\t\\N",
    ]
