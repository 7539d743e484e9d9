"""Argon2 password hashes, computed off the event loop and at most two at a time.

An Argon2 hash or check takes a few hundred milliseconds of CPU on purpose. Run on the event loop, a
burst of logins stalls every other request of the process; run on unbounded threads, it still takes
every core. So they run on a pool of their own with two threads: a login waits for a slot (waiting is
cheap), the server keeps answering. argon2-cffi releases the GIL while it hashes.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from prometheus_client import Counter, Gauge

HASHING_SLOTS = 2
"""Password hashes and checks run at once per process; more wait their turn."""

_hasher = PasswordHasher()
_pool = ThreadPoolExecutor(max_workers=HASHING_SLOTS, thread_name_prefix="argon2")

CHECKS = Counter(
    "atende_password_checks",
    "Passwords checked against an Argon2 hash, by outcome (match, mismatch); unknown e-mails are checked "
    "too, against a stand-in hash, so that they take as long to refuse",
    ["outcome"],
)


RUNNING = Gauge(
    "atende_password_hashing_running",
    f"Argon2 password hashes and checks running now, at most {HASHING_SLOTS}; the rest wait for a slot",
)

Result = TypeVar("Result")


async def _off_loop(function: Callable[[], Result]) -> Result:
    def counted() -> Result:
        with RUNNING.track_inprogress():
            return function()

    return await asyncio.get_running_loop().run_in_executor(_pool, counted)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    """The Argon2 hash to store for ``password``."""
    return await _off_loop(functools.partial(_hasher.hash, password))


async def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; a malformed hash matches nothing."""
    matched = await _off_loop(functools.partial(_verify, password_hash, password))
    CHECKS.labels(outcome="match" if matched else "mismatch").inc()
    return matched


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's (then store a new one at login)."""
    return _hasher.check_needs_rehash(password_hash)


@functools.cache
def _stand_in_hash() -> str:
    return _hasher.hash("no account has this password; it only makes unknown e-mails as slow to refuse")


async def verify_nobody(password: str) -> None:
    """Check ``password`` against a stand-in hash (made once): the work a known e-mail's check does, for
    an unknown e-mail, so that the time of the answer does not tell whether an account exists."""
    await verify_password(await _off_loop(_stand_in_hash), password)
