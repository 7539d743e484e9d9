"""The web chat as the app sees it: nothing to set up (the page's routes are the web edge's)."""

from __future__ import annotations

from channels.plugin import ChannelPlugin
from channels.webchat._adapter import WebChatAdapter

PLUGIN = ChannelPlugin(type="webchat", make_adapter=lambda resources: WebChatAdapter(resources.publisher))
