"""The contact panel of a ticket: read it, and correct or complete the customer's profile."""

from __future__ import annotations

import uuid

from litestar import get, put
from sqlalchemy.ext.asyncio import AsyncSession

from channels.contacts import ContactProfileIn
from conversations.services import Services
from conversations.ticket_actions import do_update_contact
from handoff.contact_panel import ContactPanel
from handoff.inbox import ticket_contact_panel
from web.auth import InboxController
from web.tickets import AgentRequest


class ContactPanelController(InboxController):
    path = "/api/v1/tickets/{ticket_id:uuid}/contact"

    @get("/")
    async def panel(
        self, request: AgentRequest, ticket_id: uuid.UUID, db_session: AsyncSession
    ) -> ContactPanel:
        """Name, e-mail, phone, custom fields, the person's channels and their past tickets."""
        return await ticket_contact_panel(db_session, request.user, ticket_id)

    @put("/")
    async def update(
        self, request: AgentRequest, ticket_id: uuid.UUID, data: ContactProfileIn, services: Services
    ) -> ContactPanel:
        """The profile becomes exactly this; a bad field is a 422 naming it and nothing is saved."""
        return await do_update_contact(services, request.user, ticket_id, data)
