"""Run one graph turn for a tenant, as the pipeline does, with the tenant's stored policy."""

from __future__ import annotations

import datetime
import uuid
from typing import cast

from agents.state import AgentState
from agents.tenant_context import build_agent_context
from conversations.services import Services
from core.accounts import Tenant


async def agent_turn(
    services: Services,
    tenant: Tenant,
    text: str,
    *,
    thread: str | None = None,
    now: datetime.datetime | None = None,
) -> AgentState:
    async with services.database.sessionmaker.begin() as session:
        context = await build_agent_context(services, session, tenant)
        if now is not None:
            context.now = lambda: now
        return await services.graph.ainvoke(
            cast(AgentState, {"text": text, "message_id": str(uuid.uuid4()), "usage": None}),
            config={"configurable": {"thread_id": thread or str(uuid.uuid4())}},
            context=context,
        )
