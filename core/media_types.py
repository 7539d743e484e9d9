"""Which media types are safe to show and which carry active content, in one place.

A file a customer sends is shown to an agent logged in on Atende's origin. A browser runs the
scripts in SVG, HTML or XML it renders, so those never render on that origin: they are not
accepted by default, a wildcard in ATENDE_MEDIA_TYPES never covers them, and the media endpoint
hands them out only as downloads of ``application/octet-stream``.
"""

from __future__ import annotations

INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
"""Plain raster images: the only media a page shows inline (in an ``<img>``)."""

_ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/ecmascript",
        "text/ecmascript",
        "application/wasm",
        "text/xsl",
        "application/x-shockwave-flash",
        "multipart/x-mixed-replace",
    }
)


def essence(mime_type: str | None) -> str:
    """``type/subtype`` in lower case, without parameters (WhatsApp sends ``audio/ogg; codecs=opus``)."""
    return (mime_type or "").split(";")[0].strip().lower()


def is_active_content(mime_type: str | None) -> bool:
    """True for a type a browser may run script from: HTML, XML and SVG (any ``+xml``), JavaScript…"""
    kind = essence(mime_type)
    return kind in _ACTIVE_TYPES or kind.endswith(("+xml", "/xml")) or "javascript" in kind


def shows_inline(mime_type: str | None) -> bool:
    """A plain raster image, which a browser draws and never runs."""
    return essence(mime_type) in INLINE_IMAGE_TYPES


def type_accepted(mime_type: str | None, accepted: tuple[str, ...]) -> bool:
    """Whether ``accepted`` (ATENDE_MEDIA_TYPES) takes this type: by its exact name, or by a family
    wildcard (``audio/*``) unless it is active content, which only its exact name lets in."""
    kind = essence(mime_type)
    for allowed in (a.strip().lower() for a in accepted):
        if kind == allowed:
            return True
        if allowed.endswith("*") and kind.startswith(allowed[:-1]) and not is_active_content(kind):
            return True
    return False
