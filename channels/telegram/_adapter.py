"""Sends to Telegram with one aiogram Bot per channel; maps the Bot API's errors to retry or give up.

A channel's ``api_base`` is the tenant's to steer: unless the operator allows private networks, the
bot's connections go to public addresses only (``core.url_guard``), and a refused one is final."""

from __future__ import annotations

import io
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ChatAction
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile

from channels.base import Attachment, ChannelAccess, DeliveryFailedError, OutgoingMessage
from channels.format import text_with_sources
from channels.media_store import MediaNotFoundError, MediaStore
from core.url_guard import PrivateAddressError, PublicOnlyConnector


class PublicOnlySession(AiohttpSession):
    """aiogram's aiohttp session with a connector that refuses private addresses: aiogram builds the
    connector itself, from the type it keeps (the same one a proxy set-up replaces)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._connector_type = PublicOnlyConnector


class TelegramAdapter:
    type = "telegram"

    def __init__(self, media: MediaStore, *, allow_private_networks: bool = False) -> None:
        self._media = media
        self._session_type = AiohttpSession if allow_private_networks else PublicOnlySession
        self._bots: dict[tuple[str, str | None], Bot] = {}

    def bot(self, channel: ChannelAccess) -> Bot:
        """One Bot (and its HTTP session) per token and API server, kept for the process."""
        token, api_base = channel.credentials["token"], channel.config.get("api_base")
        key = (token, api_base)
        if key not in self._bots:
            session = (
                self._session_type(api=TelegramAPIServer.from_base(api_base))
                if api_base
                else self._session_type()
            )
            self._bots[key] = Bot(token, session=session)
        return self._bots[key]

    async def close(self) -> None:
        while self._bots:
            _, bot = self._bots.popitem()
            await bot.session.close()

    async def deliver(
        self, channel: ChannelAccess, contact_external_id: str, message: OutgoingMessage
    ) -> str | None:
        bot = self.bot(channel)
        chat_id = int(contact_external_id)
        text = text_with_sources(message)
        attachments = message.attachments
        try:
            if not attachments:
                sent = await bot.send_message(chat_id, text)
            else:
                sent = await self._send_media(bot, chat_id, attachments[0], text)
                for extra in attachments[1:]:
                    await self._send_media(bot, chat_id, extra, None)
        except TelegramRetryAfter as exc:
            raise DeliveryFailedError(
                exc.message, retryable=True, retry_after=float(exc.retry_after)
            ) from exc
        except (TelegramServerError, TelegramNetworkError) as exc:
            raise DeliveryFailedError(exc.message, retryable=True) from exc
        except TelegramAPIError as exc:  # blocked by the user, chat not found, bad request: final
            raise DeliveryFailedError(exc.message, retryable=False) from exc
        except PrivateAddressError as exc:  # an api_base inside our network: nothing was sent
            raise DeliveryFailedError(exc.detail, retryable=False) from exc
        return f"{sent.chat.id}:{sent.message_id}"

    async def _send_media(self, bot: Bot, chat_id: int, attachment: Attachment, caption: str | None) -> Any:
        assert attachment.path is not None
        try:
            data = await self._media.read(attachment.path)
        except MediaNotFoundError as exc:
            raise DeliveryFailedError(f"{attachment.path}: not in the media store", retryable=False) from exc
        file = BufferedInputFile(data, filename=attachment.file_name or attachment.path.rsplit("/", 1)[-1])
        if attachment.kind == "image":
            return await bot.send_photo(chat_id, file, caption=caption)
        if attachment.kind == "voice":
            return await bot.send_voice(chat_id, file, caption=caption)
        return await bot.send_document(chat_id, file, caption=caption)

    async def show_typing(self, channel: ChannelAccess, contact_external_id: str) -> None:
        await self.bot(channel).send_chat_action(int(contact_external_id), ChatAction.TYPING)

    async def fetch_media(self, channel: ChannelAccess, attachment: Attachment) -> bytes:
        bot = self.bot(channel)
        file = await bot.get_file(attachment.file_id)
        assert file.file_path is not None
        buffer = io.BytesIO()
        await bot.download_file(file.file_path, buffer)
        return buffer.getvalue()
