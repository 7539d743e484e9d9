"""The admin's API: the tenant's escalation policy, its LLM provider, what its LLM calls cost, and whether
its people must use two-factor authentication."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, put
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from agents.classifiers import tenant_classifier
from agents.policy import WEEKDAYS, EscalationPolicy
from agents.tenant_settings import (
    PROVIDER_KINDS,
    LlmSettings,
    get_classifier_options,
    get_llm_settings_view,
    get_policy,
    save_llm_settings,
    save_policy,
    server_llm_choices,
)
from agents.usage import UsageSummary, usage_summary
from conversations.services import Services
from core.two_factor import set_tenant_requires, tenant_requires
from core.url_guard import check_url
from web.auth import AuthUser, admin_only

AdminRequest = Request[AuthUser, Token, State]


class ServerLlmView(msgspec.Struct):
    provider: str
    model: str
    base_url: str | None


class AdminDefaults(msgspec.Struct):
    """What applies when the tenant sets nothing, and the choices the form offers."""

    policy: EscalationPolicy
    min_relevance: float
    """The server's retrieval threshold, used while ``min_retrieval_confidence`` is null."""
    weekdays: list[str]
    providers: list[str]
    server_llm: dict[str, ServerLlmView]
    """The providers set by environment variables, used while the tenant chose none."""


class SecuritySettings(msgspec.Struct, forbid_unknown_fields=True):
    require_two_factor: bool
    """Everyone of the tenant signs in with a TOTP code too; who has none sets it up at their next login."""


class AdminController(Controller):
    path = "/api/v1/admin"
    guards = [admin_only]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/policy")
    async def read_policy(self, request: AdminRequest, db_session: AsyncSession) -> EscalationPolicy:
        """The tenant's escalation policy (the defaults until an admin saves one)."""
        return await get_policy(db_session, request.user.tenant_id)

    @put("/policy")
    async def replace_policy(
        self, request: AdminRequest, data: dict[str, Any], db_session: AsyncSession
    ) -> EscalationPolicy:
        """Replace the whole policy; a bad field is a 422 naming it, and nothing is saved."""
        async with db_session.begin():
            return await save_policy(db_session, request.user.tenant_id, data)

    @get("/defaults")
    async def defaults(self, services: Services) -> AdminDefaults:
        server = server_llm_choices(services.settings)
        return AdminDefaults(
            policy=EscalationPolicy(),
            min_relevance=services.settings.min_relevance,
            weekdays=list(WEEKDAYS),
            providers=list(PROVIDER_KINDS),
            server_llm={
                name: ServerLlmView(choice.kind, choice.model, choice.base_url)
                for name, choice in server.items()
            },
        )

    @get("/intents")
    async def intents(self, request: AdminRequest, db_session: AsyncSession, services: Services) -> list[str]:
        """The intents the tenant's classifier knows (built-in and its own), plus any the policy names."""
        tenant_id = request.user.tenant_id
        options = await get_classifier_options(db_session, tenant_id)
        known = sorted((await tenant_classifier(db_session, tenant_id, services.embedder, options)).labels)
        policy = await get_policy(db_session, tenant_id)
        return [*known, *(i for i in policy.always_escalate_intents if i not in known)]

    @get("/llm")
    async def read_llm(self, request: AdminRequest, db_session: AsyncSession) -> LlmSettings:
        return await get_llm_settings_view(db_session, request.user.tenant_id, request.app.state.secret_key)

    @put("/llm")
    async def replace_llm(
        self, request: AdminRequest, data: dict[str, Any], db_session: AsyncSession, services: Services
    ) -> LlmSettings:
        """Replace the provider settings; an ``api_key`` left out (or sent back masked) keeps the stored one.
        A ``base_url`` that is, or resolves to, a private or local address is a 422 naming it (unless
        ATENDE_ALLOW_PRIVATE_NETWORKS): the server would send the tenant's prompts and key there."""
        for name in ("primary", "fallback"):
            choice = data.get(name)
            if isinstance(choice, dict) and isinstance(url := choice.get("base_url"), str):
                allow_private = services.settings.allow_private_networks
                await check_url(url, field=f"{name}.base_url", allow_private=allow_private)
        async with db_session.begin():
            return await save_llm_settings(
                db_session, request.user.tenant_id, data, request.app.state.secret_key
            )

    @get("/usage")
    async def usage(
        self,
        request: AdminRequest,
        db_session: AsyncSession,
        days: Annotated[int, Parameter(ge=1, le=366, description="how many days back")] = 30,
    ) -> UsageSummary:
        """LLM tokens and cost over the last ``days``: totals, per model, the costliest conversations."""
        return await usage_summary(db_session, request.user.tenant_id, days)

    @get("/security")
    async def read_security(self, request: AdminRequest, db_session: AsyncSession) -> SecuritySettings:
        return SecuritySettings(await tenant_requires(db_session, request.user.tenant_id))

    @put("/security")
    async def replace_security(
        self, request: AdminRequest, data: SecuritySettings, db_session: AsyncSession
    ) -> SecuritySettings:
        """Require two-factor authentication of the tenant's people (from their next login), or stop."""
        async with db_session.begin():
            await set_tenant_requires(db_session, request.user.tenant_id, data.require_two_factor)
        return data
