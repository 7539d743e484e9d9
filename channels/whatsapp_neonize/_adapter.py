"""WhatsApp as a linked device through neonize (whatsmeow): one client per channel, paired by QR code.

Each channel's session (its device keys and Signal sessions) lives in its own SQLite file,
``<data dir>/whatsapp/<channel id>.sqlite3``. whatsmeow owns that schema and migrates it itself, so it
stays out of Atende's PostgreSQL, where Alembic is the only writer; a file per channel keeps one
account per session, goes with the data dir's backups, and unpairing by hand is deleting one file.

A supervisor task per channel runs the client: whatsmeow reconnects a dropped connection on its own;
when the client cannot connect at all (no network at start, WhatsApp refusing) the supervisor starts
it again after a doubling pause. A logged-out session, or QR codes nobody scanned in time, wait for
an admin to ask for pairing again (``request_pairing``), so no QR codes are asked for when nobody looks.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import structlog
from neonize.aioze.client import NewAClient
from neonize.aioze.events import (
    ConnectedEv,
    DisconnectedEv,
    LoggedOutEv,
    MessageEv,
    PairStatusEv,
    ReceiptEv,
    StreamReplacedEv,
)
from neonize.exc import NeonizeError, SendMessageError, UploadError
from neonize.utils.enum import ChatPresence, ChatPresenceMedia

from channels.base import Attachment, ChannelAccess, DeliveryFailedError, OutgoingMessage
from channels.media_store import MediaNotFoundError, MediaStore
from channels.whatsapp_neonize._mapping import OutboundSend, media_message, outbound_sends, recipient_jid
from core.private_files import private_dir

log = structlog.get_logger(__name__)

PairingState = Literal["connected", "waiting_for_scan", "connecting", "logged_out"]
QR_LIFETIME_SECONDS = 60.0
"""WhatsApp's first QR code lasts 60 s and the next ones 20 s; past this without a new one, the
codes ran out and the admin must ask again."""
FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 120.0
STOP_WAIT_SECONDS = 5.0
SENT_IDS_KEPT = 1000
"""The ids of the latest messages each session sent: WhatsApp may show them back as the business's own."""
FINAL_SEND_ERRORS = ("not on whatsapp", "invalid", "bad request", "forbidden", "not-authorized")

OnMessage = Callable[[MessageEv], Awaitable[None]]
OnReceipt = Callable[[ReceiptEv], Awaitable[None]]
OnReady = Callable[[], None]
MakeClient = Callable[[str, str], NewAClient]
"""A client for a session file and a channel id: neonize's own, or what the tests put in its place."""


def neonize_client(session_file: str, channel_id: str) -> NewAClient:
    return NewAClient(session_file, uuid=channel_id)


class SessionNotConnectedError(Exception):
    """The channel's WhatsApp session is not connected: nothing can be sent or fetched now."""


@dataclass
class Pairing:
    """What the admin's pairing view shows: the session's state and the QR code to scan."""

    state: PairingState
    qr: str | None = None


@dataclass
class _Session:
    channel: ChannelAccess
    on_message: OnMessage
    on_receipt: OnReceipt
    state: PairingState = "connecting"
    qr: str | None = None
    qr_until: float = 0.0
    client: NewAClient | None = None
    task: asyncio.Task[None] | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    """Set to restart the client now: a logged-out session the admin wants to pair again."""
    waiting_to_retry: bool = False
    connections: int = 0
    """How many times the client connected: a run that connected starts the pauses afresh."""
    sent: deque[str] = field(default_factory=lambda: deque(maxlen=SENT_IDS_KEPT))
    """What this session sent, newest last (``sent_here``)."""
    on_ready: OnReady | None = None
    """Called once, when the session first knows where it stands: connected, or needing a pairing."""

    def settled(self) -> None:
        ready, self.on_ready = self.on_ready, None
        if ready is not None:
            ready()

    def pairing(self) -> Pairing:
        if self.state == "waiting_for_scan" and time.monotonic() > self.qr_until:
            return Pairing("logged_out")  # the codes ran out: the admin asks again
        return Pairing(self.state, self.qr if self.state == "waiting_for_scan" else None)


class NeonizeAdapter:
    type = "whatsapp-neonize"

    def __init__(self, data_dir: Path, media: MediaStore, make_client: MakeClient = neonize_client) -> None:
        self._sessions_dir = data_dir / "whatsapp"
        self._media = media
        self._make_client = make_client
        self._sessions: dict[uuid.UUID, _Session] = {}

    def session_path(self, channel_id: uuid.UUID) -> Path:
        return self._sessions_dir / f"{channel_id}.sqlite3"

    # ---- the sessions ------------------------------------------------------------------------------

    def is_running(self, channel_id: uuid.UUID) -> bool:
        session = self._sessions.get(channel_id)
        return session is not None and session.task is not None and not session.task.done()

    def holds_session(self, channel_id: uuid.UUID) -> bool:
        """The channel's messages are sent from the process that runs its session (``SessionAdapter``)."""
        return self.is_running(channel_id)

    async def run(
        self,
        channel: ChannelAccess,
        on_message: OnMessage,
        on_receipt: OnReceipt,
        on_ready: OnReady | None = None,
    ) -> None:
        """Run the channel's client until cancelled (or ``close``); returns at once if it already runs.
        ``on_ready``: once the session is connected or shows it needs pairing (no longer connecting)."""
        if self.is_running(channel.id):
            return
        session = _Session(channel, on_message, on_receipt, task=asyncio.current_task(), on_ready=on_ready)
        self._sessions[channel.id] = session
        try:
            await self._supervise(session)
        finally:
            if self._sessions.get(channel.id) is session:
                del self._sessions[channel.id]

    def request_pairing(self, channel_id: uuid.UUID) -> None:
        """A logged-out session, or one whose QR codes ran out, starts again and shows a fresh code."""
        session = self._sessions.get(channel_id)
        if session is None:
            return
        if session.pairing().state == "logged_out":
            session.state, session.qr = "connecting", None
            session.wake.set()
        elif session.waiting_to_retry:  # an admin is waiting: try now rather than after the pause
            session.wake.set()

    def sent_here(self, channel_id: uuid.UUID, message_id: str) -> bool:
        """Whether this process sent the message (any part of one Atende delivered): its echo as the
        business's own message is no reply from the phone, even before its id is saved."""
        session = self._sessions.get(channel_id)
        return session is not None and message_id in session.sent

    def pairing(self, channel_id: uuid.UUID) -> Pairing:
        """A channel whose session does not run in this process is not paired here: ``logged_out``."""
        session = self._sessions.get(channel_id)
        if session is None or not self.is_running(channel_id):
            return Pairing("logged_out")
        return session.pairing()

    async def close(self) -> None:
        sessions = list(self._sessions.values())
        self._sessions.clear()
        tasks = [s.task for s in sessions if s.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _supervise(self, session: _Session) -> None:
        channel_id = str(session.channel.id)
        delay = FIRST_RETRY_SECONDS
        while True:
            session.wake.clear()
            connections = session.connections
            client = self._client(session)
            try:
                running = await client.connect()
                waking = asyncio.ensure_future(session.wake.wait())
                try:
                    done, _ = await asyncio.wait({running, waking}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waking.cancel()
                if running in done:
                    running.result()  # raises what stopped the client
            except asyncio.CancelledError:
                await self._stop(client)
                raise
            except Exception as exc:  # cannot connect (no network, refused): try again later
                log.warning(
                    "whatsapp_neonize.connect_failed",
                    channel_id=channel_id,
                    error=type(exc).__name__,
                    reason=str(exc)[:200],
                    retry_in=delay,
                )
            await self._stop(client)
            if session.connections > connections:
                delay = FIRST_RETRY_SECONDS
            if session.state == "logged_out":
                session.wake.clear()
                await session.wake.wait()  # until an admin asks to pair again
                delay = FIRST_RETRY_SECONDS
                continue
            if session.wake.is_set():
                delay = FIRST_RETRY_SECONDS
                continue
            session.state, session.waiting_to_retry = "connecting", True
            with contextlib.suppress(TimeoutError):  # woken early when an admin asks to pair
                await asyncio.wait_for(session.wake.wait(), timeout=delay)
            session.waiting_to_retry = False
            delay = min(MAX_RETRY_SECONDS, delay * 2)

    def _client(self, session: _Session) -> NewAClient:
        """A fresh client for the channel's session file, its events wired to the session."""
        path = self.session_path(session.channel.id)
        private_dir(path.parent)  # the session's keys to the WhatsApp account
        client = self._make_client(str(path), str(session.channel.id))
        session.client = client
        channel_id = str(session.channel.id)

        async def on_qr(_: NewAClient, code: bytes) -> None:
            session.state, session.qr = "waiting_for_scan", code.decode()
            session.qr_until = time.monotonic() + QR_LIFETIME_SECONDS
            log.info("whatsapp_neonize.qr", channel_id=channel_id)
            session.settled()

        async def on_connected(_: NewAClient, __: ConnectedEv) -> None:
            session.state, session.qr = "connected", None
            session.connections += 1
            log.info("whatsapp_neonize.connected", channel_id=channel_id)
            session.settled()

        async def on_pair_status(_: NewAClient, event: PairStatusEv) -> None:
            log.info(
                "whatsapp_neonize.paired", channel_id=channel_id, ok=event.Status == PairStatusEv.SUCCESS
            )

        async def on_disconnected(_: NewAClient, __: DisconnectedEv) -> None:
            if session.state == "connected":
                session.state = "connecting"  # whatsmeow reconnects by itself
            log.info("whatsapp_neonize.disconnected", channel_id=channel_id)

        async def on_logged_out(_: NewAClient, event: LoggedOutEv) -> None:
            session.state, session.qr = "logged_out", None
            log.warning("whatsapp_neonize.logged_out", channel_id=channel_id, reason=int(event.Reason))
            session.wake.set()  # the supervisor stops the client; it waits for a new pairing
            session.settled()

        async def on_replaced(_: NewAClient, __: StreamReplacedEv) -> None:
            session.state = "connecting"
            log.warning("whatsapp_neonize.replaced_by_another_client", channel_id=channel_id)

        async def on_message(_: NewAClient, event: MessageEv) -> None:
            try:
                await session.on_message(event)
            except Exception:  # neonize drops a handler's error silently: say it
                log.exception("whatsapp_neonize.message_failed", channel_id=channel_id)

        async def on_receipt(_: NewAClient, event: ReceiptEv) -> None:
            try:
                await session.on_receipt(event)
            except Exception:
                log.exception("whatsapp_neonize.receipt_failed", channel_id=channel_id)

        client.qr(on_qr)
        client.event(ConnectedEv)(on_connected)
        client.event(PairStatusEv)(on_pair_status)
        client.event(DisconnectedEv)(on_disconnected)
        client.event(LoggedOutEv)(on_logged_out)
        client.event(StreamReplacedEv)(on_replaced)
        client.event(MessageEv)(on_message)
        client.event(ReceiptEv)(on_receipt)
        return client

    async def _stop(self, client: NewAClient) -> None:
        """Stop the Go side, so its blocking call returns and its worker thread ends."""
        try:
            await asyncio.wait_for(client.stop(), timeout=STOP_WAIT_SECONDS)
        except Exception as exc:  # stopping is best-effort
            log.info("whatsapp_neonize.stop_failed", error=type(exc).__name__)
        if client.connect_task is not None:
            _, running = await asyncio.wait({client.connect_task}, timeout=STOP_WAIT_SECONDS)
            if running:
                log.warning("whatsapp_neonize.still_running_after_stop")

    def _connected(self, channel: ChannelAccess) -> NewAClient:
        session = self._sessions.get(channel.id)
        if session is None or session.client is None or session.state != "connected":
            state = session.pairing().state if session else "logged_out"
            raise SessionNotConnectedError(f"the WhatsApp session is {state.replace('_', ' ')}")
        return session.client

    # ---- the channel adapter -----------------------------------------------------------------------

    async def deliver(
        self, channel: ChannelAccess, contact_external_id: str, message: OutgoingMessage
    ) -> str | None:
        """A session still connecting may come back: the delivery job tries again. One that is not
        paired will not without an admin: the message fails at once, with the reason shown."""
        try:
            client = self._connected(channel)
        except SessionNotConnectedError as exc:
            comes_back = self.pairing(channel.id).state == "connecting"
            reason = str(exc) if comes_back else f"{exc}: pair it by QR code in the admin's channels tab"
            raise DeliveryFailedError(reason, retryable=comes_back) from exc
        to = recipient_jid(contact_external_id)
        first: str | None = None
        try:
            for send in outbound_sends(message):
                sent_id = await self._send(client, to, send)
                self._sessions[channel.id].sent.append(sent_id)
                first = first or sent_id
        except UploadError as exc:
            raise DeliveryFailedError(f"upload failed: {exc}", retryable=True) from exc
        except SendMessageError as exc:
            final = any(hint in str(exc).lower() for hint in FINAL_SEND_ERRORS)
            raise DeliveryFailedError(
                str(exc) or "WhatsApp refused the message", retryable=not final
            ) from exc
        except MediaNotFoundError as exc:  # the file to send is gone
            raise DeliveryFailedError(f"cannot read the file to send: {exc}", retryable=False) from exc
        except NeonizeError as exc:
            raise DeliveryFailedError(str(exc) or type(exc).__name__, retryable=True) from exc
        return first

    async def _send(self, client: NewAClient, to: Any, send: OutboundSend) -> str:
        if send.kind == "text":
            return str((await client.send_message(to, send.text or "")).ID)
        assert send.path is not None
        data = await self._media.read(send.path)
        if send.kind == "image":
            response = await client.send_image(to, data, caption=send.text)
        elif send.kind in ("audio", "voice") and shutil.which("ffmpeg"):  # neonize measures audio with it
            response = await client.send_audio(to, data, ptt=send.kind == "voice")
        else:
            response = await client.send_document(
                to, data, caption=send.text, filename=send.file_name, mimetype=send.mime_type
            )
        return str(response.ID)

    async def show_typing(self, channel: ChannelAccess, contact_external_id: str) -> None:
        await self._connected(channel).send_chat_presence(
            recipient_jid(contact_external_id),
            ChatPresence.CHAT_PRESENCE_COMPOSING,
            ChatPresenceMedia.CHAT_PRESENCE_MEDIA_TEXT,
        )

    async def fetch_media(self, channel: ChannelAccess, attachment: Attachment) -> bytes:
        data = await self._connected(channel).download_any(media_message(attachment.file_id))
        return bytes(data)
