"""WhatsApp through Meta's Cloud API: signed webhooks in (messages and delivery statuses), Graph API out."""

from channels.whatsapp_cloud._adapter import GRAPH_VERSION, GraphAPIError, WhatsAppCloudAdapter
from channels.whatsapp_cloud._mapping import StatusUpdate, inbound_messages, status_updates
from channels.whatsapp_cloud._payload import MalformedWebhookError, MessagesValue, decode_webhook
from channels.whatsapp_cloud._plugin import PLUGIN
from channels.whatsapp_cloud._settings import WhatsAppCloudSettings
from channels.whatsapp_cloud._signature import SIGNATURE_HEADER, is_signed_by, signature_of

__all__ = [
    "GRAPH_VERSION",
    "PLUGIN",
    "SIGNATURE_HEADER",
    "GraphAPIError",
    "MalformedWebhookError",
    "MessagesValue",
    "StatusUpdate",
    "WhatsAppCloudAdapter",
    "WhatsAppCloudSettings",
    "decode_webhook",
    "inbound_messages",
    "is_signed_by",
    "signature_of",
    "status_updates",
]
