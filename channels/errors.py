"""Errors raised while taking in channel messages."""

from __future__ import annotations

from core.errors import InvalidInputError


class InvalidMessageError(InvalidInputError):
    """A message that cannot be accepted; names the field and the reason."""
