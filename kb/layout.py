"""Every path under the data dir, named once.

KB_DATA_DIR/
  registry.sqlite     documents, live versions, the write journal and counters
  embeddings.sqlite   vectors by text hash and model: unchanged text is never re-embedded
  audit.sqlite        the append-only, hash-chained audit log
  users.json          users and password hashes (unless KB_USERS_FILE names another)
  chroma/             the embedded Chroma store (unused with KB_CHROMA_HOST)
  chroma-open.lock    serialises creating the embedded store across processes
  keyword/            the saved BM25 index (rebuilt from Chroma when stale)
  write.lock          one writer at a time, across processes
  originals/DOC_ID/VERSION.EXT   the uploaded bytes of each live version
  logs/kb.log         tracebacks of failed files and the parsers' warnings
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePath

from kb.config import Settings

# An extension kept on a stored original only when it is plain: the upload's name is display
# data and must never shape a path.
_SAFE_SUFFIX = re.compile(r"\.[a-z0-9]{1,10}")


@dataclass(frozen=True)
class DataDir:
    """The files and folders of one data dir; built from Settings, never spelled elsewhere."""

    root: Path
    users_override: Path | None = None

    @classmethod
    def of(cls, settings: Settings) -> DataDir:
        """The layout of `settings.data_dir` (KB_USERS_FILE moves the users file)."""
        return cls(Path(settings.data_dir), settings.users_file)

    def create(self) -> DataDir:
        """Make the root folder if it is missing; returns self."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    @property
    def registry(self) -> Path:
        """The document registry (SQLite)."""
        return self.root / "registry.sqlite"

    @property
    def embeddings(self) -> Path:
        """The embedding cache (SQLite)."""
        return self.root / "embeddings.sqlite"

    @property
    def audit(self) -> Path:
        """The audit log (SQLite)."""
        return self.root / "audit.sqlite"

    @property
    def users(self) -> Path:
        """The users file: KB_USERS_FILE, else users.json here."""
        return self.users_override or self.root / "users.json"

    @property
    def chroma(self) -> Path:
        """The embedded Chroma store's folder."""
        return self.root / "chroma"

    @property
    def chroma_open_lock(self) -> Path:
        """Held while the embedded store is opened (its schema set-up races)."""
        return self.root / "chroma-open.lock"

    @property
    def keyword(self) -> Path:
        """The saved keyword (BM25) index."""
        return self.root / "keyword"

    @property
    def write_lock(self) -> Path:
        """The cross-process write lock file."""
        return self.root / "write.lock"

    @property
    def originals(self) -> Path:
        """The folder of stored originals, one subfolder per document."""
        return self.root / "originals"

    @property
    def log(self) -> Path:
        """kb's log file (rotated beside itself)."""
        return self.root / "logs" / "kb.log"


def original_file(folder: Path, doc_id: str, version: str, name: str, kind: str) -> Path:
    """The stored original of a version: folder/doc_id/version + a safe extension."""
    suffix = PurePath(name.replace("\\", "/")).suffix.lower()
    if not _SAFE_SUFFIX.fullmatch(suffix):
        suffix = f".{kind}"
    return folder / doc_id / f"{version}{suffix}"
