"""The contact panel of a ticket: read it, and correct or complete the customer's profile."""

from __future__ import annotations

import uuid

from litestar import Controller, get, put
from sqlalchemy.ext.asyncio import AsyncSession

from channels.contacts import ContactProfileIn, update_profile
from channels.models import Contact, Conversation
from handoff.contact_panel import ContactPanel, contact_panel
from handoff.visibility import Visibility, visibility
from web.auth import inbox_roles_only
from web.tickets import AgentRequest, visible_ticket


async def _view(request: AgentRequest, db_session: AsyncSession) -> Visibility:
    return await visibility(db_session, request.user.tenant_id, request.user.id, request.user.role)


class ContactPanelController(Controller):
    path = "/api/v1/tickets/{ticket_id:uuid}/contact"
    guards = [inbox_roles_only]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/")
    async def panel(
        self, request: AgentRequest, ticket_id: uuid.UUID, db_session: AsyncSession
    ) -> ContactPanel:
        """Name, e-mail, phone, custom fields, the person's channels and their past tickets."""
        contact = await self._contact(request, db_session, ticket_id)
        return await contact_panel(db_session, contact, await _view(request, db_session))

    @put("/")
    async def update(
        self, request: AgentRequest, ticket_id: uuid.UUID, data: ContactProfileIn, db_session: AsyncSession
    ) -> ContactPanel:
        """The profile becomes exactly this; a bad field is a 422 naming it and nothing is saved."""
        async with db_session.begin():
            contact = await self._contact(request, db_session, ticket_id)
            update_profile(contact, data)
            await db_session.flush()
            return await contact_panel(db_session, contact, await _view(request, db_session))

    @staticmethod
    async def _contact(request: AgentRequest, db_session: AsyncSession, ticket_id: uuid.UUID) -> Contact:
        ticket = await visible_ticket(request, db_session, ticket_id)
        conversation = await db_session.get_one(Conversation, ticket.conversation_id)
        return await db_session.get_one(Contact, conversation.contact_id)
