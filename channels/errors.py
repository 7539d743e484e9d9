"""Errors raised while taking in or sending channel messages."""

from __future__ import annotations


class ChannelError(Exception):
    status_code = 400

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidMessageError(ChannelError):
    """A message that cannot be accepted; names the field and the reason."""

    status_code = 422

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", field=field)
        self.reason = reason


class DeliveryError(ChannelError):
    status_code = 502
