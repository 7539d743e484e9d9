"""Server-rendered pages: the customer's chat and the agents' inbox."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.accounts import get_tenant


class PagesController(Controller):
    @get("/", exclude_from_auth=True, include_in_schema=False)
    async def home(self) -> Redirect:
        return Redirect("/inbox")

    @get("/healthz", exclude_from_auth=True, include_in_schema=False)
    async def health(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/chat/{tenant_slug:str}", exclude_from_auth=True, include_in_schema=False)
    async def chat(self, tenant_slug: str, db_session: AsyncSession) -> Template:
        tenant = await get_tenant(db_session, tenant_slug)
        return Template("chat.html", context={"tenant_slug": tenant.slug, "tenant_name": tenant.name})

    @get("/inbox", exclude_from_auth=True, include_in_schema=False)
    async def inbox(self) -> Template:
        return Template("inbox.html")

    @get("/kb", exclude_from_auth=True, include_in_schema=False)
    async def knowledge(self) -> Template:
        return Template("kb.html")

    @get("/admin", exclude_from_auth=True, include_in_schema=False)
    async def admin(self) -> Template:
        return Template("admin.html")
