"""Who is asking: principals, roles and the document groups they may read."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from kb.errors import AccessGroupError, PermissionDeniedError

EVERYONE = "everyone"  # the default group of a document; every user is in it
Role = Literal["employee", "admin"]
# Group names are identifiers people type and read in logs: short, no spaces or markup.
_GROUP = re.compile(r"[a-z0-9][a-z0-9_.@-]{0,63}")
MAX_GROUPS = 50  # a document open to more groups than this is better set to "everyone"


def normalize_group(name: str) -> str:
    """A group name as stored and compared: trimmed and lower-case."""
    return name.strip().lower()


def normalize_groups(groups: Iterable[str]) -> tuple[str, ...]:
    """Validated, de-duplicated, sorted group names; AccessGroupError on a bad or empty list."""
    if isinstance(groups, str):
        groups = [g for g in re.split(r"[,\s]+", groups) if g]
    clean = sorted({normalize_group(g) for g in groups if g.strip()})
    if not clean:
        raise AccessGroupError(
            f"give at least one access group (use '{EVERYONE}' to open it to all)"
        )
    bad = [g for g in clean if not _GROUP.fullmatch(g)]
    if bad:
        raise AccessGroupError(
            f"invalid group name {bad[0][:70]!r}: use letters, digits, '.', '_', '-' or '@' "
            "(up to 64 characters)"
        )
    if len(clean) > MAX_GROUPS:
        raise AccessGroupError(
            f"at most {MAX_GROUPS} groups per document; use '{EVERYONE}' instead"
        )
    return tuple(clean)


@dataclass(frozen=True)
class Principal:
    """A signed-in user (or the system) with a role and the groups they belong to."""

    name: str
    role: Role
    groups: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        """Whether this principal may run admin actions and see every document."""
        return self.role == "admin"

    def can_see(self, doc_groups: Iterable[str]) -> bool:
        """Admins see all; others see documents open to everyone or to one of their groups."""
        if self.is_admin:
            return True
        wanted = {normalize_group(g) for g in doc_groups}
        mine = {normalize_group(g) for g in self.groups} | {EVERYONE}
        return bool(wanted & mine)


SYSTEM = Principal("system", "admin")  # the server operator: CLI, first-run indexing, tests


def require_admin(actor: Principal, action: str) -> None:
    """Raise PermissionDeniedError unless `actor` is an admin (checked on the server side)."""
    if not isinstance(actor, Principal) or not actor.is_admin:
        who = getattr(actor, "name", "this user")
        raise PermissionDeniedError(
            f"You need the admin role to {action}; {who} is signed in as an employee. "
            "Ask an admin to do it or to grant you the role."
        )
