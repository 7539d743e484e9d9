"""The child process that parses one file (started by ``knowledge.parse_apart``): the file's bytes
on stdin, the request (its type, the limits) as the one argument, the parsed document or the reason
it failed as JSON on stdout. It holds itself to the memory limit, and to a CPU limit that stops it
even when its parent died; it imports the parsers only, never the embedding model."""

from __future__ import annotations

import math
import os
import resource
import sys

import msgspec

from core.settings import ParseLimits
from knowledge.errors import UnreadableDocumentError
from knowledge.parsing._dispatch import parse_document
from knowledge.parsing._types import ParsedDocument

OUT_OF_MEMORY = 3
"""The exit code of a child that ran out of its memory limit."""


class ParseRequest(msgspec.Struct, frozen=True):
    suffix: str
    limits: ParseLimits


class ParseAnswer(msgspec.Struct, frozen=True):
    document: ParsedDocument | None = None
    error: str | None = None


def _hold_to(limits: ParseLimits) -> None:
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = math.ceil(limits.seconds) + 5  # the parent stops it at limits.seconds; this is for an orphan
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    os.nice(10)  # the bot's process comes first for the CPU


def _answer(request: ParseRequest, data: bytes) -> ParseAnswer:
    try:
        return ParseAnswer(document=parse_document(f"file{request.suffix}", data, request.limits))
    except UnreadableDocumentError as exc:
        return ParseAnswer(error=exc.detail)
    except MemoryError:
        raise
    except Exception as exc:  # any fault of a parser fails this file with why, and nothing else
        reason = str(exc).splitlines()[0][:200] if str(exc) else ""
        kind = request.suffix.lstrip(".").upper()
        return ParseAnswer(
            error=f"the {kind} parser failed ({type(exc).__name__}{': ' if reason else ''}{reason})"
        )


def main() -> None:
    request = msgspec.json.decode(sys.argv[1], type=ParseRequest)
    try:
        _hold_to(request.limits)
        answer = _answer(request, sys.stdin.buffer.read())
        sys.stdout.buffer.write(msgspec.json.encode(answer))
        sys.stdout.flush()
    except MemoryError:
        os._exit(OUT_OF_MEMORY)
