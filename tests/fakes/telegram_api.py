"""A Telegram Bot API server on 127.0.0.1, so the real aiogram ``Bot`` runs against it.

::

    with FakeTelegram() as fake:
        bot = Bot(fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
        fake.enqueue(text_update("hi", chat_id=42))          # for getUpdates
        fake.script("sendMessage", TelegramError.blocked())   # the next sendMessage answers 403
        ...
        assert fake.calls("sendMessage")[0].params["text"] == "echo: hi"

It serves ``POST /bot{token}/{method}`` (JSON, urlencoded or multipart bodies, as the Bot API does)
and ``GET /file/bot{token}/{file_path}``. Messages the bot sends get ``message_id`` s counting up per
chat (after those of the updates enqueued for that chat), ``from`` = the bot, and a fixed ``date``.
Uploaded files can be fetched back with getFile and the download URL.

The builders at the bottom make Update objects as Telegram sends them, for getUpdates and for
webhook POSTs alike.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import mimetypes
import re
import urllib.error
import urllib.request
from collections import defaultdict, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, ClassVar

from tests.fakes._loopback import HTTPRequest, JSONObject, LoopbackServer, Response, UploadedFile

DATE = 1_750_000_000
"""The ``date`` of every message the fake makes, and the builders' default."""

# Parameters that are strings even when they look like JSON (a text of "42" stays "42").
_STRING_PARAMS = frozenset(
    "text caption parse_mode action url secret_token file_id emoji title performer message_effect_id "
    "business_connection_id ip_address quote first_name last_name phone_number".split()
)

_MAX_TEXT = 4096
_MAX_CAPTION = 1024


@dataclass(frozen=True)
class TelegramError:
    """Answer with this status and the Bot API's error body (``ok: false``)."""

    status: int
    description: str
    retry_after: int | None = None
    migrate_to_chat_id: int | None = None

    @classmethod
    def too_many_requests(cls, retry_after: int = 1) -> TelegramError:
        return cls(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)

    @classmethod
    def chat_not_found(cls) -> TelegramError:
        return cls(400, "Bad Request: chat not found")

    @classmethod
    def blocked(cls) -> TelegramError:
        return cls(403, "Forbidden: bot was blocked by the user")

    @classmethod
    def server_error(cls) -> TelegramError:
        return cls(500, "Internal Server Error")

    def body(self) -> JSONObject:
        payload: JSONObject = {"ok": False, "error_code": self.status, "description": self.description}
        parameters = {
            name: value
            for name, value in (
                ("retry_after", self.retry_after),
                ("migrate_to_chat_id", self.migrate_to_chat_id),
            )
            if value is not None
        }
        if parameters:
            payload["parameters"] = parameters
        return payload


@dataclass(frozen=True)
class TelegramCall:
    """One Bot API call as the fake received it."""

    method: str
    """As sent (the API ignores case; ``calls`` does too)."""
    token: str
    params: JSONObject
    """Decoded: numbers and JSON objects (``reply_parameters``) parsed, texts kept as strings."""
    files: dict[str, UploadedFile] = field(default_factory=dict)
    """Uploaded files by the parameter they fill (``photo``, ``document``...)."""
    content_type: str = ""


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


class FakeTelegram(LoopbackServer):
    """The Bot API for one bot. ``base_url`` is what ``TelegramAPIServer.from_base`` takes."""

    bot_first_name: ClassVar[str] = "Atende Test Bot"

    def __init__(
        self,
        token: str = "123456789:TEST-fake-token",  # noqa: S107 (a fake's token, not a secret)
        *,
        bot_username: str = "atende_test_bot",
    ) -> None:
        super().__init__()
        self.token = token
        self.bot_id = int(token.split(":")[0])
        self.bot_username = bot_username
        self.requests: list[TelegramCall] = []
        self.webhook: JSONObject = {}
        """The last setWebhook parameters (empty when none is set)."""
        self._errors: dict[str, deque[TelegramError]] = defaultdict(deque)
        self._updates: list[JSONObject] = []
        self._last_update_id = 0
        self._last_message_id: dict[int | str, int] = defaultdict(int)
        self._messages: dict[tuple[int | str, int], JSONObject] = {}
        self._chats: dict[int | str, JSONObject] = {}
        self._files: dict[str, _StoredFile] = {}
        self._file_ids = itertools.count(1)
        self._polls = 0
        self.poll_conflicts = 0
        """getUpdates calls ended by a newer one, as Telegram does when two processes poll one bot (or a
        poller stopped while its call waited)."""

    @property
    def base_url(self) -> str:
        return self.origin

    @property
    def bot_user(self) -> JSONObject:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # scripting and inspection

    def script(self, method: str, *errors: TelegramError) -> FakeTelegram:
        """The next calls of ``method`` answer these errors, in order; later calls succeed again."""
        with self._lock:
            self._errors[method.lower()].extend(errors)
        return self

    def enqueue(self, *updates: JSONObject) -> list[JSONObject]:
        """Queue updates for getUpdates; ``update_id`` s are raised where needed to keep counting up."""
        queued = []
        with self._lock:
            for update in updates:
                update = copy.deepcopy(update)
                update["update_id"] = max(int(update.get("update_id", 0)), self._last_update_id + 1)
                self._last_update_id = update["update_id"]
                self._remember_inbound(update)
                self._updates.append(update)
                queued.append(update)
            self._lock.notify_all()
        return queued

    def add_file(self, data: bytes, *, file_path: str | None = None, file_id: str | None = None) -> str:
        """Make ``data`` downloadable (getFile, then the file URL); returns its ``file_id``."""
        with self._lock:
            return self._store_file(data, file_path=file_path, file_id=file_id).file_id

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes behind a ``file_id`` (e.g. of a photo the bot uploaded)."""
        with self._lock:
            return self._files[file_id].data

    def calls(self, method: str) -> list[TelegramCall]:
        with self._lock:
            return [call for call in self.requests if call.method.lower() == method.lower()]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[TelegramCall]:
        """Block until ``method`` has been called ``count`` times; returns those calls."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.calls(method)) >= count, timeout):
                raise TimeoutError(f"FakeTelegram saw {len(self.calls(method))} of {count} {method} calls")
            return self.calls(method)

    def post_to_webhook(self, update: JSONObject, *, timeout: float = 10.0) -> int:
        """POST ``update`` to the URL set with setWebhook, as Telegram does; returns the HTTP status."""
        url = str(self.webhook["url"])
        headers = {"content-type": "application/json"}
        if self.webhook.get("secret_token"):
            headers["x-telegram-bot-api-secret-token"] = str(self.webhook["secret_token"])
        request = urllib.request.Request(url, json.dumps(update).encode(), headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (the URL the test set)
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    # serving

    def respond(self, request: HTTPRequest) -> Response:
        try:
            if request.verb == "GET" and request.path.startswith("/file/bot"):
                return self._download(request)
            match = re.fullmatch(r"/bot([^/]+)/(\w+)", request.path)
            if match is None:
                return self._error(TelegramError(404, "Not Found"))
            call = self._record(request, token=match[1], method=match[2])
            if call.token != self.token:
                return self._error(TelegramError(401, "Unauthorized"))
            with self._lock:
                scripted = self._errors[call.method.lower()]
                error = scripted.popleft() if scripted else None
            if error is not None:
                return self._error(error)
            handler = getattr(self, f"_m_{call.method.lower()}", None)
            if handler is None:
                return self._error(TelegramError(404, "Not Found"))
            result = handler(call)
        except _AnswerError as raised:
            return self._error(raised.error)
        return Response.of_json(200, {"ok": True, "result": result})

    def _error(self, error: TelegramError) -> Response:
        return Response.of_json(error.status, error.body())

    def _record(self, request: HTTPRequest, *, token: str, method: str) -> TelegramCall:
        files: dict[str, UploadedFile] = {}
        if request.content_type == "application/json":
            params = dict(request.json() or {})
        else:
            fields, uploads = request.form()
            fields |= request.query
            by_field = {upload.field: upload for upload in uploads}
            params = {}
            for name, raw in fields.items():
                value = raw if name in _STRING_PARAMS else _decode(raw)
                if isinstance(value, str) and value.startswith("attach://") and value[9:] in by_field:
                    files[name] = by_field.pop(value[9:])
                params[name] = value
            files |= by_field  # files sent under the parameter's own name
        call = TelegramCall(method, token, params, files, request.content_type)
        with self._lock:
            self.requests.append(call)
            self._lock.notify_all()
        return call

    def _download(self, request: HTTPRequest) -> Response:
        token, _, file_path = request.path.removeprefix("/file/bot").partition("/")
        if token != self.token:
            return self._error(TelegramError(401, "Unauthorized"))
        with self._lock:
            for stored in self._files.values():
                if stored.file_path == file_path:
                    return Response(200, stored.data, "application/octet-stream")
        return self._error(TelegramError(404, "Not Found"))

    # state

    def _store_file(
        self, data: bytes, *, file_path: str | None = None, file_id: str | None = None
    ) -> _StoredFile:
        number = next(self._file_ids)
        file_id = file_id or f"FAKE-file-{number:04d}-{hashlib.sha256(data).hexdigest()[:12]}"
        stored = _StoredFile(file_id, f"uniq{number:04d}", file_path or f"documents/file_{number}", data)
        self._files[file_id] = stored
        return stored

    def _remember_inbound(self, update: JSONObject) -> None:
        for kind in ("message", "edited_message", "channel_post"):
            message = update.get(kind)
            if isinstance(message, dict) and "chat" in message:
                chat_id = message["chat"]["id"]
                self._chats[chat_id] = message["chat"]
                self._messages[(chat_id, message["message_id"])] = message
                self._last_message_id[chat_id] = max(self._last_message_id[chat_id], message["message_id"])

    def _chat(self, chat_id: int | str) -> JSONObject:
        if chat_id in self._chats:
            return self._chats[chat_id]
        if isinstance(chat_id, str):
            return {
                "id": -1001000000000,
                "type": "channel",
                "title": chat_id,
                "username": chat_id.lstrip("@"),
            }
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Customer"}
        return {
            "id": chat_id,
            "type": "supergroup" if chat_id < -1_000_000_000_000 else "group",
            "title": "Group",
        }

    def _new_message(self, call: TelegramCall, content: JSONObject) -> JSONObject:
        chat_id = call.params.get("chat_id")
        if chat_id in (None, ""):
            raise _AnswerError(TelegramError(400, "Bad Request: chat_id is empty"))
        assert isinstance(chat_id, int | str)
        reply_to = _reply_to_id(call.params)
        with self._lock:
            self._last_message_id[chat_id] += 1
            message: JSONObject = {
                "message_id": self._last_message_id[chat_id],
                "from": self.bot_user,
                "chat": self._chat(chat_id),
                "date": DATE,
            }
            if reply_to is not None:
                replied = self._messages.get(
                    (chat_id, reply_to), {"message_id": reply_to, "chat": message["chat"], "date": DATE}
                )
                # Telegram nests one level only.
                message["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
            message |= content
            self._messages[(chat_id, message["message_id"])] = message
        return message

    def _upload(self, call: TelegramCall, name: str, default_path: str) -> _StoredFile:
        """The file a send method carries: uploaded now, or an earlier ``file_id``, or a URL."""
        with self._lock:
            upload = call.files.get(name)
            if upload is not None:
                suffix = (upload.filename or "").rpartition(".")[2]
                number = len(self._files) + 1
                path = f"{default_path}/file_{number}" + (f".{suffix}" if suffix else "")
                return self._store_file(upload.data, file_path=path)
            value = call.params.get(name)
            if isinstance(value, str) and value in self._files:
                return self._files[value]
            if isinstance(value, str) and value.startswith(("http://", "https://")):
                return self._store_file(b"", file_path=f"{default_path}/from_url_{len(self._files) + 1}")
        raise _AnswerError(TelegramError(400, f"Bad Request: there is no {name} in the request"))

    def _caption(self, call: TelegramCall) -> JSONObject:
        caption = call.params.get("caption")
        if not caption:
            return {}
        text, entities = _parse_markup(str(caption), call.params.get("parse_mode"))
        if len(text) > _MAX_CAPTION:
            raise _AnswerError(TelegramError(400, "Bad Request: message caption is too long"))
        return {"caption": text} | ({"caption_entities": entities} if entities else {})

    # methods (``_m_`` + lower-case name)

    def _m_getme(self, call: TelegramCall) -> JSONObject:
        return self.bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_sendmessage(self, call: TelegramCall) -> JSONObject:
        raw = str(call.params.get("text") or "")
        text, entities = _parse_markup(raw, call.params.get("parse_mode"))
        if not text.strip():
            raise _AnswerError(TelegramError(400, "Bad Request: message text is empty"))
        if len(text) > _MAX_TEXT:
            raise _AnswerError(TelegramError(400, "Bad Request: message is too long"))
        return self._new_message(call, {"text": text} | ({"entities": entities} if entities else {}))

    def _m_sendphoto(self, call: TelegramCall) -> JSONObject:
        stored = self._upload(call, "photo", "photos")
        sizes = [
            {
                "file_id": f"{stored.file_id}-{width}",
                "file_unique_id": f"{stored.file_unique_id}-{width}",
                "file_size": len(stored.data) // 10,
                "width": width,
                "height": width * 3 // 4,
            }
            for width in (90, 320)
        ]
        with self._lock:  # every size downloads (the fake keeps one copy of the bytes)
            for size in sizes:
                self._files[str(size["file_id"])] = stored
        sizes.append(
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data),
                "width": 800,
                "height": 600,
            }
        )
        return self._new_message(call, {"photo": sizes} | self._caption(call))

    def _m_senddocument(self, call: TelegramCall) -> JSONObject:
        stored = self._upload(call, "document", "documents")
        upload = call.files.get("document")
        name = upload.filename if upload and upload.filename else stored.file_path.rpartition("/")[2]
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": name,
            # Telegram guesses the type from the name: clients send application/octet-stream.
            "mime_type": mimetypes.guess_type(name)[0] or "application/octet-stream",
            "file_size": len(stored.data),
        }
        return self._new_message(call, {"document": document} | self._caption(call))

    def _m_sendvoice(self, call: TelegramCall) -> JSONObject:
        stored = self._upload(call, "voice", "voice")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": int(call.params.get("duration") or 1),
            "mime_type": "audio/ogg",
            "file_size": len(stored.data),
        }
        return self._new_message(call, {"voice": voice} | self._caption(call))

    def _m_sendchataction(self, call: TelegramCall) -> bool:
        if not call.params.get("action"):
            raise _AnswerError(TelegramError(400, "Bad Request: action is empty"))
        return True

    def _m_getupdates(self, call: TelegramCall) -> list[JSONObject]:
        if self.webhook:
            raise _AnswerError(
                TelegramError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            )
        offset = int(call.params.get("offset") or 0)
        limit = int(call.params.get("limit") or 100)
        timeout = float(call.params.get("timeout") or 0)
        with self._lock:
            if offset > 0:  # confirms (and forgets) every update before it
                self._updates = [update for update in self._updates if update["update_id"] >= offset]
            # As Telegram: a newer getUpdates ends the one still waiting with a 409 (two pollers).
            self._polls += 1
            mine = self._polls
            self._lock.notify_all()
            self._lock.wait_for(
                lambda: bool(self._updates) or self.stopping.is_set() or self._polls != mine, timeout
            )
            if self._polls != mine:
                self.poll_conflicts += 1
                raise _AnswerError(
                    TelegramError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                )
            return copy.deepcopy(self._updates[:limit])

    def _m_setwebhook(self, call: TelegramCall) -> bool:
        # The real API takes only https URLs; the fake takes http too, so a local server can receive.
        with self._lock:
            self.webhook = dict(call.params) if call.params.get("url") else {}
            if call.params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _m_deletewebhook(self, call: TelegramCall) -> bool:
        with self._lock:
            self.webhook = {}
            if call.params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _m_getwebhookinfo(self, call: TelegramCall) -> JSONObject:
        with self._lock:
            info: JSONObject = {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self.webhook:
                info |= {
                    "max_connections": int(self.webhook.get("max_connections") or 40),
                    "ip_address": "127.0.0.1",
                }
                if self.webhook.get("allowed_updates"):
                    info["allowed_updates"] = self.webhook["allowed_updates"]
            return info

    def _m_getfile(self, call: TelegramCall) -> JSONObject:
        file_id = str(call.params.get("file_id") or "")
        with self._lock:
            stored = self._files.get(file_id)
        if stored is None:
            raise _AnswerError(TelegramError(400, "Bad Request: invalid file_id"))
        return {
            "file_id": file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }


class _AnswerError(Exception):
    """Raised inside a method handler to answer with ``error``."""

    def __init__(self, error: TelegramError) -> None:
        super().__init__(error.description)
        self.error = error


def _decode(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _reply_to_id(params: JSONObject) -> int | None:
    reply = params.get("reply_parameters")
    if isinstance(reply, dict) and reply.get("message_id") is not None:
        return int(reply["message_id"])
    if params.get("reply_to_message_id") is not None:
        return int(params["reply_to_message_id"])
    return None


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _HTMLEntities(HTMLParser):
    """Telegram's HTML subset: the text without tags, and the entities (UTF-16 offsets)."""

    kinds: ClassVar[dict[str, str]] = {
        "b": "bold",
        "strong": "bold",
        "i": "italic",
        "em": "italic",
        "u": "underline",
        "ins": "underline",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "code": "code",
        "pre": "pre",
        "a": "text_link",
        "tg-spoiler": "spoiler",
        "blockquote": "blockquote",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""
        self.entities: list[JSONObject] = []
        self.open: list[tuple[str, int, JSONObject]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "span" and ("class", "tg-spoiler") in attrs:
            tag = "tg-spoiler"
        if tag not in self.kinds:
            raise _AnswerError(
                TelegramError(400, f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}"')
            )
        extra: JSONObject = {}
        if tag == "a":
            extra["url"] = dict(attrs).get("href") or ""
        self.open.append((tag if tag != "span" else "tg-spoiler", _utf16_len(self.text), extra))

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            tag = "tg-spoiler"
        if not self.open or self.open[-1][0] != tag:
            raise _AnswerError(
                TelegramError(400, f'Bad Request: can\'t parse entities: Unmatched end tag "{tag}"')
            )
        name, start, extra = self.open.pop()
        length = _utf16_len(self.text) - start
        if length:
            self.entities.append({"type": self.kinds[name], "offset": start, "length": length} | extra)

    def handle_data(self, data: str) -> None:
        self.text += data


_MARKDOWN_V2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MARKDOWN_V2_MARKUP = set("_*[]()~`|")


def _parse_markup(text: str, parse_mode: Any) -> tuple[str, list[JSONObject]]:
    """``text`` as Telegram stores it: HTML parsed into entities; MarkdownV2 checked for unescaped
    reserved characters (the classic 400) and unescaped, but its entities are not computed."""
    mode = str(parse_mode or "").lower()
    if mode == "html":
        if re.search(r"<(?![a-zA-Z/])", text) or re.search(r"&(?!#?\w+;)", text):
            raise _AnswerError(
                TelegramError(400, "Bad Request: can't parse entities: Unexpected character in HTML")
            )
        parser = _HTMLEntities()
        parser.feed(text)
        parser.close()
        if parser.open:
            raise _AnswerError(
                TelegramError(
                    400, f"Bad Request: can't parse entities: Can't find end tag \"{parser.open[-1][0]}\""
                )
            )
        return parser.text, sorted(parser.entities, key=lambda entity: int(entity["offset"]))
    if mode == "markdownv2":
        plain, escaped, in_code = [], False, False
        for char in text:
            if escaped:
                plain.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == "`":
                in_code = not in_code
            elif in_code or char not in _MARKDOWN_V2_RESERVED:
                plain.append(char)
            elif char not in _MARKDOWN_V2_MARKUP:
                raise _AnswerError(
                    TelegramError(
                        400,
                        f"Bad Request: can't parse entities: Character '{char}' is reserved and must be "
                        "escaped with the preceding '\\'",
                    )
                )
        return "".join(plain), []
    return text, []


# Builders of Update objects, as Telegram sends them to getUpdates and to webhooks.


def user(user_id: int = 1001, *, first_name: str = "Ana", username: str | None = "ana_cliente") -> JSONObject:
    person: JSONObject = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "pt-br"}
    if username is not None:
        person["username"] = username
    return person


def message(
    *,
    chat_id: int = 1001,
    message_id: int = 1,
    first_name: str = "Ana",
    username: str | None = "ana_cliente",
    date: int = DATE,
    **content: Any,
) -> JSONObject:
    """A Message from a user in their private chat (``chat_id`` is also the user's id); ``content``
    adds the fields that make it a text, a photo... (``text="hi"``, ``photo=[...]``)."""
    sender = user(chat_id, first_name=first_name, username=username)
    chat: JSONObject = {"id": chat_id, "type": "private", "first_name": first_name}
    if username is not None:
        chat["username"] = username
    return {"message_id": message_id, "from": sender, "chat": chat, "date": date} | content


def message_update(kind: str = "message", *, update_id: int = 1, **fields: Any) -> JSONObject:
    """An Update carrying ``fields`` as a message under ``kind`` (``message``, ``edited_message``)."""
    return {"update_id": update_id, kind: message(**fields)}


def text_update(text: str, *, update_id: int = 1, **fields: Any) -> JSONObject:
    return message_update(update_id=update_id, text=text, **fields)


def photo_update(
    file_id: str = "AgACAgFake-photo", *, caption: str | None = None, update_id: int = 1, **fields: Any
) -> JSONObject:
    """A photo as Telegram sends it: several sizes, the largest last; ``file_id`` is the largest's."""
    sizes = [
        {"file_id": f"{file_id}-s", "file_unique_id": "AQADs", "file_size": 1_234, "width": 90, "height": 67},
        {
            "file_id": f"{file_id}-m",
            "file_unique_id": "AQADm",
            "file_size": 15_678,
            "width": 320,
            "height": 240,
        },
        {"file_id": file_id, "file_unique_id": "AQADx", "file_size": 65_432, "width": 1280, "height": 960},
    ]
    extra = {"caption": caption} if caption is not None else {}
    return message_update(update_id=update_id, photo=sizes, **extra, **fields)


def document_update(
    file_id: str = "BQACAgFake-document",
    *,
    file_name: str = "boleto.pdf",
    mime_type: str = "application/pdf",
    file_size: int = 48_213,
    caption: str | None = None,
    update_id: int = 1,
    **fields: Any,
) -> JSONObject:
    document = {
        "file_id": file_id,
        "file_unique_id": "AgADdoc",
        "file_name": file_name,
        "mime_type": mime_type,
        "file_size": file_size,
    }
    extra = {"caption": caption} if caption is not None else {}
    return message_update(update_id=update_id, document=document, **extra, **fields)


def voice_update(
    file_id: str = "AwACAgFake-voice",
    *,
    duration: int = 3,
    file_size: int = 9_876,
    update_id: int = 1,
    **fields: Any,
) -> JSONObject:
    voice = {
        "file_id": file_id,
        "file_unique_id": "AgADvoice",
        "duration": duration,
        "mime_type": "audio/ogg",
        "file_size": file_size,
    }
    return message_update(update_id=update_id, voice=voice, **fields)


def location_update(
    latitude: float = -23.55052, longitude: float = -46.633308, *, update_id: int = 1, **fields: Any
) -> JSONObject:
    return message_update(
        update_id=update_id, location={"latitude": latitude, "longitude": longitude}, **fields
    )


def contact_update(
    phone_number: str = "+5511999990000",
    *,
    first_name: str = "Bruno",
    last_name: str | None = None,
    contact_user_id: int | None = None,
    update_id: int = 1,
    **fields: Any,
) -> JSONObject:
    contact: JSONObject = {"phone_number": phone_number, "first_name": first_name}
    if last_name is not None:
        contact["last_name"] = last_name
    if contact_user_id is not None:
        contact["user_id"] = contact_user_id
    return message_update(update_id=update_id, contact=contact, **fields)


def reply_update(
    text: str, *, reply_to: JSONObject, update_id: int = 1, message_id: int | None = None, **fields: Any
) -> JSONObject:
    """A text replying to ``reply_to`` (a Message, e.g. one the bot sent, or ``message(...)``)."""
    fields.setdefault("chat_id", reply_to["chat"]["id"])
    return message_update(
        update_id=update_id,
        message_id=message_id if message_id is not None else int(reply_to["message_id"]) + 1,
        text=text,
        reply_to_message=reply_to,
        **fields,
    )


def edited_update(
    text: str, *, message_id: int = 1, edit_date: int = DATE + 60, update_id: int = 1, **fields: Any
) -> JSONObject:
    return message_update(
        "edited_message", update_id=update_id, message_id=message_id, text=text, edit_date=edit_date, **fields
    )


def unknown_update(*, update_id: int = 1, kind: str = "message_reaction_count") -> JSONObject:
    """An update of a type a channel adapter does not handle (anonymous reaction counts by default)."""
    return {
        "update_id": update_id,
        kind: {
            "chat": {"id": -1001234567890, "type": "channel", "title": "Novidades"},
            "message_id": 7,
            "date": DATE,
            "reactions": [{"type": {"type": "emoji", "emoji": "👍"}, "total_count": 3}],
        },
    }
