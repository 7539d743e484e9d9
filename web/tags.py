"""Tags: the team lists them; admins make them."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.tags import list_tags, save_tag
from handoff.views import TagView, tag_view
from web.auth import AuthUser, InboxController, admin_only


class TagIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    color: str = "#888888"


class TagController(InboxController):
    path = "/api/v1/tags"

    @get("/")
    async def list_all(
        self, request: Request[AuthUser, Token, State], db_session: AsyncSession
    ) -> list[TagView]:
        return [tag_view(t) for t in await list_tags(db_session, request.user.tenant_id)]

    @post("/", status_code=201, guards=[admin_only])
    async def create(
        self, request: Request[AuthUser, Token, State], data: TagIn, db_session: AsyncSession
    ) -> TagView:
        async with db_session.begin():
            return tag_view(await save_tag(db_session, request.user.tenant_id, data.name, data.color))
