"""Which column names a delivery header or the registry may use.

A name becomes a warehouse column, so it reaches SQL (always quoted, see
`dl_platform.resources.sql`). Quotes, control characters (a NUL, tab or line break inside a
header), blank names and names longer than any real header are refused outright: no real
supplier column needs them, and each has been the mark of a corrupt file or an attempt to
run SQL from a header. The rule is strict on purpose; spaces, accents and punctuation such as
`-`, `/` or `(` stay legal because real NHS extracts use them.

This module imports nothing heavy so the registry can use it at parse time.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_LENGTH = 128
QUOTE_CHARACTERS = ('"', "'", "`")
# Unicode control characters (Cc: NUL, tab, CR, LF, ...), surrogates and line/paragraph separators.
_REFUSED_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}
_SHOWN_LENGTH = 40


def column_name_problem(name: object) -> str | None:
    """Why `name` cannot be a column name, or None when it can.

    Args:
        name: a header cell or a registry value.

    Returns:
        A short reason ("contains a quote character", ...) or None.
    """
    if not isinstance(name, str):
        return "is not text"
    if not name.strip():
        return "is empty or blank"
    if any(q in name for q in QUOTE_CHARACTERS):
        return "contains a quote character (\", ' or `)"
    if any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in name):
        return "contains a control character (NUL, tab, line break or similar)"
    if len(name) > MAX_NAME_LENGTH:
        return f"is {len(name)} characters long (at most {MAX_NAME_LENGTH})"
    return None


def shown_name(name: object) -> str:
    """A name as it may appear in a message: escaped by repr, long names shortened."""
    text = str(name)
    if len(text) > _SHOWN_LENGTH:
        return repr(text[:_SHOWN_LENGTH]) + f"… ({len(text)} characters)"
    return repr(text)
