"""Server-rendered pages: the customer's chat, the agents' inbox, the knowledge base, admin and evals."""

from __future__ import annotations

import mimetypes
import uuid
from typing import Any

from litestar import Controller, Request, get
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from agents.welcome import LANGUAGES as CHAT_LANGUAGES
from agents.welcome import chat_welcome
from core.accounts import get_tenant
from web.i18n import COOKIE, browser_language, choose_language, page_context

# The pages' scripts are ES modules, which a browser runs only when served with a JavaScript type,
# whatever the host's own MIME table says.
mimetypes.add_type("text/javascript", ".js")


def chat_language(query: str | None, accept_language: str | None) -> str:
    """The customer's: ``?lang=`` (pt, en or es), else the browser's most preferred of them, else pt."""
    if query is not None and query in CHAT_LANGUAGES:
        return query
    return browser_language(accept_language, CHAT_LANGUAGES) or "pt"


STAFF_PAGES = {
    "/kb": "kb.html",
    "/admin": "admin.html",
    "/integrations": "integrations.html",
    "/evals": "evals.html",
    "/jobs": "jobs.html",
    "/account": "account.html",
}
"""The staff pages in English only, and their templates: each page logs in by itself."""


class PagesController(Controller):
    include_in_schema = False
    opt = {"exclude_from_auth": True}  # noqa: RUF012 - a page logs in by itself, the API calls carry the token

    @get("/")
    async def home(self) -> Redirect:
        return Redirect("/inbox")

    @get("/chat/{tenant_slug:str}")
    async def chat(
        self,
        request: Request[Any, Any, Any],
        tenant_slug: str,
        db_session: AsyncSession,
        lang: str | None = None,
    ) -> Template:
        """Greets the customer, in their language, before they write (the greeting is not stored)."""
        tenant = await get_tenant(db_session, tenant_slug)
        language = chat_language(lang, request.headers.get("accept-language"))
        welcome = await chat_welcome(db_session, tenant.id, tenant.name, language)
        context = {"tenant_slug": tenant.slug, "tenant_name": tenant.name, "welcome": welcome}
        return Template("chat.html", context=context)

    @get("/inbox")
    async def inbox(self, request: Request[Any, Any, Any], lang: str | None = None) -> Template:
        """In the agent's language: ``?lang=pt`` or ``?lang=en`` switches it and is remembered."""
        language = choose_language(lang, request.cookies.get(COOKIE), request.headers.get("accept-language"))
        remembered = (
            [Cookie(key=COOKIE, value=language, max_age=365 * 24 * 3600, samesite="lax")] if lang else []
        )
        return Template("inbox.html", context=page_context(language), cookies=remembered)

    @get(list(STAFF_PAGES))
    async def staff_page(self, request: Request[Any, Any, Any]) -> Template:
        return Template(STAFF_PAGES[request.scope["path_template"]], context=page_context("en"))

    @get("/evals/{run_id:uuid}/report")
    async def eval_run_report(self, run_id: uuid.UUID) -> Template:
        """The page logs in, then shows the report the API renders (a link cannot send the token)."""
        return Template("eval_report.html", context={**page_context("en"), "run_id": str(run_id)})
