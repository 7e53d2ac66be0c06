"""Schema migrations (Alembic): check the database's revision, upgrade it in place.

A SQLite data dir upgrades by itself when it opens (one machine, nothing else reads it); a
PostgreSQL database shared by replicas is created when empty but otherwise upgraded only by
`kb db upgrade`, so a new release never changes the schema under replicas still running the
old one. A schema newer than this code is always refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from kb.backends.database import Database
from kb.errors import ConfigError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class Legacy:
    """The files a data dir kept before the database (imported by revision 0001)."""

    registry: Path
    audit: Path
    users: Path

    def present(self) -> list[Path]:
        """The legacy files that exist."""
        return [p for p in (self.registry, self.audit, self.users) if p.is_file()]


def _config(conn: Connection | None = None, legacy: Legacy | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    if legacy:
        cfg.attributes["legacy"] = {
            "registry": legacy.registry,
            "audit": legacy.audit,
            "users": legacy.users,
        }
    return cfg


def head() -> str:
    """The newest revision this code knows."""
    rev = ScriptDirectory.from_config(_config()).get_current_head()
    assert rev
    return rev


def current(conn: Connection) -> str | None:
    """The revision the database is at (None: kb never created its tables there)."""
    return MigrationContext.configure(conn).get_current_revision()


def _check_not_newer(db: Database, rev: str | None) -> None:
    known = {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}
    if rev is not None and rev not in known:
        raise ConfigError(
            f"the database {db.describe()} has schema revision {rev}, newer than this kb "
            f"(it knows up to {head()}): run the kb release that upgraded it, or a newer one"
        )


def status(db: Database) -> tuple[str | None, str]:
    """(the database's revision, this code's head)."""
    with db.read() as conn:
        return current(conn), head()


def upgrade(db: Database, legacy: Legacy | None = None, to: str = "head") -> list[str]:
    """Bring the schema to head (or revision `to`) under a migration lock; returns what was
    done."""
    done: list[str] = []
    with db.write(lock="migrate") as conn:
        rev = current(conn)
        _check_not_newer(db, rev)
        target = head() if to == "head" else to
        if rev == target:
            return done
        fresh = rev is None
        if fresh and "documents" in inspect(conn).get_table_names():
            raise ConfigError(
                f"the database {db.describe()} has kb-like tables but no schema revision; "
                "point KB_DATABASE_URL at an empty database"
            )
        command.upgrade(_config(conn, legacy if fresh else None), target)
        done.append(f"schema upgraded from {rev or 'nothing'} to {target}")
    if fresh and legacy:
        for path in legacy.present():
            # Sidecars keep SQLite's pairing (X.imported-wal beside X.imported).
            for part in (path, *_sqlite_sidecars(path)):
                part.rename(part.with_name(part.name.replace(path.name, path.name + ".imported")))
            done.append(f"imported {path.name} (kept as {path.name}.imported)")
    for line in done:
        log.info("%s: %s", db.describe(), line)
    return done


def prepare(db: Database, legacy: Legacy | None = None) -> None:
    """Make the database usable by this code, or refuse: see the module docstring."""
    with db.read() as conn:
        rev = current(conn)
    _check_not_newer(db, rev)
    if rev == head():
        return
    if db.shared and rev is not None:
        raise ConfigError(
            f"the database {db.describe()} has schema revision {rev} and this kb needs "
            f"{head()}: run `kb db upgrade` once (with the same KB_DATABASE_URL), then start "
            "the replicas"
        )
    upgrade(db, legacy)


def _sqlite_sidecars(path: Path) -> list[Path]:
    return [p for p in (path.with_name(path.name + s) for s in ("-wal", "-shm")) if p.exists()]
