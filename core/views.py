"""Wire views of stored rows: a view's fields read off the row by name, in the API's conventions."""

from __future__ import annotations

import datetime
import uuid
from typing import TypeVar

import msgspec

View = TypeVar("View", bound=msgspec.Struct)


_TEXT: tuple[object, ...] = (str, str | None)


def _as_text(value: object) -> object:
    """Ids as text and times in ISO 8601, as every view that shows them as text does."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def view_of(view: type[View], row: object, **given: object) -> View:
    """``view`` of ``row``: each field not ``given`` is the row's attribute of that name (one the row
    lacks keeps its default), an id or a time as text where the field is text. msgspec checks every
    value against its field's type, so a field that is not a plain copy fails loudly until it is given."""
    fields = {
        field.name: _as_text(getattr(row, field.name)) if field.type in _TEXT else getattr(row, field.name)
        for field in msgspec.structs.fields(view)
        if field.name not in given and hasattr(row, field.name)
    }
    return msgspec.convert(fields | given, view)
