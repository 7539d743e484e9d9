"""Parsing in a child process, held to a time and a memory limit (``core.settings.ParseLimits``).

A parser is CPU-bound Python (openpyxl, pypdf, python-docx, trafilatura) and a crafted file can make
it run for minutes or take gigabytes. In a thread it would hold the GIL the event loop needs, so
every tenant's bot in the process would go quiet; in a child process of its own the loop only
waits, the child is killed when its time is up, and its memory is capped by the kernel."""

from __future__ import annotations

import asyncio
import signal
import sys
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path, PurePath

import msgspec

from core.settings import ParseLimits
from knowledge.errors import UnreadableDocumentError
from knowledge.parsing._child import OUT_OF_MEMORY, ParseAnswer, ParseRequest
from knowledge.parsing._types import ParsedDocument

PARSES_AT_ONCE = 2
"""Child processes parsing at once per process (each may use up to the memory limit)."""

_ROOT = str(Path(__file__).resolve().parents[1])
_CHILD = f"import sys; sys.path.insert(0, {_ROOT!r}); from knowledge.parsing._child import main; main()"
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


async def parse_apart(name: str, data: bytes, limits: ParseLimits) -> ParsedDocument:
    """The parsed document, or an UnreadableDocumentError naming why: the file's own fault, a
    parser's fault, or a limit it went over."""
    request = msgspec.json.encode(ParseRequest(PurePath(name).suffix.lower(), limits)).decode()
    async with _slot():
        # -I: the interpreter ignores PYTHON* variables and the user's site; the project is put on the path.
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-c",
            _CHILD,
            request,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            output, _ = await asyncio.wait_for(child.communicate(data), limits.seconds)
        except TimeoutError:
            raise UnreadableDocumentError(_over_time(limits)) from None
        finally:
            if child.returncode is None:  # out of time, or the ingest was cancelled
                child.kill()
                await child.wait()
    if child.returncode == 0:
        try:
            answer = msgspec.json.decode(output, type=ParseAnswer)
        except msgspec.DecodeError:
            answer = ParseAnswer(error="the parser gave no readable answer")
        if answer.document is not None:
            return answer.document
        raise UnreadableDocumentError(answer.error or "the parser gave no answer")
    raise UnreadableDocumentError(_stopped(child.returncode, limits))


def _over_time(limits: ParseLimits) -> str:
    return f"parsing took longer than the limit of {limits.seconds:g} s (ATENDE_PARSE_SECONDS)"


def _stopped(code: int | None, limits: ParseLimits) -> str:
    if code == OUT_OF_MEMORY:
        return (
            f"parsing needed more than the limit of {limits.memory_mb} MB of memory (ATENDE_PARSE_MEMORY_MB)"
        )
    if code == -signal.SIGXCPU:
        return _over_time(limits)
    if code is not None and -code in signal.valid_signals():
        return f"the parser stopped unexpectedly ({signal.Signals(-code).name})"
    return f"the parser stopped unexpectedly (exit code {code})"


@asynccontextmanager
async def _slot() -> AsyncIterator[None]:
    """One of this event loop's ``PARSES_AT_ONCE`` places to parse."""
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(PARSES_AT_ONCE)
    async with slots:
        yield
