"""WhatsApp by QR code through neonize (an unofficial multi-device client): messages, media, receipts."""

from channels.whatsapp_neonize._adapter import NeonizeAdapter, Pairing, PairingState, SessionNotConnectedError
from channels.whatsapp_neonize._mapping import (
    OutboundSend,
    inbound_from_event,
    media_message,
    outbound_sends,
    recipient_jid,
    statuses_from_receipt,
)

__all__ = [
    "NeonizeAdapter",
    "OutboundSend",
    "Pairing",
    "PairingState",
    "SessionNotConnectedError",
    "inbound_from_event",
    "media_message",
    "outbound_sends",
    "recipient_jid",
    "statuses_from_receipt",
]
