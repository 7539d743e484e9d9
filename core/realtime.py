"""Real-time fan-out: Litestar channels inside the app, nothing in one-shot CLI commands."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar.channels import ChannelsPlugin


def inbox_stream(tenant_id: uuid.UUID | str) -> str:
    return f"inbox:{tenant_id}"


class NullPublisher:
    """For processes with no one listening (the CLI)."""

    async def publish(self, stream: str, event: dict[str, Any]) -> None:
        return None


class ChannelsPublisher:
    def __init__(self, plugin: ChannelsPlugin) -> None:
        self._plugin = plugin

    async def publish(self, stream: str, event: dict[str, Any]) -> None:
        self._plugin.publish(msgspec.json.encode(event), channels=[stream])
