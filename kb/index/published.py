"""The keyword index shared through the blob store: built once by the writer, loaded by the
other replicas instead of rebuilt (a rebuild reads every chunk back from Chroma: 17 s at
100k chunks, BENCHMARKS.md).

Layout under the reserved prefix: `_keyword-index/GENERATION/FILE...` and a pointer
`_keyword-index/CURRENT` naming the newest complete generation; the pointer is written last,
so a reader never loads a half-uploaded index.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from kb.backends.blobs import BlobStore
from kb.errors import KBError
from kb.index.keyword import KeywordIndex, Params

log = logging.getLogger(__name__)
PREFIX = "_keyword-index/"  # doc ids never start with "_": these keys are never originals
POINTER = PREFIX + "CURRENT"


def is_published(key: str) -> bool:
    """Whether a blob key belongs to the published keyword index (not an original)."""
    return key.startswith(PREFIX)


def publish(blobs: BlobStore, folder: Path, generation: int) -> None:
    """Upload the index saved in `folder` as `generation`, point CURRENT at it, and drop
    older generations (write lock held: one publisher at a time)."""
    files = [p for p in sorted(folder.rglob("*")) if p.is_file()]
    if not files:
        return
    base = f"{PREFIX}{generation}/"
    for path in files:
        blobs.put(base + path.relative_to(folder).as_posix(), path.read_bytes())
    blobs.put(POINTER, str(generation).encode())
    for key in blobs.keys_under(PREFIX):
        if key != POINTER and not key.startswith(base):
            blobs.delete(key)


def fetch(blobs: BlobStore, generation: int, params: Params, dest: Path) -> KeywordIndex | None:
    """The published index of `generation`, saved into `dest` too; None when none is
    published for it (or it went while being read: the caller rebuilds)."""
    try:
        if int(blobs.read(POINTER).decode()) != generation:
            return None
        base = f"{PREFIX}{generation}/"
        keys = blobs.keys_under(base)
        with tempfile.TemporaryDirectory(prefix="kb-keyword-") as tmp:
            for key in keys:
                target = Path(tmp) / key[len(base) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(blobs.read(key))
            index = KeywordIndex.load(Path(tmp), params)
            if index is None or index.generation != generation:
                return None
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(tmp, dest)
            return index
    except (OSError, ValueError, KBError) as exc:
        log.info("no published keyword index for generation %d: %s", generation, exc)
        return None
