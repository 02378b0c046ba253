"""Reading a bulk body: refused by size before it is read, and by row count while it streams
in, before anything parses it (pure: numpy only, no Django).

A 200 MB CSV used to be read whole, parsed into pandas and only then refused for having more
than 100,000 rows, growing a worker by a gigabyte. Here :func:`read_body` refuses a body whose
``Content-Length`` is over the limit without reading a byte (413), and counts rows chunk by
chunk as it reads: the first row past the limit stops the read (400). Nothing is parsed
before the whole body is known to fit.

Counting is vectorised per 1 MiB chunk, with a little state carried across chunks:

* CSV: records end at line breaks outside double quotes (RFC 4180: a quote inside a quoted
  cell is doubled, so the parity of quotes before a line break tells whether it is inside a
  cell). Blank lines are not rows (the readers skip them); the header is not a row.
* JSON: rows are the objects one level inside the top-level array; structure characters
  inside strings (quotes not escaped by an odd run of backslashes) do not count. This exact
  scan only starts once the body holds more ``{`` than the row limit (until then it cannot
  hold too many rows); it also measures nesting, which is how operation bodies
  (``core.api.parsers``) refuse JSON nested deeper than ``MAX_JSON_DEPTH`` before
  ``json.loads`` could recurse on it.

The counts are exact for well-formed bodies; a malformed one may be counted a little off,
and is then refused by the parser that reads it, which also checks the row count again.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from core.errors import ApplicationError

CHUNK = 1 << 20
MAX_JSON_DEPTH = 32  # a bulk row is depth 2 ([{...}]), a list in a cell 3

_QUOTE, _BACKSLASH, _LF, _CR = 0x22, 0x5C, 0x0A, 0x0D
_JSON_OPEN = np.zeros(256, dtype=np.int8)
_JSON_OPEN[[ord("{"), ord("[")]] = 1
_JSON_OPEN[[ord("}"), ord("]")]] = -1
_JSON_STRUCTURE = _JSON_OPEN != 0


class Readable(Protocol):
    def read(self, size: int = ...) -> bytes: ...


def too_large(size: int, limit: int) -> ApplicationError:
    return ApplicationError(
        f"The body is {size:,} bytes; a request holds at most {limit:,} bytes ({limit / 2**20:g} MiB). "
        "Split the batch into smaller requests.",
        code="payload_too_large",
        status=413,
        details={"max_bytes": limit, "content_length": size},
    )


def too_many_rows(limit: int) -> ApplicationError:
    return ApplicationError(
        f"A batch holds at most {limit:,} rows; this one has more (refused at row {limit + 1:,}, before the "
        "rest was read). Split the batch into smaller requests.",
        code="too_many_rows",
        details={"max_rows": limit},
    )


def too_deep(limit: int | None) -> ApplicationError:
    """400 for JSON nested deeper than ``limit`` levels (None: deeper than the decoder can go)."""
    depth = f"more than {limit} levels deep" if limit is not None else "too deeply to be read"
    return ApplicationError(
        f"The JSON body is nested {depth}; a request body is an object, or for bulk an array, of flat objects.",
        code="too_deeply_nested",
        details={"max_depth": limit},
    )


class CsvRowCounter:
    """Counts the data rows of a CSV body fed in chunks (header and blank lines excluded)."""

    def __init__(self, max_rows: int):
        self.max_rows = max_rows
        self.records = 0  # non-blank records, the header included
        self.offset = 0  # bytes fed so far
        self.in_quotes = False
        self.last_end = -1  # offset of the last record-ending line feed
        self.last_byte = -1
        self.tail_filled = False  # bytes other than CR/LF since the last record end

    def feed(self, chunk: bytes) -> None:
        data = np.frombuffer(chunk, dtype=np.uint8)
        ends = np.flatnonzero(data == _LF)
        quotes = np.flatnonzero(data == _QUOTE)
        if len(quotes) or self.in_quotes:
            inside = (np.searchsorted(quotes, ends) + self.in_quotes) % 2 == 1
            ends = ends[~inside]
            self.in_quotes = bool((len(quotes) + self.in_quotes) % 2)
        if len(ends):
            starts = np.concatenate(([self.last_end], ends[:-1] + self.offset))
            lengths = ends + self.offset - starts - 1
            before = np.where(ends > 0, data[np.maximum(ends - 1, 0)], self.last_byte)
            blank = (lengths == 0) | ((lengths == 1) & (before == _CR))
            self.records += int(len(ends) - blank.sum())
            self.last_end = int(ends[-1]) + self.offset
        rest = data[int(ends[-1]) + 1 :] if len(ends) else data
        if len(ends):
            self.tail_filled = bool(((rest != _CR) & (rest != _LF)).any())
        elif not self.tail_filled:
            self.tail_filled = bool(((rest != _CR) & (rest != _LF)).any())
        self.offset += len(data)
        if len(data):
            self.last_byte = int(data[-1])
        if self.rows > self.max_rows:
            raise too_many_rows(self.max_rows)

    @property
    def rows(self) -> int:
        return max(self.records + int(self.tail_filled) - 1, 0)

    def close(self) -> int:
        if self.rows > self.max_rows:
            raise too_many_rows(self.max_rows)
        return self.rows


class JsonRowCounter:
    """Counts the objects inside a top-level JSON array fed in chunks, and its nesting.

    ``lazy``: while the body holds no more ``{`` than ``max_rows`` it cannot hold too many
    rows, so chunks are only counted with ``bytes.count`` (a memchr pass) and kept; the
    exact scan (strings, depth) starts, from the first chunk, once that bound is passed. A
    lazy counter does not measure depth: the reader's ``json.loads`` refuses deep nesting
    itself (``core.bulk.service.parse_json_rows``)."""

    def __init__(self, max_rows: int, max_depth: int = MAX_JSON_DEPTH, *, lazy: bool = False):
        self.max_rows, self.max_depth = max_rows, max_depth
        self.lazy, self.braces, self.pending = lazy, 0, []
        self.rows = 0
        self.depth = 0
        self.max_seen = 0
        self.in_string = False
        self.root: int | None = None  # the first structure character: ord("[") for an array
        self.held = b""  # backslashes at the end of the last chunk (they may escape a quote)

    def feed(self, chunk: bytes) -> None:
        if self.lazy:
            self.braces += chunk.count(b"{")
            self.pending.append(chunk)
            if self.braces <= self.max_rows:
                return
            self.lazy, pending, self.pending = False, self.pending, []
            for earlier in pending:
                self._scan(earlier)
            return
        self._scan(chunk)

    def _scan(self, chunk: bytes) -> None:
        if self.held:
            chunk, self.held = self.held + chunk, b""
        trailing = len(chunk) - len(chunk.rstrip(b"\\"))
        if trailing:
            chunk, self.held = chunk[:-trailing], chunk[-trailing:]
        data = np.frombuffer(chunk, dtype=np.uint8)
        quotes = np.flatnonzero(data == _QUOTE)
        if len(quotes) and _BACKSLASH in data:
            quotes = quotes[~_escaped(data, quotes)]
        marks = np.flatnonzero(_JSON_STRUCTURE[data])
        if len(marks):
            outside = (np.searchsorted(quotes, marks) + self.in_string) % 2 == 0
            marks = marks[outside]
        self.in_string = bool((len(quotes) + self.in_string) % 2)
        if not len(marks):
            return
        steps = _JSON_OPEN[data[marks]].astype(np.int64)
        depth = self.depth + np.cumsum(steps)
        if self.root is None:
            self.root = int(data[marks[0]])
        self.max_seen = max(self.max_seen, int(depth.max()))
        if self.max_seen > self.max_depth:
            raise too_deep(self.max_depth)
        if self.root == ord("["):
            self.rows += int(((depth == 2) & (data[marks] == ord("{"))).sum())
        self.depth = int(depth[-1])
        if self.rows > self.max_rows:
            raise too_many_rows(self.max_rows)

    def close(self) -> int:
        return self.rows


def _escaped(data: np.ndarray, quotes: np.ndarray) -> np.ndarray:
    """For each quote position, True when an odd run of backslashes precedes it."""
    backslashes = np.flatnonzero(data == _BACKSLASH)
    run_start = np.ones(len(backslashes), dtype=bool)
    run_start[1:] = np.diff(backslashes) != 1
    starts = backslashes[run_start]
    ends = np.append(backslashes[np.flatnonzero(run_start)[1:] - 1], backslashes[-1]) + 1  # one past each run
    escaped_quote = ends[((ends - starts) % 2 == 1) & (ends < len(data))]
    escaped_quote = escaped_quote[data[escaped_quote] == _QUOTE]
    return np.isin(quotes, escaped_quote)


def read_body(stream: Readable, *, content_length: int | None, kind: str, max_bytes: int, max_rows: int) -> bytes:
    """The body of ``stream`` (``kind`` "csv" or "json"; anything else is not counted), read in
    chunks; :func:`too_large` (413) before reading when ``content_length`` is over
    ``max_bytes``, :func:`too_many_rows` / :func:`too_deep` (400) as soon as a chunk shows it."""
    if content_length is not None and content_length > max_bytes:
        raise too_large(content_length, max_bytes)
    counter = (
        CsvRowCounter(max_rows) if kind == "csv" else JsonRowCounter(max_rows, lazy=True) if kind == "json" else None
    )
    parts, size = [], 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise too_large(size, max_bytes)
        if counter is not None:
            counter.feed(chunk)
        parts.append(chunk)
    if counter is not None:
        counter.close()
    return b"".join(parts)
