"""`kb db`: the database's schema revision, and upgrading it in place."""

from __future__ import annotations

import argparse
from typing import Any

from kb.backends.database import Database, settings_url
from kb.backends.migrate import Legacy, status, upgrade
from kb.config import Settings
from kb.layout import DataDir


def _database(settings: Settings) -> tuple[Database, Legacy]:
    paths = DataDir.of(settings).create()
    legacy = Legacy(paths.registry, paths.audit, paths.users)
    return Database(settings_url(settings)), legacy


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    """kb db status | upgrade."""
    db, legacy = _database(settings)
    try:
        if args.db_command == "upgrade":
            done = upgrade(db, legacy)
            for line in done:
                print(line)
            rev, head = status(db)
            print(f"{db.describe()}: at {rev}" + ("" if done else " (already up to date)"))
            return 0
        rev, head = status(db)
        state = "up to date" if rev == head else f"needs `kb db upgrade` to {head}"
        print(f"{db.describe()}: schema revision {rev or 'none'}; this kb: {head} ({state})")
        waiting = [p.name for p in legacy.present()]
        if waiting:
            print(f"not yet imported from {legacy.registry.parent}: {', '.join(waiting)}")
        return 0 if rev == head else 1
    finally:
        db.dispose()


def add_db_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """The `kb db` subcommands."""
    p = sub.add_parser("db", parents=[common], help="the database schema: status, upgrade")
    db = p.add_subparsers(dest="db_command", required=True)
    db.add_parser("status", parents=[common], help="the schema revision, and this kb's")
    db.add_parser(
        "upgrade",
        parents=[common],
        help="migrate the schema in place (imports a data dir's files from before the database)",
    )
    p.set_defaults(func=cmd_db)
