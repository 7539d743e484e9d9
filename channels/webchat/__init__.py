"""The web chat widget channel: messages reach the open page over a WebSocket."""

from channels.webchat._adapter import WebChatAdapter, session_stream

__all__ = ["WebChatAdapter", "session_stream"]
