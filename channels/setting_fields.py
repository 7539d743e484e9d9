"""A channel's settings as inputs: read off its msgspec Struct, so the admin's form and the
``atende channel add`` flags follow the schema and a new channel's fields appear in both by themselves.

What a field is shown as comes from its type: a ``Secret`` (or a field whose ``Meta`` says
``extra={"secret": True}``) is a password input and is stored encrypted, a ``Literal`` a choice, one
marked ``extra={"switch": value}`` a checkbox (a flag) that turns that value on. Its label and help
are the ``Meta``'s ``title`` and ``description``. A field marked ``extra={"server": True}`` (an
``ApiBase``) is an address the server will call: it must be public (``core.url_guard``).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal

import msgspec
import msgspec.inspect as mi

Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=500, extra={"secret": True})]
"""A token or secret a provider gives the admin: stored encrypted, shown masked, a password input."""
ApiBase = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^https?://[^\s]+$",
        title="API server",
        description="Another API server than the provider's (a local Bot API server, a test fake).",
        extra={"placeholder": "the provider's", "server": True},
    ),
]
"""Another server the channel's requests go to: checked as public when saved and at each connection."""

FieldKind = Literal["text", "secret", "choice", "switch"]


class SettingField(msgspec.Struct, frozen=True, kw_only=True):
    """One setting as an input: what the admin's form draws and ``atende channel add`` takes."""

    name: str
    label: str
    kind: FieldKind
    required: bool
    help: str = ""
    placeholder: str = ""
    choices: tuple[str, ...] = ()
    """A choice's values; a switch's are (off, on)."""
    default: str | None = None


@cache
def setting_fields(schema: type[msgspec.Struct]) -> tuple[SettingField, ...]:
    """The schema's fields, in its order."""
    info = mi.type_info(schema)
    assert isinstance(info, mi.StructType)
    return tuple(_field(field) for field in info.fields)


@cache
def server_fields(schema: type[msgspec.Struct]) -> tuple[str, ...]:
    """The fields that name a server the channel's requests go to (its ``api_base``)."""
    info = mi.type_info(schema)
    assert isinstance(info, mi.StructType)
    return tuple(field.name for field in info.fields if _unwrapped(field.type)[2].get("server"))


def _field(field: mi.Field) -> SettingField:
    value_type, meta, extra = _unwrapped(field.type)
    default = field.default if isinstance(field.default, str) else None
    choices = tuple(sorted(value_type.values, key=str)) if isinstance(value_type, mi.LiteralType) else ()
    kind: FieldKind = "secret" if extra.get("secret") else "choice" if choices else "text"
    if (on := extra.get("switch")) is not None and default is not None:
        kind, choices = "switch", (default, str(on))
    return SettingField(
        name=field.name,
        label=str(meta.get("title") or field.name.replace("_", " ").capitalize()),
        kind=kind,
        required=field.required,
        help=str(meta.get("description", "")),
        placeholder=str(extra.get("placeholder", "")),
        choices=tuple(str(choice) for choice in choices),
        default=default,
    )


def _unwrapped(type_: mi.Type) -> tuple[mi.Type, dict[str, object], dict[str, object]]:
    """The value's type without ``None`` and ``Meta``, with the Meta's title/description and extra."""
    if isinstance(type_, mi.UnionType):
        type_ = next(t for t in type_.types if not isinstance(t, mi.NoneType))
    if isinstance(type_, mi.Metadata):
        return type_.type, dict(type_.extra_json_schema or {}), dict(type_.extra or {})
    return type_, {}, {}
