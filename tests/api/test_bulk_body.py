"""The streaming body reader (core.bulk.body) counts rows exactly as the parsers read them,
whatever the chunking, and refuses a body before reading it all. No db."""

import csv
import io
import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.bulk import body as bulk_body
from core.errors import ApplicationError

CELL = st.text(alphabet=st.sampled_from(list('ab,"\n\r\\{}[] é')), max_size=6)
ROWS = st.lists(st.lists(CELL, min_size=2, max_size=2), max_size=25)


def chunked(data: bytes, sizes: list[int]):
    start, i = 0, 0
    while start < len(data):
        size = sizes[i % len(sizes)] if sizes else len(data)
        yield data[start : start + size]
        start, i = start + size, i + 1


def count_csv(data: bytes, sizes: list[int]) -> int:
    counter = bulk_body.CsvRowCounter(max_rows=10**9)
    for chunk in chunked(data, sizes):
        counter.feed(chunk)
    return counter.close()


def count_json(data: bytes, sizes: list[int]) -> bulk_body.JsonRowCounter:
    counter = bulk_body.JsonRowCounter(max_rows=10**9, max_depth=10**9)
    for chunk in chunked(data, sizes):
        counter.feed(chunk)
    return counter


def pandas_rows(data: bytes) -> int:
    try:
        return len(pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_filter=False))
    except pd.errors.EmptyDataError:
        return 0


@settings(max_examples=300, derandomize=True, deadline=None)
@given(rows=ROWS, sizes=st.lists(st.integers(1, 9), max_size=4), crlf=st.booleans())
def test_csv_rows_are_counted_as_pandas_reads_them_whatever_the_chunks(rows, sizes, crlf):
    buffer = io.StringIO()
    # a lone CR is a line break to pandas: quote it (QUOTE_MINIMAL quotes only the terminator's characters)
    writer = (
        csv.writer(buffer, lineterminator="\r\n")
        if crlf
        else csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    )
    writer.writerows([["code", "name"], *rows])
    data = buffer.getvalue().encode()
    expected = pandas_rows(data)
    assert count_csv(data, sizes) == expected


@pytest.mark.parametrize(
    ("data", "rows"),
    [
        (b"", 0),
        (b"code,name", 0),
        (b"code,name\n", 0),
        (b"code,name\nA,1", 1),
        (b"code,name\nA,1\n\n\nB,2\n", 2),
        (b"code,name\r\nA,1\r\n\r\nB,2", 2),
        (b'code,name\nA,"x\n\ny"\nB,2\n', 2),
        (b'\xef\xbb\xbfcode,name\nA,"q""\n"\n', 1),
    ],
)
def test_csv_edge_cases(data, rows):
    for sizes in ([], [1], [2, 3]):
        assert count_csv(data, sizes) == rows


JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | CELL,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(CELL, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    rows=st.lists(st.dictionaries(CELL, JSON_VALUE, max_size=4), max_size=20),
    sizes=st.lists(st.integers(1, 9), max_size=4),
    ascii_only=st.booleans(),
)
def test_json_rows_and_depth_are_counted_whatever_the_strings_and_chunks(rows, sizes, ascii_only):
    data = json.dumps(rows, ensure_ascii=ascii_only).encode()
    counter = count_json(data, sizes)
    assert counter.rows == len(rows)
    assert counter.max_seen == _depth(rows)


def _depth(value) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


def test_escaped_quotes_and_backslashes_across_chunk_ends():
    data = json.dumps([{"a": 'x\\"}{['}, {"b": "\\\\"}, {"c": '\\\\\\"]'}]).encode()
    for size in range(1, 12):
        counter = count_json(data, [size])
        assert (counter.rows, counter.max_seen) == (3, 2), size


def test_a_body_over_the_size_limit_is_refused_before_a_byte_is_read():
    stream = io.BytesIO(b"x" * 100)
    with pytest.raises(ApplicationError) as refused:
        bulk_body.read_body(stream, content_length=100, kind="csv", max_bytes=99, max_rows=10)
    assert refused.value.status_code == 413 and stream.tell() == 0


def test_a_body_with_too_many_rows_is_refused_before_the_rest_is_read(monkeypatch):
    monkeypatch.setattr(bulk_body, "CHUNK", 1000)
    data = b"code,name\n" + b"".join(b"R%06d,row\n" % i for i in range(100_000))  # 1.1 MB
    stream = io.BytesIO(data)
    with pytest.raises(ApplicationError) as refused:
        bulk_body.read_body(stream, content_length=len(data), kind="csv", max_bytes=10**9, max_rows=50)
    assert refused.value.code == "too_many_rows"
    assert stream.tell() <= 2000  # the first chunks only


def test_deep_json_is_refused_without_recursion():
    counter = bulk_body.JsonRowCounter(max_rows=10)
    with pytest.raises(ApplicationError) as refused:
        counter.feed(b"[" * 100_000)
    assert refused.value.code == "too_deeply_nested"


def test_a_lazy_counter_scans_exactly_once_the_braces_pass_the_limit():
    rows = [{"name": "{}" * 3} for _ in range(8)]  # 32 braces inside strings, 8 rows
    data = json.dumps(rows).encode()
    counter = bulk_body.JsonRowCounter(max_rows=8, lazy=True)
    for chunk in chunked(data, [5]):
        counter.feed(chunk)
    assert counter.rows == 8 and not counter.lazy  # the exact scan took over, and counted right
    with pytest.raises(ApplicationError) as refused:
        bulk_body.read_body(
            io.BytesIO(json.dumps(rows * 2).encode()), content_length=None, kind="json", max_bytes=10**6, max_rows=15
        )
    assert refused.value.code == "too_many_rows"
