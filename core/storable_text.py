"""Text PostgreSQL can store: no NUL character and no lone UTF-16 surrogate.

A ``text`` column (and a query parameter compared with one) refuses ``\\x00``, and a lone surrogate
cannot be encoded as UTF-8: either fails the statement, which a caller would see as a 500. People's
input with one is refused at the web edge, naming the field (``web.text_guard``); providers' payloads
(Telegram, WhatsApp) have them removed instead, so that a customer's message is never refused.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNCHECKED_TEXT = "unchecked_text"
"""A route handler's ``opt`` key: the web edge does not refuse its input, the handler cleans it
(``storable_json``). Channels' webhooks carry it."""


def unstorable_reason(text: str) -> str | None:
    """Why PostgreSQL cannot store this text; None when it can."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain the NUL character (\\u0000)"
    return "must not contain a lone UTF-16 surrogate"


def first_unstorable(value: Any, where: str = "") -> tuple[str, str] | None:
    """The first string in decoded JSON (keys too) that PostgreSQL cannot store: its field, as
    ``items[0].name``, and why. ``where`` names the value itself (``body`` when empty)."""
    if isinstance(value, str):
        reason = unstorable_reason(value)
        return (where or "body", reason) if reason else None
    if isinstance(value, dict):
        for key, item in value.items():
            field = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and (reason := unstorable_reason(key)):
                return field, f"the field's name {reason}"
            if found := first_unstorable(item, field):
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            if found := first_unstorable(item, f"{where or 'body'}[{index}]"):
                return found
    return None


def strip_unstorable(value: Any) -> Any:
    """The same decoded JSON with every NUL and lone surrogate removed from its strings."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("", value)
    if isinstance(value, dict):
        return {strip_unstorable(k): strip_unstorable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_unstorable(item) for item in value]
    return value


def storable_json(body: bytes) -> bytes:
    """A provider's JSON body without what PostgreSQL cannot store. Both can only come in as ``\\u``
    escapes (raw, they are not valid JSON), so a body without any is returned as it is, and so is one
    that is not JSON (its parser says why)."""
    if b"\\u" not in body:
        return body
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return body
    if first_unstorable(decoded) is None:
        return body
    return msgspec.json.encode(strip_unstorable(decoded))
