"""HTTP servers on 127.0.0.1 that speak the OpenAI and Anthropic wire formats, so the real SDKs run.

Each server answers from a script of steps, then from a default responder::

    with FakeOpenAI() as fake:
        fake.script("Hello!", FakeError(429), {"intent": "refund"}, FakeDelay(5, then="late"))
        config = ProviderConfig(kind="openai", model="gpt-4o-mini", api_key="sk-test", base_url=fake.base_url)
        ...
        assert fake.requests[0].body["messages"][0]["role"] == "system"

A step is a reply text; a JSON object (OpenAI: the message content; Anthropic: a ``tool_use`` block
when the request offers tools); ``FakeError`` (the provider's real error body, with retry headers
that make the SDK's backoff 10 ms); ``FakeDelay`` (wait, then answer its ``then`` step);
``FakeDisconnect`` (stream a few deltas, then drop the connection); ``FakeGarbage`` (a 200 that is
not the wire format). Token counts are whitespace
words, so a test can compute the cost by hand.

The servers run in daemon threads, so a subprocess of the app under test can call them too; the
thread and the HTTP plumbing are ``_loopback``'s, shared with the channel fakes.
"""

from __future__ import annotations

import abc
import itertools
import json
import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar, Self

from tests.fakes._loopback import Hangup, HTTPRequest, JSONObject, LoopbackServer, Response

Responder = Callable[[JSONObject], "str | JSONObject"]


@dataclass(frozen=True)
class FakeError:
    """Answer with this HTTP status and the provider's real error body."""

    status: int
    message: str = "scripted failure"
    retry_after_ms: int | None = 10
    """Sent (as ``retry-after-ms`` and ``retry-after: 0``) on 408/409/429/5xx; None sends no hint."""


@dataclass(frozen=True)
class FakeDelay:
    """Wait ``seconds`` (cut short when the server stops), then answer ``then`` (default: the responder)."""

    seconds: float
    then: Step | None = None


@dataclass(frozen=True)
class FakeDisconnect:
    """Stream the first ``after_deltas`` word deltas of ``text``, then drop the connection mid-body.

    A non-streaming request gets its connection dropped before any answer.
    """

    text: str = "this reply is cut short"
    after_deltas: int = 1


@dataclass(frozen=True)
class FakeGarbage:
    """Answer 200 with what is not the provider's format: a stream event that is not JSON, or (not
    streaming) a body that is not JSON."""

    body: bytes = b'{"choices": [{"delta": {"content": "half'


Step = str | JSONObject | FakeError | FakeDelay | FakeDisconnect | FakeGarbage


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    """Lower-cased header names."""
    body: JSONObject


def count_tokens(text: str) -> int:
    """The fakes' tokenizer: whitespace-separated words."""
    return len(text.split())


def text_of(content: Any) -> str:
    """A message's text, whether its content is a string or a list of content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(block.get("text", "")) for block in content if isinstance(block, dict))
    return ""


def deltas(text: str) -> list[str]:
    """``text`` cut into word deltas that join back to it exactly."""
    return re.findall(r"\s*\S+\s*", text) or [text]


def echo_last_user_message(body: JSONObject) -> str:
    """The default reply: deterministic, and it shows what the server received."""
    users = [
        text_of(message.get("content"))
        for message in body.get("messages", [])
        if message.get("role") == "user"
    ]
    return f"echo: {users[-1]}" if users else "echo: (nothing)"


class FakeLLMServer(LoopbackServer):
    """The parts both wire formats share: the script, the recorded requests, errors and delays."""

    path: ClassVar[str]
    base_path: ClassVar[str]

    def __init__(self, responder: Responder = echo_last_user_message, *, api_key: str | None = None) -> None:
        """``api_key``: when set, requests without it get the provider's real 401."""
        super().__init__()
        self.responder = responder
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self._steps: deque[Step] = deque()
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        """What to give the SDK as ``base_url``."""
        return self.origin + self.base_path

    # scripting

    def script(self, *steps: Step) -> Self:
        """Queue answers for the next requests, in order; the responder answers once they run out."""
        with self._lock:
            self._steps.extend(steps)
        return self

    @property
    def pending(self) -> int:
        """Scripted steps not yet used."""
        with self._lock:
            return len(self._steps)

    def wait_for_requests(self, count: int = 1, timeout: float = 10.0) -> list[RecordedRequest]:
        """Block until ``count`` requests have arrived (e.g. before killing a process mid-call)."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.requests) >= count, timeout):
                raise TimeoutError(f"{type(self).__name__} saw {len(self.requests)} of {count} requests")
            return list(self.requests)

    def _next_step(self, body: JSONObject) -> Step:
        with self._lock:
            if self._steps:
                return self._steps.popleft()
        return self.responder(body)

    # serving

    def respond(self, request: HTTPRequest) -> Response:
        if request.verb != "POST":
            return Response(HTTPStatus.NOT_IMPLEMENTED, b"Unsupported method", "text/plain")
        try:
            body = json.loads(request.body or b"{}")
        except json.JSONDecodeError:
            body = {"_unparsed": request.body.decode("utf-8", "replace")}
        with self._lock:
            self.requests.append(RecordedRequest(path=request.target, headers=request.headers, body=body))
            self._lock.notify_all()
        if request.path != self.path:
            return self._error(FakeError(404, f"no route for {request.target}"))
        if self.api_key is not None and not self._authorized(request.headers):
            return self._error(FakeError(401, "invalid x-api-key / bearer token"))
        step = self._next_step(body)
        while isinstance(step, FakeDelay):
            if self.stopping.wait(step.seconds):
                raise Hangup
            step = step.then if step.then is not None else self.responder(body)
        if isinstance(step, FakeError):
            return self._error(step)
        if isinstance(step, FakeGarbage):
            if body.get("stream"):
                return self._sse(iter([b"data: " + step.body + b"\n\n"]))
            return Response(HTTPStatus.OK, step.body, "application/json")
        if isinstance(step, FakeDisconnect):
            if not body.get("stream"):
                raise Hangup
            return self._sse(self._stream(body, step.text, cut_after=step.after_deltas))
        if body.get("stream"):
            return self._sse(self._stream(body, step))
        return Response.of_json(HTTPStatus.OK, self._reply(body, step), {"x-request-id": self._new_id("req")})

    @staticmethod
    def _sse(events: Iterator[bytes]) -> Response:
        return Response(
            HTTPStatus.OK,
            content_type="text/event-stream",
            headers={"cache-control": "no-cache"},
            chunks=events,
        )

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):04d}"

    def _error(self, error: FakeError) -> Response:
        headers = {"x-request-id": self._new_id("req")}
        retryable = error.status in (408, 409, 429) or error.status >= 500
        if retryable and error.retry_after_ms is not None:
            headers |= {"retry-after-ms": str(error.retry_after_ms), "retry-after": "0"}
        return Response.of_json(error.status, self._error_body(error), headers)

    # one wire format each

    @abc.abstractmethod
    def _authorized(self, headers: dict[str, str]) -> bool:
        """Whether the request carries ``api_key`` the way this provider takes it."""

    @abc.abstractmethod
    def _error_body(self, error: FakeError) -> JSONObject:
        """The provider's error body for ``error``."""

    @abc.abstractmethod
    def _reply(self, body: JSONObject, step: str | JSONObject) -> JSONObject:
        """The non-streaming answer carrying ``step``."""

    @abc.abstractmethod
    def _stream(
        self, body: JSONObject, step: str | JSONObject, *, cut_after: int | None = None
    ) -> Iterator[bytes]:
        """The events of the answer carrying ``step``; ``Hangup`` after ``cut_after`` deltas."""


def _as_text(step: str | JSONObject) -> str:
    return step if isinstance(step, str) else json.dumps(step)


class FakeOpenAI(FakeLLMServer):
    """``POST /v1/chat/completions``; the SDK's ``base_url`` is ``http://127.0.0.1:PORT/v1``."""

    path = "/v1/chat/completions"
    base_path = "/v1"
    created = 1_750_000_000

    def _authorized(self, headers: dict[str, str]) -> bool:
        return headers.get("authorization") == f"Bearer {self.api_key}"

    def _error_body(self, error: FakeError) -> JSONObject:
        kind, code = {
            400: ("invalid_request_error", None),
            401: ("invalid_request_error", "invalid_api_key"),
            404: ("invalid_request_error", "unknown_url"),
            429: ("requests", "rate_limit_exceeded"),
        }.get(error.status, ("server_error", None))
        return {"error": {"message": error.message, "type": kind, "param": None, "code": code}}

    def input_tokens(self, body: JSONObject) -> int:
        return sum(count_tokens(text_of(message.get("content"))) for message in body.get("messages", []))

    def _usage(self, body: JSONObject, text: str) -> JSONObject:
        prompt, completion = self.input_tokens(body), count_tokens(text)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _reply(self, body: JSONObject, step: str | JSONObject) -> JSONObject:
        text = _as_text(step)
        return {
            "id": self._new_id("chatcmpl"),
            "object": "chat.completion",
            "created": self.created,
            "model": body.get("model", ""),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None, "annotations": []},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": self._usage(body, text),
            "system_fingerprint": "fp_fake",
        }

    def _stream(
        self, body: JSONObject, step: str | JSONObject, *, cut_after: int | None = None
    ) -> Iterator[bytes]:
        text = _as_text(step)
        with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        completion_id = self._new_id("chatcmpl")

        def chunk(choices: list[JSONObject], usage: JSONObject | None = None) -> bytes:
            payload: JSONObject = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": body.get("model", ""),
                "system_fingerprint": "fp_fake",
                "choices": choices,
            }
            if with_usage:
                payload["usage"] = usage
            return f"data: {json.dumps(payload)}\n\n".encode()

        def delta(content: JSONObject, finish: str | None = None) -> list[JSONObject]:
            return [{"index": 0, "delta": content, "logprobs": None, "finish_reason": finish}]

        yield chunk(delta({"role": "assistant", "content": "", "refusal": None}))
        for sent, piece in enumerate(deltas(text)):
            if cut_after is not None and sent >= cut_after:
                raise Hangup
            yield chunk(delta({"content": piece}))
        yield chunk(delta({}, finish="stop"))
        if with_usage:
            yield chunk([], usage=self._usage(body, text))
        yield b"data: [DONE]\n\n"


class FakeAnthropic(FakeLLMServer):
    """``POST /v1/messages``; the SDK's ``base_url`` is ``http://127.0.0.1:PORT``."""

    path = "/v1/messages"
    base_path = ""

    def _authorized(self, headers: dict[str, str]) -> bool:
        # The API takes the key as x-api-key; SDK 2 sends it as a bearer token.
        return self.api_key in (
            headers.get("x-api-key"),
            headers.get("authorization", "").removeprefix("Bearer "),
        )

    def _error_body(self, error: FakeError) -> JSONObject:
        kind = {
            400: "invalid_request_error",
            401: "authentication_error",
            403: "permission_error",
            404: "not_found_error",
            413: "request_too_large",
            429: "rate_limit_error",
            529: "overloaded_error",
        }.get(error.status, "api_error")
        return {
            "type": "error",
            "error": {"type": kind, "message": error.message},
            "request_id": self._new_id("req"),
        }

    def input_tokens(self, body: JSONObject) -> int:
        system = count_tokens(text_of(body.get("system", "")))
        return system + sum(
            count_tokens(text_of(message.get("content"))) for message in body.get("messages", [])
        )

    @staticmethod
    def _tool_name(body: JSONObject) -> str | None:
        """The tool a JSON-object step is the input of: the forced one, else the first offered."""
        choice = body.get("tool_choice") or {}
        if choice.get("type") == "tool":
            return str(choice["name"])
        tools = body.get("tools") or []
        return str(tools[0]["name"]) if tools else None

    def _block(self, body: JSONObject, step: str | JSONObject) -> tuple[JSONObject, str, str]:
        """The content block, its text for counting tokens, and the stop reason."""
        tool = self._tool_name(body) if isinstance(step, dict) else None
        if tool is not None:
            block = {"type": "tool_use", "id": self._new_id("toolu"), "name": tool, "input": step}
            return block, json.dumps(step), "tool_use"
        text = _as_text(step)
        return {"type": "text", "text": text, "citations": None}, text, "end_turn"

    def _message(
        self, body: JSONObject, content: list[JSONObject], input_tokens: int, output_tokens: int
    ) -> JSONObject:
        return {
            "id": self._new_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": body.get("model", ""),
            "content": content,
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }

    def _reply(self, body: JSONObject, step: str | JSONObject) -> JSONObject:
        block, text, stop_reason = self._block(body, step)
        message = self._message(body, [block], self.input_tokens(body), count_tokens(text))
        return message | {"stop_reason": stop_reason}

    def _stream(
        self, body: JSONObject, step: str | JSONObject, *, cut_after: int | None = None
    ) -> Iterator[bytes]:
        block, text, stop_reason = self._block(body, step)

        def event(name: str, data: JSONObject) -> bytes:
            return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()

        message = self._message(body, [], self.input_tokens(body), 1)
        yield event("message_start", {"type": "message_start", "message": message})
        if block["type"] == "tool_use":
            start: JSONObject = block | {"input": {}}
            pieces = [("input_json_delta", "partial_json", text)]
        else:
            start = {"type": "text", "text": "", "citations": None}
            pieces = [("text_delta", "text", piece) for piece in deltas(text)]
        yield event(
            "content_block_start", {"type": "content_block_start", "index": 0, "content_block": start}
        )
        yield event("ping", {"type": "ping"})
        for sent, (kind, field, piece) in enumerate(pieces):
            if cut_after is not None and sent >= cut_after:
                raise Hangup
            yield event(
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": kind, field: piece}},
            )
        yield event("content_block_stop", {"type": "content_block_stop", "index": 0})
        yield event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": count_tokens(text)},
            },
        )
        yield event("message_stop", {"type": "message_stop"})
