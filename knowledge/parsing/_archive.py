"""The one rule for zip-based formats (DOCX, XLSX): what they would unpack to, checked before any is read."""

from __future__ import annotations

import io
import zipfile

from knowledge.errors import UnreadableDocumentError

MB = 1024 * 1024


def check_archive(data: bytes, kind: str, max_unpacked_mb: float) -> None:
    """Refuse an archive that is not one, or whose members would unpack to more than the limit.

    The members' declared sizes are enough: ``zipfile`` never yields more than a member declares (it
    stops there and fails the member's CRC), and both python-docx and openpyxl read through it, so a
    zip that lies about its sizes is refused as broken instead of unpacking further."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as exc:
        raise UnreadableDocumentError(f"not a valid {kind} file") from exc
    if unpacked > max_unpacked_mb * MB:
        raise UnreadableDocumentError(
            f"the {kind} would unpack to {unpacked / MB:.0f} MB, over the limit of {max_unpacked_mb:g} MB"
            " (ATENDE_PARSE_MAX_UNPACKED_MB)"
        )
