"""Running an async command: one event loop, and a domain error as one line and exit code 1."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from rich.console import Console

from core.errors import AtendeError

P = ParamSpec("P")
R = TypeVar("R")
err = Console(stderr=True)


def run_async(command: Callable[P, Awaitable[R]]) -> Callable[P, R]:
    """Run an async command; domain errors become a one-line message and exit code 1."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return asyncio.run(command(*args, **kwargs))  # type: ignore[arg-type]
        except AtendeError as exc:
            err.print(f"[red]error:[/red] {exc.detail}")
            sys.exit(1)

    return wrapper
