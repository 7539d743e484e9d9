"""WhatsApp by QR code through neonize (an unofficial multi-device client): messages, media, receipts."""

from channels.whatsapp_neonize._adapter import NeonizeAdapter, Pairing, PairingState, SessionNotConnectedError
from channels.whatsapp_neonize._mapping import (
    OutboundSend,
    inbound_from_event,
    media_message,
    outbound_sends,
    owner_reply_from_event,
    recipient_jid,
    statuses_from_receipt,
)
from channels.whatsapp_neonize._plugin import PLUGIN, NeonizeSettings
from channels.whatsapp_neonize._sessions import NeonizeSessions

__all__ = [
    "PLUGIN",
    "NeonizeAdapter",
    "NeonizeSessions",
    "NeonizeSettings",
    "OutboundSend",
    "Pairing",
    "PairingState",
    "SessionNotConnectedError",
    "inbound_from_event",
    "media_message",
    "outbound_sends",
    "owner_reply_from_event",
    "recipient_jid",
    "statuses_from_receipt",
]
