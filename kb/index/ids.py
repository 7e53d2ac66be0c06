"""Stable identifiers: a document's id from its name, a chunk's id from its place."""

from __future__ import annotations

import hashlib
import re
import unicodedata


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def text_key(text: str) -> str:
    """Content key of a text (for the embedding cache): sha256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def doc_id_for(name: str, source: str | None = None) -> str:
    """A readable id that stays the same for every version of one document: an upload is
    known by its `name`, a file read from a folder by its `source` (its absolute path), so
    two files called notes.md in two folders are two documents.

    The slug makes ids legible in logs and URLs; the hash keeps names that slug alike apart.
    """
    norm = unicodedata.normalize("NFC", name.strip()).lower()
    ascii_name = unicodedata.normalize("NFKD", norm).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:40].strip("-") or "doc"
    key = norm if source is None else "source:" + unicodedata.normalize("NFC", source)
    return f"{slug}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"


def chunk_id(doc_id: str, version: str, index: int) -> str:
    """Deterministic chunk id: the same bytes always give the same ids, a new version new ones."""
    return f"{doc_id}:{version}:{index:05d}"


def split_chunk_id(chunk_id: str) -> tuple[str, str, int]:
    """(doc_id, version, index) of a chunk id made by `chunk_id`."""
    doc_id, version, index = chunk_id.rsplit(":", 2)
    return doc_id, version, int(index)
