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
from channels.plugins import ChannelLifecycles, plugin_for
from channels.registry import CHANNEL_TYPES, add_channel, update_channel
from channels.stored import channel_access, list_channels, masked_credentials, tenant_channel
from channels.whatsapp_neonize import NeonizeSessions, Pairing, PairingState
from conversations.services import Services
from web.auth import AdminController, AuthUser

AdminRequest = Request[AuthUser, Token, State]


class ChannelView(msgspec.Struct, kw_only=True):
    id: str
    type: str
    name: str
    config: dict[str, Any]
    credentials: dict[str, str]
    """Masked ("…abcd"): stored secrets are never sent back."""
    webhook_path: str | None
    """Where the provider must send updates (None: the channel polls, or has no webhook)."""
    created_at: str


def _view(channel: Channel, secret_key: str) -> ChannelView:
    polling = channel.config.get("mode") == "polling"
    plugin = plugin_for(channel.type)
    path = plugin.webhook_path if plugin else None
    return ChannelView(
        id=str(channel.id),
        type=channel.type,
        name=channel.name,
        config=dict(channel.config),
        credentials=masked_credentials(channel_access(channel, secret_key)),
        webhook_path=None if polling or path is None else path.format(id=channel.id),
        created_at=channel.created_at.isoformat(),
    )


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
        return [_view(c, secret_key) for c in await list_channels(db_session, request.user.tenant_id)]

    @get("/types")
    async def channel_types(self) -> list[str]:
        return list(CHANNEL_TYPES)

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
        polling bot polls from now, not from the next restart."""
        secret_key = services.settings.resolved_secret_key()
        async with db_session.begin():
            channel = await add_channel(db_session, request.user.tenant_id, data, secret_key)
        await channel_lifecycles.added(channel)
        return _view(channel, secret_key)

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
        A bad field is a 422 naming it and nothing changes; a polling bot restarts with the new token."""
        secret_key = services.settings.resolved_secret_key()
        async with db_session.begin():
            channel = await update_channel(db_session, request.user.tenant_id, channel_id, data, secret_key)
        await channel_lifecycles.changed(channel)
        return _view(channel, secret_key)

    @get("/{channel_id:uuid}/pairing")
    async def pairing(self, neonize: NeonizeChannel) -> PairingView:
        """A WhatsApp (QR code) channel's session: its state, and the QR code to scan while pairing."""
        return _pairing_view(neonize.sessions.pairing(neonize.channel.id))

    @post("/{channel_id:uuid}/pairing", status_code=202)
    async def start_pairing(self, neonize: NeonizeChannel) -> PairingView:
        """Start pairing: the session runs (a new channel's too) and shows a QR code unless already paired."""
        return _pairing_view(neonize.sessions.ask_for_pairing(neonize.channel))
