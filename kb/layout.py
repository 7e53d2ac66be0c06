"""Every path under the data dir, named once.

KB_DATA_DIR/
  kb.sqlite           the database, unless KB_DATABASE_URL names another (PostgreSQL):
                      documents, live versions, write journal, counters, the append-only
                      hash-chained audit log, users, the sign-in throttle
  embeddings.sqlite   vectors by text hash and model: unchanged text is never re-embedded
  registry.sqlite.imported, audit.sqlite.imported, users.json.imported
                      what a data dir kept before the database, after its import
  chroma/             the embedded Chroma store (unused with KB_CHROMA_HOST)
  chroma-open.lock    serialises creating the embedded store across processes
  keyword/            the saved BM25 index (rebuilt from Chroma when stale)
  write.lock          one writer at a time, across processes
  originals/DOC_ID/VERSION.EXT   the uploaded bytes of each live version (the default
                      blob store; KB_ORIGINALS_DIR or KB_S3_* put them elsewhere)
  golden.yaml         the golden set kb keeps, mirrored from the database (questions.yaml form)
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
        """The layout of `settings.data_dir` (KB_USERS_FILE names a legacy users file)."""
        return cls(Path(settings.data_dir), settings.users_file)

    def create(self) -> DataDir:
        """Make the root folder if it is missing; returns self."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    @property
    def database(self) -> Path:
        """The SQLite database used when KB_DATABASE_URL is unset."""
        return self.root / "kb.sqlite"

    @property
    def registry(self) -> Path:
        """The document registry from before the database (imported by the migration)."""
        return self.root / "registry.sqlite"

    @property
    def embeddings(self) -> Path:
        """The embedding cache (SQLite)."""
        return self.root / "embeddings.sqlite"

    @property
    def audit(self) -> Path:
        """The audit log from before the database (imported by the migration)."""
        return self.root / "audit.sqlite"

    @property
    def users(self) -> Path:
        """The users file from before the database (KB_USERS_FILE, else users.json here),
        imported by the migration."""
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
    def golden(self) -> Path:
        """The golden set kb keeps, mirrored from the database as a questions file."""
        return self.root / "golden.yaml"

    @property
    def log(self) -> Path:
        """kb's log file (rotated beside itself)."""
        return self.root / "logs" / "kb.log"


def original_key(doc_id: str, version: str, name: str, kind: str) -> str:
    """The blob-store key of a version's original: DOC_ID/VERSION + a safe extension."""
    suffix = PurePath(name.replace("\\", "/")).suffix.lower()
    if not _SAFE_SUFFIX.fullmatch(suffix):
        suffix = f".{kind}"
    return f"{doc_id}/{version}{suffix}"
