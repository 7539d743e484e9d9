"""A stand-in for neonize's client (``NewAClient``) at the adapter's seam (``NeonizeAdapter(make_client=…)``).

There is no WhatsApp server to talk to, so this is the one fake below the adapter: it connects at once
(firing neonize's ``ConnectedEv``, a real protobuf), hands the adapter the customer's messages as the
real ``MessageEv`` protobufs, and keeps what the adapter sends instead of sending it. Everything above
it (the adapter, the sessions, the leases, the outbox) is the real code.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from neonize.aioze.client import NewAClient
from neonize.aioze.events import ConnectedEv, MessageEv
from neonize.proto.Neonize_pb2 import JID, MessageInfo, MessageSource
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message as WAMessage

Handler = Callable[[Any, Any], Awaitable[None]]


@dataclass(frozen=True)
class Sent:
    to: str
    """The recipient's number (the JID's user)."""
    text: str
    id: str


@dataclass(frozen=True)
class _Response:
    ID: str


class FakeNeonizeClient:
    """One client, as the adapter makes one per connection attempt of a session."""

    def __init__(self, session_file: str, channel_id: str) -> None:
        self.session_file, self.channel_id = session_file, channel_id
        self.handlers: dict[type, Handler] = {}
        self.sent: list[Sent] = []
        self.connect_task: asyncio.Task[None] | None = None
        self.connected = False
        self._stopped = asyncio.Event()

    def qr(self, handler: Handler) -> None:
        """A paired session shows no QR code."""

    def event(self, kind: type) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.handlers[kind] = handler
            return handler

        return register

    async def connect(self) -> asyncio.Task[None]:
        self.connect_task = asyncio.create_task(self._until_stopped())
        self.connected = True
        await self.handlers[ConnectedEv](self, ConnectedEv())
        return self.connect_task

    async def _until_stopped(self) -> None:
        await self._stopped.wait()

    async def stop(self) -> None:
        self.connected = False
        self._stopped.set()

    async def send_message(self, to: JID, text: str) -> _Response:
        assert self.connected, "sent through a client that is not connected"
        sent = Sent(to.User, text, f"3EB0{uuid.uuid4().hex[:16].upper()}")
        self.sent.append(sent)
        return _Response(sent.id)

    async def send_chat_presence(self, *args: object) -> None:
        """Typing: nothing to show."""

    async def customer_writes(self, number: str, text: str) -> str:
        """The customer's text reaches the session as neonize delivers it; its WhatsApp id."""
        message_id = f"3EB0{uuid.uuid4().hex[:16].upper()}"
        sender = JID(User=number, Server="s.whatsapp.net", RawAgent=0, Device=0, Integrator=0, IsEmpty=False)
        source = MessageSource(Chat=sender, Sender=sender, IsFromMe=False, IsGroup=False)
        info = MessageInfo(
            MessageSource=source, ID=message_id, Pushname="Maria Souza", Timestamp=1, Type="text"
        )
        await self.handlers[MessageEv](self, MessageEv(Info=info, Message=WAMessage(conversation=text)))
        return message_id


class FakeWhatsApp:
    """The clients one process makes (``make_client``), and everything they sent."""

    def __init__(self) -> None:
        self.clients: list[FakeNeonizeClient] = []

    def __call__(self, session_file: str, channel_id: str) -> NewAClient:
        client = FakeNeonizeClient(session_file, channel_id)
        self.clients.append(client)
        return cast(NewAClient, client)

    @property
    def connected(self) -> FakeNeonizeClient | None:
        return next((client for client in reversed(self.clients) if client.connected), None)

    @property
    def sent(self) -> list[Sent]:
        return [sent for client in self.clients for sent in client.sent]
