"""Natural keys as people read them: Unicode-normalised, with no invisible characters (pure).

Two keys that look the same must be the same key. ``"Zürich"`` typed on one system is one
code point (NFC, U+00FC) and on another two (NFD, ``u`` + U+0308): both are stored as NFC.
Characters that are invisible or change how text is displayed — controls (tab, newline, NUL),
zero-width spaces and joiners, soft hyphens, bidirectional overrides (``ABC`` + U+202E + ``123``
displays as ``ABC321``) — make two different keys look alike (or one key look like another), so a
key holding one is refused, naming it.

The refused set is Unicode's categories Cc (controls), Cf (format: zero-width, bidi,
soft hyphen, BOM, …), Zl and Zp (line and paragraph separators), as listed in
``FORBIDDEN_RANGES`` (tested against Python's Unicode database). Used by the bulk paths
(``core.bulk.validation`` and ``core.bulk.columnar``) and the single-row create services.
"""

from __future__ import annotations

import re
import unicodedata

from core.errors import ApplicationError

FORBIDDEN_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


def _python_class(ranges: tuple[tuple[int, int], ...]) -> str:
    return (
        "["
        + "".join(re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" for lo, hi in ranges)
        + "]"
    )


FORBIDDEN_RE = re.compile(_python_class(FORBIDDEN_RANGES))
# Without U+001F, the separator ``core.bulk.validation`` joins a column's cells with (a cell
# holding it takes the exact path anyway, where FORBIDDEN_RE applies).
FORBIDDEN_IN_JOINED_RE = re.compile(_python_class(((0x00, 0x1E), *FORBIDDEN_RANGES[1:])))
# The same class in RE2 syntax, for Arrow's ``match_substring_regex``.
FORBIDDEN_RE2 = (
    "[" + "".join(f"\\x{{{lo:X}}}" if lo == hi else f"\\x{{{lo:X}}}-\\x{{{hi:X}}}" for lo, hi in FORBIDDEN_RANGES) + "]"
)

NAMES = {
    0x09: "a tab",
    0x0A: "a line break",
    0x0D: "a carriage return",
    0x00: "a NUL character",
    0x200B: "a zero-width space",
    0x200C: "a zero-width non-joiner",
    0x200D: "a zero-width joiner",
    0x2060: "a word joiner",
    0xFEFF: "a zero-width no-break space (BOM)",
    0x00AD: "a soft hyphen",
    0x202E: "a right-to-left override",
    0x202D: "a left-to-right override",
}


def normalise(text: str) -> str:
    """The key in Unicode normal form C (ASCII text is returned as it is)."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def problem(text: str) -> str | None:
    """Why ``text`` cannot be a key (the first invisible character it holds), or None."""
    found = FORBIDDEN_RE.search(text)
    if found is None:
        return None
    code = ord(found.group())
    kind = NAMES.get(code)
    if kind is None:
        category = unicodedata.category(found.group())
        kind = {"Cc": "a control character", "Cf": "an invisible formatting character"}.get(
            category, "a line or paragraph separator"
        )
    return (
        f"contains {kind} (U+{code:04X}) at position {found.start() + 1}: keys may hold no control, "
        "zero-width or bidirectional-override characters"
    )


def cleaned(value: str, *, field: str) -> str:
    """A key typed into a form or sent alone: trimmed and in NFC; an ``ApplicationError``
    naming the character when it holds an invisible one."""
    text = normalise(value.strip())
    why = problem(text)
    if why is not None:
        raise ApplicationError(f"The {field} {why}.", code="invalid_character", details={"field": field})
    return text
