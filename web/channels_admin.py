"""The admin's channels: list them (secrets masked), add one, change one (rotate its secrets); the
webhook URL to give the provider; the QR code that pairs a WhatsApp number (whatsapp-neonize)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
import segno
from litestar import Request, get, patch, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncSession

from channels.models import Channel
from channels.plugins import ChannelLifecycles
from channels.registry import (
    SETTINGS,
    ChannelView,
    add_channel,
    channel_view,
    check_server_addresses,
    update_channel,
)
from channels.setting_fields import SettingField
from channels.stored import list_channels, tenant_channel
from channels.whatsapp_neonize import NeonizeSessions, Pairing, PairingState
from conversations.services import Services
from web.auth import AdminController, AuthUser

AdminRequest = Request[AuthUser, Token, State]


class ChannelTypeView(msgspec.Struct, kw_only=True):
    """A type an admin can add, and its settings as the form draws them."""

    type: str
    title: str
    fields: tuple[SettingField, ...]


class PairingView(msgspec.Struct, kw_only=True):
    """A whatsapp-neonize channel's session as the admin's pairing view shows it."""

    state: PairingState
    """connected; waiting_for_scan (a QR code to scan); connecting; logged_out (not paired: ask to pair)."""
    qr: str | None
    """The QR code's payload while one waits to be scanned."""
    qr_svg: str | None
    """The same QR code drawn as inline SVG."""


def _pairing_view(pairing: Pairing) -> PairingView:
    svg = segno.make_qr(pairing.qr).svg_inline(scale=5, border=2, light="#fff") if pairing.qr else None
    return PairingView(state=pairing.state, qr=pairing.qr, qr_svg=svg)


@dataclass(frozen=True)
class NeonizeChannel:
    """The path's channel, one of the tenant's whatsapp-neonize channels, and the sessions that pair it."""

    channel: Channel
    sessions: NeonizeSessions


async def provide_neonize_channel(
    request: AdminRequest,
    channel_id: uuid.UUID,
    db_session: AsyncSession,
    channel_lifecycles: ChannelLifecycles,
) -> NeonizeChannel:
    channel = await tenant_channel(db_session, request.user.tenant_id, channel_id, "whatsapp-neonize")
    return NeonizeChannel(channel, channel_lifecycles.of(NeonizeSessions))


class ChannelAdminController(AdminController):
    path = "/api/v1/admin/channels"
    dependencies = {"neonize": Provide(provide_neonize_channel)}  # noqa: RUF012 - Litestar reads this

    @get("/")
    async def list_channels(
        self, request: AdminRequest, db_session: AsyncSession, services: Services
    ) -> list[ChannelView]:
        """The tenant's channels (the web chat too, once a customer used it)."""
        secret_key = services.settings.resolved_secret_key()
        return [channel_view(c, secret_key) for c in await list_channels(db_session, request.user.tenant_id)]

    @get("/types")
    async def channel_types(self) -> list[ChannelTypeView]:
        """The form's types and inputs, from each channel's settings schema."""
        return [ChannelTypeView(type=t, title=s.title, fields=s.fields) for t, s in SETTINGS.items()]

    @post("/", status_code=201)
    async def add(
        self,
        request: AdminRequest,
        data: dict[str, Any],
        db_session: AsyncSession,
        services: Services,
        channel_lifecycles: ChannelLifecycles,
    ) -> ChannelView:
        """A bad or missing field is a 422 naming it, a taken name a 409; nothing is stored then. A
        polling bot polls from now, not from the next restart. An ``api_base`` that is, or resolves to,
        a private or local address is a 422 naming it (unless ATENDE_ALLOW_PRIVATE_NETWORKS)."""
        secret_key = services.settings.resolved_secret_key()
        await check_server_addresses(data, allow_private=services.settings.allow_private_networks)
        async with db_session.begin():
            channel = await add_channel(db_session, request.user.tenant_id, data, secret_key)
        await channel_lifecycles.added(channel)
        return channel_view(channel, secret_key)

    @patch("/{channel_id:uuid}")
    async def update(
        self,
        request: AdminRequest,
        channel_id: uuid.UUID,
        data: dict[str, Any],
        db_session: AsyncSession,
        services: Services,
        channel_lifecycles: ChannelLifecycles,
    ) -> ChannelView:
        """Rename it, change its settings or rotate its secrets; left out or empty, a field is kept.
        A bad field (a private ``api_base`` too) is a 422 naming it and nothing changes; a polling bot
        restarts with the new token."""
        secret_key = services.settings.resolved_secret_key()
        await check_server_addresses(data, allow_private=services.settings.allow_private_networks)
        async with db_session.begin():
            channel = await update_channel(db_session, request.user.tenant_id, channel_id, data, secret_key)
        await channel_lifecycles.changed(channel)
        return channel_view(channel, secret_key)

    @get("/{channel_id:uuid}/pairing")
    async def pairing(self, neonize: NeonizeChannel) -> PairingView:
        """A WhatsApp (QR code) channel's session: its state, and the QR code to scan while pairing."""
        return _pairing_view(neonize.sessions.pairing(neonize.channel.id))

    @post("/{channel_id:uuid}/pairing", status_code=202)
    async def start_pairing(self, neonize: NeonizeChannel) -> PairingView:
        """Start pairing: the session runs (a new channel's too) and shows a QR code unless already paired."""
        return _pairing_view(neonize.sessions.ask_for_pairing(neonize.channel))
