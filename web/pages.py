"""Server-rendered pages: the customer's chat, the agents' inbox, the knowledge base, admin and evals."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import get_tenant
from web.i18n import COOKIE, choose_language, page_context


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
    async def inbox(self, request: Request[Any, Any, Any], lang: str | None = None) -> Template:
        """In the agent's language: ``?lang=pt`` or ``?lang=en`` switches it and is remembered."""
        language = choose_language(lang, request.cookies.get(COOKIE), request.headers.get("accept-language"))
        remembered = (
            [Cookie(key=COOKIE, value=language, max_age=365 * 24 * 3600, samesite="lax")] if lang else []
        )
        return Template("inbox.html", context=page_context(language), cookies=remembered)

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
