"""The web chat widget channel: messages reach the open page over a WebSocket."""

from channels.webchat._adapter import WebChatAdapter, page_message, session_stream
from channels.webchat._plugin import PLUGIN
from channels.webchat._session import (
    WebChatSession,
    check_session_token,
    new_session,
    session_token,
    visitor_name,
)

__all__ = [
    "PLUGIN",
    "WebChatAdapter",
    "WebChatSession",
    "check_session_token",
    "new_session",
    "page_message",
    "session_stream",
    "session_token",
    "visitor_name",
]
