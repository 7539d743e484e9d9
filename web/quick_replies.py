"""Quick replies: the team reads them; admins write them (variables checked when saved)."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Request, delete, get, post
from litestar.datastructures import State
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.quick_replies import delete_quick_reply, find_quick_replies, save_quick_reply
from handoff.views import QuickReplyView
from web.auth import AuthUser, InboxController, admin_only

UserRequest = Request[AuthUser, Token, State]


class QuickReplyIn(msgspec.Struct, forbid_unknown_fields=True):
    shortcut: Annotated[str, msgspec.Meta(min_length=1, max_length=51)]
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]


class QuickReplyController(InboxController):
    path = "/api/v1/quick-replies"

    @get("/")
    async def list_replies(
        self, request: UserRequest, db_session: AsyncSession, q: str = ""
    ) -> list[QuickReplyView]:
        found = await find_quick_replies(db_session, request.user.tenant_id, q)
        return [QuickReplyView(str(r.id), r.shortcut, r.text) for r in found]

    @post("/", status_code=201, guards=[admin_only])
    async def create(
        self, request: UserRequest, data: QuickReplyIn, db_session: AsyncSession
    ) -> QuickReplyView:
        """An unknown ``{{variable}}`` or a taken shortcut is refused, naming the field."""
        async with db_session.begin():
            reply = await save_quick_reply(db_session, request.user.tenant_id, data.shortcut, data.text)
            return QuickReplyView(str(reply.id), reply.shortcut, reply.text)

    @delete("/{reply_id:uuid}", status_code=204, guards=[admin_only])
    async def remove(self, request: UserRequest, reply_id: uuid.UUID, db_session: AsyncSession) -> None:
        async with db_session.begin():
            await delete_quick_reply(db_session, request.user.tenant_id, reply_id)
