"""The one way Atende's WebSockets run: a stream forwarded to the client, the client's few messages heard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from litestar import WebSocket
from litestar.channels import ChannelsPlugin
from litestar.exceptions import WebSocketDisconnect

Said = TypeVar("Said")


async def relay(
    socket: WebSocket[Any, Any, Any],
    channels: ChannelsPlugin,
    stream: str,
    forward: Callable[[bytes], Awaitable[None]],
    says: type[Said],
    heard: Callable[[Said], Awaitable[None]],
) -> None:
    """Until the client disconnects: what ``stream`` publishes goes to ``forward``, what the client
    sends that decodes as ``says`` to ``heard``; anything else the client sends is passed over.

    The socket is accepted once subscribed: from the moment a client is connected, it hears all.
    """
    async with channels.start_subscription([stream]) as subscriber:
        await socket.accept()
        async with subscriber.run_in_background(forward):
            while True:
                try:
                    said = await socket.receive_text()
                except WebSocketDisconnect:
                    return
                try:
                    message = msgspec.json.decode(said, type=says)
                except msgspec.DecodeError:  # also what fails validation
                    continue  # nothing else is said on this socket
                await heard(message)
