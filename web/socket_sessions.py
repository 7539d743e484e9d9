"""A WebSocket lives only as long as the session that opened it.

Browsers cannot send an Authorization header on a WebSocket, so the access token comes as a query
parameter; a token that is invalid, expired or of an ended session closes the socket with 4401 (the
page then renews its token, or logs in again). While open, the socket closes with 4401 as soon as the
person's sessions end: logout, a new password and deactivation publish on ``sessions_stream``, and the
token version is looked at again every minute and when the access token expires, in case a message
was missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from litestar import WebSocket
from litestar.channels import ChannelsPlugin
from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import Token

from conversations.services import Services
from core.accounts import get_user
from core.realtime import sessions_stream
from web.auth import AuthUser, auth_user, token_is_current

SESSION_ENDED = 4401
"""The close code of a socket whose session is not (or no longer) valid."""
RECHECK_SECONDS = 60.0


@dataclass(frozen=True)
class SocketSession:
    user: AuthUser
    token: Token


async def open_session(
    socket: WebSocket[Any, Any, Any], services: Services, secret: str
) -> SocketSession | None:
    """The person the socket's ``token`` names, if their session is current. Else None, and the socket
    is closed with 4401: accepted first, for a browser sees no close code on a refused handshake."""
    try:
        token = Token.decode(socket.query_params.get("token", ""), secret, "HS256")
    except NotAuthorizedException:
        token = None
    user = None
    if token is not None:
        async with services.database.reads() as session:
            user = await get_user(session, uuid.UUID(token.sub))
    if token is None or user is None or not token_is_current(token, user):
        await socket.accept()
        await socket.close(code=SESSION_ENDED, reason="the session has ended, or the token is not valid")
        return None
    return SocketSession(auth_user(user), token)


async def _is_current(services: Services, opened: SocketSession) -> bool:
    async with services.database.reads() as session:
        user = await get_user(session, opened.user.id)
    return token_is_current(opened.token, user)


async def _until_ended(services: Services, opened: SocketSession, told: asyncio.Event) -> None:
    """Returns once the session that opened the socket has ended: looked at when ``told``, every
    minute, and when the access token expires."""
    while True:
        until_expiry = (opened.token.exp - datetime.datetime.now(datetime.UTC)).total_seconds()
        wait = min(RECHECK_SECONDS, until_expiry) if until_expiry > 0 else RECHECK_SECONDS
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(told.wait(), timeout=wait)
        told.clear()
        if not await _is_current(services, opened):
            return


async def while_signed_in(
    socket: WebSocket[Any, Any, Any],
    services: Services,
    channels: ChannelsPlugin,
    opened: SocketSession,
    work: Coroutine[Any, Any, None],
) -> None:
    """Run the socket's ``work`` until it ends, or until the session ends: then close with 4401."""
    told = asyncio.Event()

    async def heard(_: bytes) -> None:
        told.set()

    async with (
        channels.start_subscription([sessions_stream(opened.user.id)]) as subscriber,
        subscriber.run_in_background(heard),
    ):
        told.set()  # look once more now: the session may have ended before the subscription began
        working = asyncio.ensure_future(work)
        watching = asyncio.ensure_future(_until_ended(services, opened, told))
        try:
            done, _ = await asyncio.wait({working, watching}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (working, watching):
                task.cancel()
            await asyncio.gather(working, watching, return_exceptions=True)
    if working in done:
        working.result()  # what the work raised, if anything
        return
    watching.result()
    await socket.close(code=SESSION_ENDED, reason="the session has ended")
