"""What a part needs of the ground at run time, as a protocol: the pipeline's ``Services`` has it, and a
lower part asks for no more than this."""

from __future__ import annotations

from typing import Protocol

from core.database import Database
from core.settings import Settings


class CoreResources(Protocol):
    settings: Settings
    database: Database
