"""Errors raised while taking in channel messages."""

from __future__ import annotations

from core.errors import AtendeError, InvalidInputError


class InvalidMessageError(InvalidInputError):
    """A message that cannot be accepted; names the field and the reason."""


class MalformedPayloadError(AtendeError):
    """A provider's body that is not what its API sends."""
