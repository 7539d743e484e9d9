"""Where media files live: a folder under the data dir by default, or an S3-compatible bucket.

Paths are relative (``<tenant id>/<random>.<ext>``) and the same in both stores, so a message's
attachment keeps its path whichever store holds the bytes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Protocol

from core.private_files import write_private


class MediaNotFoundError(Exception):
    """No file at that path in the store."""


class MediaStore(Protocol):
    async def write(self, path: str, data: bytes, mime_type: str | None = None) -> None: ...

    async def read(self, path: str) -> bytes:
        """Raises MediaNotFoundError."""
        ...


class LocalMediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _file(self, path: str) -> Path:
        root = self.root.resolve()
        target = (root / path).resolve()
        if root not in target.parents:
            raise MediaNotFoundError(path)
        return target

    async def write(self, path: str, data: bytes, mime_type: str | None = None) -> None:
        await asyncio.to_thread(write_private, self._file(path), data)  # customers' files: 0600, folders 0700

    async def read(self, path: str) -> bytes:
        target = self._file(path)
        if not target.is_file():
            raise MediaNotFoundError(path)
        return await asyncio.to_thread(target.read_bytes)


class S3MediaStore:
    """Any S3-compatible store (AWS, MinIO, R2…) through boto3; credentials from the usual AWS
    variables. boto3 blocks, so each call runs in a thread."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None) -> None:
        import boto3  # only when configured: it is a large import

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self._client: Any = boto3.client("s3", endpoint_url=endpoint_url)

    def _key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    async def write(self, path: str, data: bytes, mime_type: str | None = None) -> None:
        extra = {"ContentType": mime_type} if mime_type else {}
        await asyncio.to_thread(
            self._client.put_object, Bucket=self.bucket, Key=self._key(path), Body=data, **extra
        )

    async def read(self, path: str) -> bytes:
        def get() -> bytes:
            try:
                response = self._client.get_object(Bucket=self.bucket, Key=self._key(path))
            except self._client.exceptions.NoSuchKey as exc:
                raise MediaNotFoundError(path) from exc
            return bytes(response["Body"].read())

        return await asyncio.to_thread(get)


def media_store_for(url: str | None, local_root: Path, endpoint_url: str | None = None) -> MediaStore:
    """``s3://bucket/prefix`` for a bucket; None keeps files under ``local_root``."""
    if not url:
        return LocalMediaStore(local_root)
    if not url.startswith("s3://"):
        raise ValueError(f"ATENDE_MEDIA_STORE must look like s3://bucket/prefix, got {url!r}")
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    return S3MediaStore(bucket, prefix, endpoint_url)
