"""The contact panel of a ticket: read it, and correct or complete the customer's profile."""

from __future__ import annotations

import uuid

from litestar import Controller, get, put
from sqlalchemy.ext.asyncio import AsyncSession

from channels.contacts import ContactProfileIn, update_profile
from channels.models import Contact, Conversation
from core.accounts import Role
from handoff.contact_panel import ContactPanel, contact_panel
from web.auth import inbox_roles_only
from web.tickets import AgentRequest, visible_ticket


def _agent(request: AgentRequest) -> uuid.UUID | None:
    """Whose sight limits the panel: an agent's; supervisors and admins see it all."""
    return request.user.id if request.user.role == Role.AGENT else None


class ContactPanelController(Controller):
    path = "/api/v1/tickets/{ticket_id:uuid}/contact"
    guards = [inbox_roles_only]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/")
    async def panel(
        self, request: AgentRequest, ticket_id: uuid.UUID, db_session: AsyncSession
    ) -> ContactPanel:
        """Name, e-mail, phone, custom fields, the person's channels and their past tickets."""
        contact = await self._contact(request, db_session, ticket_id)
        return await contact_panel(db_session, contact, _agent(request))

    @put("/")
    async def update(
        self, request: AgentRequest, ticket_id: uuid.UUID, data: ContactProfileIn, db_session: AsyncSession
    ) -> ContactPanel:
        """The profile becomes exactly this; a bad field is a 422 naming it and nothing is saved."""
        async with db_session.begin():
            contact = await self._contact(request, db_session, ticket_id)
            update_profile(contact, data)
            await db_session.flush()
            return await contact_panel(db_session, contact, _agent(request))

    @staticmethod
    async def _contact(request: AgentRequest, db_session: AsyncSession, ticket_id: uuid.UUID) -> Contact:
        ticket = await visible_ticket(request, db_session, ticket_id)
        conversation = await db_session.get_one(Conversation, ticket.conversation_id)
        return await db_session.get_one(Contact, conversation.contact_id)
