"""The name a document is known by, from a name a user or a browser gave: no folders it did not mean,
no control characters, and short enough to store and show (the extension kept, it says the format)."""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath

MAX_SOURCE_CHARS = 200
_MAX_SUFFIX_CHARS = 16


def clean_source(name: str, *, keep_folders: bool = False) -> str:
    """``name`` without control or invisible formatting characters (NUL, newlines, bidi overrides),
    ``.`` and ``..`` parts and, unless ``keep_folders`` (a folder ingested from the command line), any
    folder; cut to ``MAX_SOURCE_CHARS`` keeping its extension. May be empty (then refused as a name
    without a type)."""
    visible = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C")
    parts = [p.strip() for p in visible.replace("\\", "/").split("/")]
    parts = [p for p in parts if p not in {"", ".", ".."}]
    cleaned = "/".join(parts if keep_folders else parts[-1:])
    if len(cleaned) <= MAX_SOURCE_CHARS:
        return cleaned
    suffix = PurePosixPath(cleaned).suffix
    suffix = suffix if len(suffix) <= _MAX_SUFFIX_CHARS else ""
    return cleaned[: MAX_SOURCE_CHARS - len(suffix)].rstrip(" .") + suffix
