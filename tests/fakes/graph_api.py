"""The WhatsApp Cloud API (Meta Graph API) on 127.0.0.1, for an httpx client to call.

::

    with FakeGraphAPI(access_token="EAAG-test") as fake:
        fake.script("messages", GraphError.re_engagement())        # the next send answers 400 / 131047
        # the adapter posts to f"{fake.base_url}/{fake.version}/{fake.phone_number_id}/messages"
        ...
        assert fake.sent_messages()[0]["text"]["body"] == "Olá!"

Routes, each with the bearer token required:

- ``POST /{version}/{phone_number_id}/messages`` (JSON) → ``contacts`` and a ``wamid.`` message id;
- ``POST /{version}/{phone_number_id}/media`` (multipart: ``file``, ``type``, ``messaging_product``)
  → ``{"id": media_id}``;
- ``GET /{version}/{media_id}`` → the media's ``url`` (on this server), ``mime_type``, ``sha256``
  (hex), ``file_size`` (a string, as Graph sends it) and ``id``; ``DELETE`` removes it;
- ``GET`` of that ``url`` → the bytes.

Errors have Graph's body: ``{"error": {"message", "type", "code", "error_subcode"?, "error_data"?,
"fbtrace_id"}}``. The builders at the bottom make webhook payloads as Meta posts them, and ``sign``
makes their ``X-Hub-Signature-256``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, Unpack

from tests.fakes._loopback import HTTPRequest, JSONObject, LoopbackServer, Response, UploadedFile

Endpoint = Literal["messages", "media", "retrieve_media", "delete_media", "download"]
"""What a request was for: the name ``script`` and ``calls`` take."""

TIMESTAMP = 1_750_000_000
"""The builders' default ``timestamp``."""

MESSAGE_TYPES = frozenset(
    "text image audio video document sticker location contacts interactive template reaction".split()
)
_MEDIA_TYPES = frozenset("image audio video document sticker".split())


@dataclass(frozen=True)
class GraphError:
    """Answer with this HTTP status and Graph's error body."""

    status: int
    code: int
    message: str
    type: str = "OAuthException"
    error_subcode: int | None = None
    details: str | None = None
    """``error_data.details``, as the WhatsApp errors carry it."""

    @classmethod
    def invalid_token(cls) -> GraphError:
        return cls(401, 190, "Invalid OAuth access token - Cannot parse access token")

    @classmethod
    def re_engagement(cls) -> GraphError:
        return cls(
            400,
            131047,
            "(#131047) Re-engagement message",
            details="Message failed to send because more than 24 hours have passed since the customer "
            "last replied to this number.",
        )

    @classmethod
    def rate_limited(cls) -> GraphError:
        return cls(
            429, 130429, "(#130429) Rate limit hit", details="Cloud API message throughput has been reached."
        )

    @classmethod
    def invalid_parameter(cls, message: str) -> GraphError:
        return cls(400, 100, f"(#100) {message}")

    @classmethod
    def server_error(cls) -> GraphError:
        return cls(500, 131000, "(#131000) Something went wrong", details="Something went wrong")

    def body(self, fbtrace_id: str) -> JSONObject:
        error: JSONObject = {"message": self.message, "type": self.type, "code": self.code}
        if self.error_subcode is not None:
            error["error_subcode"] = self.error_subcode
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        return {"error": error | {"fbtrace_id": fbtrace_id}}


class _RefusedError(Exception):
    def __init__(self, error: GraphError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass(frozen=True)
class GraphRequest:
    """One request as the fake received it."""

    endpoint: Endpoint | None
    """None for a path no route matches."""
    verb: str
    path: str
    headers: dict[str, str]
    json: Any = None
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)


@dataclass(frozen=True)
class Media:
    id: str
    data: bytes
    mime_type: str
    filename: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class FakeGraphAPI(LoopbackServer):
    """One WhatsApp business phone number behind one access token."""

    def __init__(
        self,
        access_token: str = "EAAG-fake-access-token",  # noqa: S107 (a fake's token, not a secret)
        *,
        phone_number_id: str = "106540352242922",
        version: str = "v21.0",
    ) -> None:
        super().__init__()
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.version = version
        """What ``base_url`` users put in their paths; the fake accepts any ``vNN.N``."""
        self.requests: list[GraphRequest] = []
        self.media: dict[str, Media] = {}
        self._errors: dict[str, deque[GraphError]] = defaultdict(deque)
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        """Stands for ``https://graph.facebook.com``."""
        return self.origin

    @property
    def messages_url(self) -> str:
        return f"{self.origin}/{self.version}/{self.phone_number_id}/messages"

    # scripting and inspection

    def script(self, endpoint: Endpoint, *errors: GraphError) -> FakeGraphAPI:
        """The next requests to ``endpoint`` answer these errors, in order; later ones succeed again."""
        with self._lock:
            self._errors[endpoint].extend(errors)
        return self

    def add_media(self, data: bytes, mime_type: str = "image/jpeg", *, filename: str | None = None) -> str:
        """Media a customer sent (for the inbound builders' ids); returns its media id."""
        with self._lock:
            return self._store(data, mime_type, filename).id

    def calls(self, endpoint: Endpoint) -> list[GraphRequest]:
        with self._lock:
            return [request for request in self.requests if request.endpoint == endpoint]

    def sent_messages(self) -> list[JSONObject]:
        """The JSON bodies POSTed to ``/messages``, in order."""
        return [request.json for request in self.calls("messages")]

    def wait_for(self, endpoint: Endpoint, count: int = 1, timeout: float = 10.0) -> list[GraphRequest]:
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.calls(endpoint)) >= count, timeout):
                raise TimeoutError(
                    f"FakeGraphAPI saw {len(self.calls(endpoint))} of {count} {endpoint} requests"
                )
            return self.calls(endpoint)

    # serving

    def respond(self, request: HTTPRequest) -> Response:
        endpoint, target = self._route(request)
        fields, files = request.form()
        recorded = GraphRequest(
            endpoint=endpoint,
            verb=request.verb,
            path=request.path,
            headers=request.headers,
            json=request.json() if request.content_type == "application/json" and request.body else None,
            fields=fields,
            files={upload.field: upload for upload in files},
        )
        with self._lock:
            self.requests.append(recorded)
            self._lock.notify_all()
        try:
            if endpoint is None:
                raise _RefusedError(GraphError(400, 2500, f"Unknown path components: {request.path}"))
            if request.headers.get("authorization") != f"Bearer {self.access_token}":
                raise _RefusedError(GraphError.invalid_token())
            with self._lock:
                scripted = self._errors[endpoint]
                error = scripted.popleft() if scripted else None
            if error is not None:
                raise _RefusedError(error)
            return getattr(self, f"_{endpoint}")(recorded, target)  # type: ignore[no-any-return]
        except _RefusedError as refused:
            trace = f"AFakeTrace{next(self._ids):06d}"
            return Response.of_json(refused.error.status, refused.error.body(trace), {"x-fb-trace-id": trace})

    def _route(self, request: HTTPRequest) -> tuple[Endpoint | None, str]:
        if request.path == "/whatsapp_business/attachments/" and request.verb == "GET":
            return "download", request.query.get("mid", "")
        match = re.fullmatch(r"/v\d+\.\d+/(\w+)(?:/(messages|media))?/?", request.path)
        if match is None:
            return None, ""
        node, edge = match[1], match[2]
        if edge is not None and request.verb == "POST":
            return ("messages" if edge == "messages" else "media"), node
        if edge is None and request.verb == "GET":
            return "retrieve_media", node
        if edge is None and request.verb == "DELETE":
            return "delete_media", node
        return None, ""

    def _store(self, data: bytes, mime_type: str, filename: str | None) -> Media:
        media = Media(str(1_000_000_000_000_000 + next(self._ids)), data, mime_type, filename)
        self.media[media.id] = media
        return media

    def _media_or_refuse(self, media_id: str) -> Media:
        with self._lock:
            media = self.media.get(media_id)
        if media is None:
            raise _RefusedError(_unknown_object("get", media_id))
        return media

    def _check_phone_number(self, node: str) -> None:
        if node != self.phone_number_id:
            raise _RefusedError(_unknown_object("post", node))

    # endpoints

    def _messages(self, request: GraphRequest, target: str) -> Response:
        self._check_phone_number(target)
        body = request.json if isinstance(request.json, dict) else {}
        _check_message(body)
        to = str(body["to"])
        wa_id = re.sub(r"\D", "", to)
        wamid = "wamid." + base64.b64encode(f"HBgN{wa_id}FAKE{next(self._ids):08d}".encode()).decode()
        message: JSONObject = {"id": wamid}
        if body.get("type") == "template":
            message["message_status"] = "accepted"
        payload = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": wa_id}],
            "messages": [message],
        }
        return Response.of_json(200, payload)

    def _media(self, request: GraphRequest, target: str) -> Response:
        self._check_phone_number(target)
        if request.fields.get("messaging_product") != "whatsapp":
            raise _RefusedError(GraphError.invalid_parameter("The parameter messaging_product is required."))
        upload = request.files.get("file")
        if upload is None:
            raise _RefusedError(GraphError.invalid_parameter("The parameter file is required."))
        mime_type = request.fields.get("type") or upload.content_type
        with self._lock:
            media = self._store(upload.data, mime_type, upload.filename)
        return Response.of_json(200, {"id": media.id})

    def _retrieve_media(self, request: GraphRequest, target: str) -> Response:
        media = self._media_or_refuse(target)
        url = (
            f"{self.origin}/whatsapp_business/attachments/"
            f"?mid={media.id}&ext={TIMESTAMP}&hash=ATfake{media.sha256[:16]}"
        )
        return Response.of_json(
            200,
            {
                "messaging_product": "whatsapp",
                "url": url,
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": str(len(media.data)),
                "id": media.id,
            },
        )

    def _delete_media(self, request: GraphRequest, target: str) -> Response:
        self._media_or_refuse(target)
        with self._lock:
            del self.media[target]
        return Response.of_json(200, {"success": True})

    def _download(self, request: GraphRequest, target: str) -> Response:
        media = self._media_or_refuse(target)
        return Response(200, media.data, media.mime_type)


def _unknown_object(verb: str, node: str) -> GraphError:
    return GraphError(
        400,
        100,
        f"Unsupported {verb} request. Object with ID '{node}' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation.",
        type="GraphMethodException",
        error_subcode=33,
    )


def _check_message(body: JSONObject) -> None:
    """The validation Graph does before accepting a message, with its wording."""

    def required(name: str) -> _RefusedError:
        return _RefusedError(GraphError.invalid_parameter(f"The parameter {name} is required."))

    if body.get("messaging_product") != "whatsapp":
        raise required("messaging_product")
    if not body.get("to"):
        raise required("to")
    kind = body.get("type", "text")
    if kind not in MESSAGE_TYPES:
        raise _RefusedError(
            GraphError.invalid_parameter(f"Param type must be one of {{{', '.join(sorted(MESSAGE_TYPES))}}}")
        )
    content = body.get(kind)
    if not isinstance(content, dict) and kind != "contacts":
        raise required(kind)
    if kind == "text":
        text = str(content.get("body") or "") if isinstance(content, dict) else ""
        if not text:
            raise required("text['body']")
        if len(text) > 4096:
            raise _RefusedError(
                GraphError.invalid_parameter("Param text['body'] must be at most 4096 characters long.")
            )
    if kind in _MEDIA_TYPES and isinstance(content, dict) and not (content.get("id") or content.get("link")):
        raise _RefusedError(
            GraphError.invalid_parameter(f"Either '{kind}.id' or '{kind}.link' must be specified")
        )
    if kind == "reaction" and isinstance(content, dict) and not content.get("message_id"):
        raise required("reaction['message_id']")
    if kind == "template" and isinstance(content, dict):
        if not content.get("name"):
            raise required("template['name']")
        if not (content.get("language") or {}).get("code"):
            raise required("template['language']['code']")


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` header Meta sends with ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


# Builders of webhook payloads, as Meta posts them to the app's callback URL.

CUSTOMER = "5511987654321"
BUSINESS_NUMBER = "15550001234"


def contact(name: str = "Maria Souza", wa_id: str = CUSTOMER) -> JSONObject:
    return {"profile": {"name": name}, "wa_id": wa_id}


def webhook_payload(
    *,
    messages: list[JSONObject] | None = None,
    statuses: list[JSONObject] | None = None,
    contacts: list[JSONObject] | None = None,
    phone_number_id: str = "106540352242922",
    display_phone_number: str = BUSINESS_NUMBER,
    waba_id: str = "102290129340398",
) -> JSONObject:
    """The whole POST body; ``contacts`` default to one per distinct sender of ``messages``."""
    value: JSONObject = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id},
    }
    if messages:
        senders = dict.fromkeys(str(message["from"]) for message in messages)
        value["contacts"] = (
            contacts if contacts is not None else [contact(wa_id=sender) for sender in senders]
        )
        value["messages"] = messages
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"value": value, "field": "messages"}]}],
    }


def inbound(message: JSONObject, *, name: str = "Maria Souza", **envelope: Any) -> JSONObject:
    """A payload carrying one ``message`` from a contact called ``name``."""
    return webhook_payload(messages=[message], contacts=[contact(name, str(message["from"]))], **envelope)


class Sender(TypedDict, total=False):
    """Who sent an inbound message, its wamid and when: keyword arguments every message builder takes."""

    wa_id: str
    """The customer's WhatsApp id; ``CUSTOMER`` unless given."""
    message_id: str | None
    """The message's wamid; unless given, one made of ``wa_id`` and the message's type."""
    timestamp: int
    """Unix seconds; ``TIMESTAMP`` unless given."""


class Envelope(Sender, total=False):
    reply_to: str | None
    """The wamid of the message this one replies to (sets ``context``)."""


def _message(kind: str, content: Any, **envelope: Unpack[Envelope]) -> JSONObject:
    """The envelope every inbound message has, around ``content`` (the ``kind`` field, when not None)."""
    if unknown := envelope.keys() - Envelope.__optional_keys__:
        raise TypeError(f"unexpected keyword arguments: {', '.join(sorted(unknown))}")
    wa_id = envelope.get("wa_id", CUSTOMER)
    message: JSONObject = {
        "from": wa_id,
        "id": envelope.get("message_id") or f"wamid.HBgN{wa_id}FAKEIN{kind.upper()}",
        "timestamp": str(envelope.get("timestamp", TIMESTAMP)),
        "type": kind,
    }
    if (reply_to := envelope.get("reply_to")) is not None:
        message["context"] = {"from": BUSINESS_NUMBER, "id": reply_to}
    if content is not None:
        message[kind] = content
    return message


def text_message(body: str, **envelope: Unpack[Envelope]) -> JSONObject:
    return _message("text", {"body": body}, **envelope)


def _media_content(media_id: str, mime_type: str, data_hint: str, caption: str | None) -> JSONObject:
    content: JSONObject = {
        "mime_type": mime_type,
        "sha256": base64.b64encode(hashlib.sha256(data_hint.encode()).digest()).decode(),
        "id": media_id,
    }
    if caption is not None:
        content["caption"] = caption
    return content


def image_message(
    media_id: str, *, caption: str | None = None, mime_type: str = "image/jpeg", **envelope: Unpack[Envelope]
) -> JSONObject:
    return _message("image", _media_content(media_id, mime_type, media_id, caption), **envelope)


def document_message(
    media_id: str,
    *,
    filename: str = "nota-fiscal.pdf",
    caption: str | None = None,
    mime_type: str = "application/pdf",
    **envelope: Unpack[Envelope],
) -> JSONObject:
    content = _media_content(media_id, mime_type, media_id, caption) | {"filename": filename}
    return _message("document", content, **envelope)


def audio_message(media_id: str, *, voice: bool = True, **envelope: Unpack[Envelope]) -> JSONObject:
    """A voice note (``voice=True``, ogg/opus) or an audio file (mpeg)."""
    mime_type = "audio/ogg; codecs=opus" if voice else "audio/mpeg"
    content = _media_content(media_id, mime_type, media_id, None) | {"voice": voice}
    return _message("audio", content, **envelope)


def video_message(
    media_id: str, *, caption: str | None = None, mime_type: str = "video/mp4", **envelope: Unpack[Envelope]
) -> JSONObject:
    return _message("video", _media_content(media_id, mime_type, media_id, caption), **envelope)


def location_message(
    latitude: float = -23.561414,
    longitude: float = -46.655881,
    *,
    name: str | None = "Loja Paulista",
    address: str | None = "Av. Paulista, 1578 - São Paulo",
    **sender: Unpack[Sender],
) -> JSONObject:
    content: JSONObject = {"latitude": latitude, "longitude": longitude}
    if name is not None:
        content["name"] = name
    if address is not None:
        content["address"] = address
    return _message("location", content, reply_to=None, **sender)  # a reply_to in sender: TypeError


def contacts_message(
    formatted_name: str = "João Lima", phone: str = "+55 11 91234-5678", **sender: Unpack[Sender]
) -> JSONObject:
    """A shared contact card (``type: contacts``, a list of cards)."""
    first_name, _, last_name = formatted_name.partition(" ")
    name: JSONObject = {"formatted_name": formatted_name, "first_name": first_name}
    if last_name:
        name["last_name"] = last_name
    card = {"name": name, "phones": [{"phone": phone, "wa_id": re.sub(r"\D", "", phone), "type": "CELL"}]}
    return _message("contacts", [card], reply_to=None, **sender)


def button_reply_message(
    reply_id: str, title: str, *, reply_to: str = "wamid.HBgNFAKEOUTBUTTONS", **sender: Unpack[Sender]
) -> JSONObject:
    """A tap on a reply button of an interactive message the business sent (``reply_to``)."""
    content = {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}}
    return _message("interactive", content, reply_to=reply_to, **sender)


def list_reply_message(
    reply_id: str,
    title: str,
    *,
    description: str | None = None,
    reply_to: str = "wamid.HBgNFAKEOUTLIST",
    **sender: Unpack[Sender],
) -> JSONObject:
    row: JSONObject = {"id": reply_id, "title": title}
    if description is not None:
        row["description"] = description
    content = {"type": "list_reply", "list_reply": row}
    return _message("interactive", content, reply_to=reply_to, **sender)


def template_button_message(
    text: str, payload: str, *, reply_to: str = "wamid.HBgNFAKEOUTTEMPLATE", **sender: Unpack[Sender]
) -> JSONObject:
    """A tap on a quick-reply button of a template (``type: button``)."""
    return _message("button", {"text": text, "payload": payload}, reply_to=reply_to, **sender)


def status(
    wamid: str,
    state: Literal["sent", "delivered", "read", "failed"],
    *,
    recipient_id: str = CUSTOMER,
    timestamp: int = TIMESTAMP,
    errors: list[JSONObject] | None = None,
) -> JSONObject:
    """A delivery status of a message the business sent; ``sent`` and ``delivered`` carry pricing."""
    item: JSONObject = {
        "id": wamid,
        "status": state,
        "timestamp": str(timestamp),
        "recipient_id": recipient_id,
    }
    if state in ("sent", "delivered"):
        conversation: JSONObject = {"id": "CONVERSATION_FAKE_0001", "origin": {"type": "service"}}
        if state == "sent":
            conversation["expiration_timestamp"] = str(timestamp + 24 * 3600)
        item["conversation"] = conversation
        item["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
    if errors:
        item["errors"] = errors
    return item


def failed_status(
    wamid: str,
    *,
    code: int = 131047,
    title: str = "Re-engagement message",
    details: str = "Message failed to send because more than 24 hours have passed since the customer last "
    "replied to this number.",
    recipient_id: str = CUSTOMER,
    timestamp: int = TIMESTAMP,
) -> JSONObject:
    error = {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }
    return status(wamid, "failed", recipient_id=recipient_id, timestamp=timestamp, errors=[error])
