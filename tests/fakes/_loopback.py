"""The plumbing the channel fakes share: a threaded HTTP server on 127.0.0.1 and request parsing.

A fake subclasses ``LoopbackServer`` and answers each ``HTTPRequest`` with a ``Response`` from
``respond`` (which may block, e.g. for long polling, until ``stopping`` is set). A response's body may
be streamed (``chunks``), and ``Hangup`` raised by ``respond`` or by the stream drops the connection.
"""

from __future__ import annotations

import abc
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

JSONObject = dict[str, Any]


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart body."""

    field: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass(frozen=True)
class HTTPRequest:
    verb: str
    path: str
    """Without the query string."""
    query: dict[str, str]
    headers: dict[str, str]
    """Lower-cased header names."""
    body: bytes
    target: str = ""
    """The path with its query string, as the request line has it."""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def form(self) -> tuple[dict[str, str], list[UploadedFile]]:
        """The fields and files of an urlencoded or multipart body (both empty for anything else)."""
        if self.content_type == "application/x-www-form-urlencoded":
            return dict(parse_qsl(self.body.decode(), keep_blank_values=True)), []
        if self.content_type != "multipart/form-data":
            return {}, []
        head = f"content-type: {self.headers['content-type']}\r\n\r\n".encode()
        message = BytesParser(policy=policy.HTTP).parsebytes(head + self.body)
        fields: dict[str, str] = {}
        files: list[UploadedFile] = []
        for part in message.iter_parts() if message.is_multipart() else []:
            assert isinstance(part, Message)
            name = str(part.get_param("name", header="content-disposition") or "")
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename()
            if filename is None:
                fields[name] = data.decode(part.get_content_charset() or "utf-8")
            else:
                files.append(UploadedFile(name, filename, part.get_content_type(), data))
        return fields, files

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Iterable[bytes] | None = None
    """When set, the body instead of ``body``: sent with chunked encoding, each piece as it is made."""

    @classmethod
    def of_json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        return cls(status, json.dumps(payload).encode(), "application/json", headers or {})


class Hangup(Exception):  # noqa: N818 - what the server does, not an error of the fake's
    """Raised by ``respond`` or by a response's ``chunks``: drop the connection there, unanswered."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler still long-polling must not hold up stop()
    fake: LoopbackServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked request bodies, as aiohttp and httpx send them
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test output is for the tests."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() != "chunked":
            length = int(self.headers.get("content-length") or 0)
            return self.rfile.read(length) if length else b""
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _serve(self, verb: str) -> None:
        try:
            url = urlsplit(self.path)
            request = HTTPRequest(
                verb=verb,
                path=url.path,
                query=dict(parse_qsl(url.query, keep_blank_values=True)),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self._read_body(),
                target=self.path,
            )
            response = self.server.fake.respond(request)
            self.send_response(response.status)
            self.send_header("content-type", response.content_type)
            if response.chunks is None:
                self.send_header("content-length", str(len(response.body)))
            else:
                self.send_header("transfer-encoding", "chunked")
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if response.chunks is None:
                self.wfile.write(response.body)
                return
            for chunk in response.chunks:
                if chunk:  # an empty chunk would end the body
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except Hangup:
            self.close_connection = True  # the client sees the connection die, mid-answer or before it
            self.wfile.flush()
        except ConnectionError:
            self.close_connection = True  # the client gave up (a timeout): nothing to answer


class LoopbackServer(abc.ABC):
    """Server thread, lifecycle and a condition the subclasses record under."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @abc.abstractmethod
    def respond(self, request: HTTPRequest) -> Response:
        """Answer one request; runs in the server's handler thread."""

    def start(self) -> Self:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self.stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        with self._lock:
            self._lock.notify_all()  # wake long polls
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start the fake first"
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"
