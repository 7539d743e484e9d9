"""The web chat widget channel: messages reach the open page over a WebSocket."""

from channels.webchat._adapter import WebChatAdapter, page_message, session_stream
from channels.webchat._plugin import PLUGIN

__all__ = ["PLUGIN", "WebChatAdapter", "page_message", "session_stream"]
