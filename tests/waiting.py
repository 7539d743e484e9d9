"""How tests wait: on a positive signal where there is one, and for an absence, a quiet period.

A duplicate reply or a second delivery cannot be signalled: the only way to see that nothing else
arrives is to keep looking for a while. That while is bounded and stated once, here, and the check
runs all through it, so a wrong extra arrival fails at once rather than after a blind sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable

QUIET_SECONDS = 2.0
"""How long a test watches for something that must not happen."""


def stays_true(check: Callable[[], object], what: str, seconds: float = QUIET_SECONDS) -> None:
    """``check()`` holds now and for the whole quiet period (it may also assert on its own)."""
    deadline = time.monotonic() + seconds
    while True:
        assert check(), f"no longer true during the quiet period: {what}"
        if time.monotonic() >= deadline:
            return
        time.sleep(0.1)
