"""The real aiogram Bot against FakeTelegram: the fake speaks the Bot API's wire format."""

from __future__ import annotations

import asyncio
import io
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, ReplyParameters

from tests.fakes.telegram_api import (
    FakeTelegram,
    TelegramError,
    edited_update,
    location_update,
    photo_update,
    reply_update,
    text_update,
    unknown_update,
    voice_update,
)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def make_bot(fake: FakeTelegram, token: str | None = None, parse_mode: str | None = None) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    return Bot(token or fake.token, session=session, default=DefaultBotProperties(parse_mode=parse_mode))


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    bot = make_bot(fake)
    yield bot
    await bot.session.close()


async def test_get_me_and_a_wrong_token(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (fake.bot_id, True, "atende_test_bot")

    stranger = make_bot(fake, token="42:not-this-bot")
    with pytest.raises(TelegramUnauthorizedError):
        await stranger.get_me()
    await stranger.session.close()


async def test_sent_messages_are_recorded_and_numbered_per_chat(fake: FakeTelegram, bot: Bot) -> None:
    [inbound] = fake.enqueue(text_update("oi", chat_id=555, message_id=10))

    first = await bot.send_message(555, "Olá! Como posso ajudar?")
    second = await bot.send_message(
        555, "<b>Pedido</b> 123 &amp; cia", parse_mode="HTML", reply_parameters=ReplyParameters(message_id=10)
    )

    assert [first.message_id, second.message_id] == [11, 12]
    assert first.from_user is not None and first.from_user.id == fake.bot_id
    assert first.chat.id == 555 and first.text == "Olá! Como posso ajudar?"
    assert second.text == "Pedido 123 & cia"
    assert second.entities is not None and second.entities[0].type == "bold"
    assert second.reply_to_message is not None and second.reply_to_message.text == inbound["message"]["text"]
    calls = fake.wait_for("sendMessage", 2)
    assert calls[0].params["chat_id"] == 555 and calls[0].params["text"] == "Olá! Como posso ajudar?"
    assert calls[1].params["reply_parameters"] == {"message_id": 10}


async def test_an_uploaded_photo_arrives_and_can_be_downloaded(fake: FakeTelegram, bot: Bot) -> None:
    picture = b"\x89PNG\r\n\x1a\nfake-image-bytes" * 100

    sent = await bot.send_photo(7, BufferedInputFile(picture, filename="recibo.png"), caption="Seu recibo")

    [call] = fake.calls("sendPhoto")
    assert call.content_type == "multipart/form-data"
    assert call.files["photo"].filename == "recibo.png" and call.files["photo"].data == picture
    assert sent.photo is not None and sent.caption == "Seu recibo"
    buffer = io.BytesIO()
    await bot.download(sent.photo[-1].file_id, destination=buffer)
    assert buffer.getvalue() == picture


async def test_a_registered_file_downloads_through_bot_download(fake: FakeTelegram, bot: Bot) -> None:
    file_id = fake.add_file(b"OggS voice", file_path="voice/file_9.oga")

    buffer = io.BytesIO()
    await bot.download(file_id, destination=buffer)

    assert buffer.getvalue() == b"OggS voice"
    assert fake.calls("getFile")[0].params["file_id"] == file_id


async def test_get_updates_parses_every_builder_into_aiogram_types(fake: FakeTelegram, bot: Bot) -> None:
    hello = text_update("qual o prazo de entrega?", chat_id=900, message_id=1)
    fake.enqueue(
        hello,
        photo_update(caption="produto quebrado", chat_id=900, message_id=2),
        voice_update(chat_id=900, message_id=3),
        location_update(chat_id=900, message_id=4),
        reply_update("esse aqui", reply_to=hello["message"], message_id=5),
        edited_update("qual o prazo de entrega??", chat_id=900, message_id=1),
        unknown_update(),
    )

    updates = await bot.get_updates(offset=0, timeout=0)

    assert [update.update_id for update in updates] == [1, 2, 3, 4, 5, 6, 7]
    messages = [update.message for update in updates[:5]]
    assert all(message is not None for message in messages)
    text, photo, voice, location, reply = (message for message in messages if message is not None)
    assert text.text == "qual o prazo de entrega?" and text.chat.id == 900
    assert text.from_user is not None and text.from_user.first_name == "Ana"
    assert photo.photo is not None and photo.photo[-1].width == 1280 and photo.caption == "produto quebrado"
    assert voice.voice is not None and voice.voice.mime_type == "audio/ogg"
    assert location.location is not None and location.location.latitude == pytest.approx(-23.55052)
    assert reply.reply_to_message is not None and reply.reply_to_message.message_id == 1
    assert updates[5].edited_message is not None and updates[5].edited_message.edit_date is not None
    assert updates[6].message is None and updates[6].edited_message is None

    assert await bot.get_updates(offset=8, timeout=0) == []  # confirmed, and none arrive in time


async def test_scripted_errors_surface_as_aiogram_exceptions(fake: FakeTelegram, bot: Bot) -> None:
    fake.script("sendMessage", TelegramError.too_many_requests(retry_after=3), TelegramError.blocked())

    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(1, "a")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(1, "b")
    delivered = await bot.send_message(1, "c")

    assert retry.value.retry_after == 3
    assert delivered.text == "c"
    assert [call.params["text"] for call in fake.calls("sendMessage")] == ["a", "b", "c"]


async def test_a_long_poll_returns_as_soon_as_an_update_is_enqueued(fake: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(offset=0, timeout=30))
    await asyncio.to_thread(fake.wait_for, "getUpdates")

    fake.enqueue(text_update("alguém aí?"))
    updates = await asyncio.wait_for(poll, 10)

    assert [update.message.text for update in updates if update.message] == ["alguém aí?"]
    assert fake.calls("getUpdates")[0].params["timeout"] == 30


async def test_a_webhook_replaces_polling_and_receives_updates(fake: FakeTelegram, bot: Bot) -> None:
    received: list[tuple[str | None, bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            received.append((self.headers["x-telegram-bot-api-secret-token"], body))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    receiver = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.handle_request, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/telegram"
    assert await bot.set_webhook(url, secret_token="s3cret", allowed_updates=["message"])

    info = await bot.get_webhook_info()
    with pytest.raises(TelegramConflictError):
        await bot.get_updates()
    status = await asyncio.to_thread(fake.post_to_webhook, text_update("via webhook"))
    receiver.server_close()

    assert info.url == url and info.allowed_updates == ["message"]
    assert status == 200
    assert received[0][0] == "s3cret" and json.loads(received[0][1])["message"]["text"] == "via webhook"
    assert await bot.delete_webhook() and (await bot.get_webhook_info()).url == ""
