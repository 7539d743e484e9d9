"""Server-rendered pages: the customer's chat, the agents' inbox, the knowledge base, admin and evals."""

from __future__ import annotations

import uuid

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

    @get("/integrations", exclude_from_auth=True, include_in_schema=False)
    async def integrations(self) -> Template:
        return Template("integrations.html")

    @get("/evals", exclude_from_auth=True, include_in_schema=False)
    async def eval_runs(self) -> Template:
        return Template("evals.html")

    @get("/evals/{run_id:uuid}/report", exclude_from_auth=True, include_in_schema=False)
    async def eval_run_report(self, run_id: uuid.UUID) -> Template:
        """The page logs in, then shows the report the API renders (a link cannot send the token)."""
        return Template("eval_report.html", context={"run_id": str(run_id)})
