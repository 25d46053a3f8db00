"""File digests: the one place a file's bytes are hashed (model metadata, weights checks, cache keys)."""
from __future__ import annotations

import hashlib
import os
from typing import Any, Optional

CHUNK_BYTES = 1 << 20


def hash_file(path: str | os.PathLike, h: Optional[Any] = None) -> Any:
    """Feed the bytes of ``path`` into the hashlib object ``h`` (a new sha256 when None) and return it."""
    h = hashlib.sha256() if h is None else h
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_BYTES), b""):
            h.update(chunk)
    return h


def file_sha256(path: str | os.PathLike) -> str:
    """The hex sha256 of a file's bytes, read in 1 MiB chunks."""
    return hash_file(path).hexdigest()
