"""Real-time fan-out: Litestar channels inside the app, their backend in a worker, nothing in one-shot
CLI commands."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend


def inbox_stream(tenant_id: uuid.UUID | str) -> str:
    return f"inbox:{tenant_id}"


def sessions_stream(user_id: uuid.UUID | str) -> str:
    """Where a person's sessions ending is told (``{"type": "sessions_ended"}``): their open sockets
    look at their token version again and close. Never forwarded to a browser."""
    return f"sessions:{user_id}"


class NullPublisher:
    """For processes with no one listening (the CLI)."""

    async def publish(self, stream: str, event: dict[str, Any]) -> None:
        return None


class ChannelsPublisher:
    def __init__(self, plugin: ChannelsPlugin) -> None:
        self._plugin = plugin

    async def publish(self, stream: str, event: dict[str, Any]) -> None:
        self._plugin.publish(msgspec.json.encode(event), channels=[stream])


class BackendPublisher:
    """Straight to a channels backend, for a process with no web app: a worker's events reach the
    inboxes and chat pages connected to the web processes through Redis."""

    def __init__(self, backend: ChannelsBackend) -> None:
        self._backend = backend

    async def publish(self, stream: str, event: dict[str, Any]) -> None:
        await self._backend.publish(msgspec.json.encode(event), [stream])
