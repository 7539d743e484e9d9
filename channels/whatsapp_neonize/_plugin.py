"""The WhatsApp (QR code) channel as the app sees it: nothing to fill in, a session to pair."""

from __future__ import annotations

import msgspec

from channels.plugin import ChannelPlugin, ChannelSettings
from channels.whatsapp_neonize._adapter import NeonizeAdapter
from channels.whatsapp_neonize._sessions import NeonizeSessions


class NeonizeSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """None: the number is the one whose phone scans the channel's QR code."""


PLUGIN = ChannelPlugin(
    type="whatsapp-neonize",
    settings=ChannelSettings("WhatsApp (QR code, unofficial)", NeonizeSettings),
    make_adapter=lambda resources: NeonizeAdapter(resources.data_dir, resources.media),
    lifecycle=NeonizeSessions,
)
