"""The WhatsApp Cloud API channel as the app sees it."""

from __future__ import annotations

from channels.plugin import ChannelPlugin, ChannelSettings
from channels.whatsapp_cloud._adapter import WhatsAppCloudAdapter
from channels.whatsapp_cloud._settings import WhatsAppCloudSettings
from channels.whatsapp_cloud._webhook import WhatsAppCloudWebhook

PLUGIN = ChannelPlugin(
    type="whatsapp-cloud",
    settings=ChannelSettings("WhatsApp Cloud API", WhatsAppCloudSettings),
    make_adapter=lambda resources: WhatsAppCloudAdapter(
        resources.media, allow_private_networks=resources.allow_private_networks
    ),
    route_handlers=[WhatsAppCloudWebhook],
    webhook_path="/webhooks/whatsapp-cloud/{id}",
)
