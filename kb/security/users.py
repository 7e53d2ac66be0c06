"""Users: names, roles, groups and salted (argon2id) password hashes, in the database."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, text

from kb.backends.database import Database
from kb.errors import ConfigError, KBError, UserError
from kb.security.principals import EVERYONE, Principal

Role = Literal["employee", "admin"]
ROLES: tuple[Role, ...] = ("employee", "admin")
# E-mail addresses fit, so an OIDC identity and a users-file entry can be the same name.
_NAME = re.compile(r"[a-z0-9][a-z0-9._@+-]{0,99}")
_GROUP = re.compile(
    r"[a-z0-9][a-z0-9_.@-]{0,63}"
)  # as kb.security.principals accepts for documents
# Longer passwords only cost hashing time; this bound stops a megabyte "password" DoS.
MAX_PASSWORD_LENGTH = 1024
# argon2id with the library's RFC 9106 "low memory" profile (64 MiB, 3 passes): ~50 ms here.
_HASHER = PasswordHasher()
# Verified against when the name is unknown, so an unknown name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("kb: no such user")


def normalize_name(name: str) -> str:
    """A user name as stored: trimmed and lower-case (e-mail addresses ignore case)."""
    return name.strip().lower()


def check_name(name: str) -> str:
    """The normalized name, or a UserError saying what a name may contain."""
    norm = normalize_name(name)
    if not _NAME.fullmatch(norm):
        raise UserError(
            f"invalid user name {name[:60]!r}: use 1-100 letters, digits and . _ @ + - "
            "(an e-mail address works), starting with a letter or digit"
        )
    return norm


def check_groups(groups: Iterable[str]) -> tuple[str, ...]:
    """Groups as stored: lower-case, sorted, without 'everyone' (every user is in it)."""
    out = set()
    for raw in groups:
        group = raw.strip().lower()
        if not group or group == EVERYONE:
            continue
        if not _GROUP.fullmatch(group):
            raise UserError(
                f"invalid group {raw[:60]!r}: use 1-64 lower-case letters, digits and . _ - @"
            )
        out.add(group)
    return tuple(sorted(out))


def check_password(password: str, name: str, min_length: int) -> None:
    """Refuse a password that is too short, too long or the user's own name."""
    if len(password) < min_length:
        raise UserError(
            f"the password is too short: use at least {min_length} characters "
            "(a passphrase of four or more words is easy to remember)"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"the password is too long: at most {MAX_PASSWORD_LENGTH} characters")
    if password.strip().lower() == normalize_name(name):
        raise UserError("the password must not be the user name")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class User:
    """One user kb knows."""

    name: str
    role: Role
    groups: tuple[str, ...] = ()
    # None: no password, the user signs in only through the OIDC provider.
    password_hash: str | None = None
    updated_at: str = ""

    @property
    def principal(self) -> Principal:
        """Who this user is to the knowledge base: name, role and groups."""
        return Principal(self.name, self.role, frozenset(self.groups))

    @property
    def sign_in(self) -> str:
        """How the user signs in: 'password' or 'OIDC only'."""
        return "password" if self.password_hash else "OIDC only"


def _user(row: Any) -> User:
    try:
        role = row.role
        if role not in ROLES:
            raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
        return User(
            name=check_name(str(row.name)),
            role=cast(Role, role),
            groups=check_groups(json.loads(row.groups or "[]")),
            password_hash=row.password_hash or None,
            updated_at=str(row.updated_at or ""),
        )
    except (TypeError, ValueError, UserError) as exc:
        raise ConfigError(
            f"the users table has a bad entry for {str(row.name)[:60]!r} ({exc}); "
            "fix it with `kb users set` or remove it with `kb users remove`"
        ) from exc


def _params(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role,
        "groups": json.dumps(list(user.groups)),
        "password_hash": user.password_hash,
        "updated_at": user.updated_at,
    }


_UPDATE = text(
    "UPDATE users SET role=:role, groups=:groups, password_hash=:password_hash, "
    "updated_at=:updated_at WHERE name=:name"
)


class UserStore:
    """The `users` table, shared by every process and replica on the same database."""

    def __init__(self, db: Database, min_password_length: int = 12) -> None:
        self.db = db
        self.min_password_length = min_password_length

    # -- reading -------------------------------------------------------------------------------
    def users(self) -> list[User]:
        """Every user, by name."""
        with self.db.read() as conn:
            return [_user(r) for r in conn.execute(text("SELECT * FROM users ORDER BY name"))]

    def get(self, name: str) -> User | None:
        """The user called `name` (any case), or None."""
        with self.db.read() as conn:
            row = conn.execute(
                text("SELECT * FROM users WHERE name=:n"), {"n": normalize_name(name)}
            ).first()
        return _user(row) if row else None

    def groups(self) -> list[str]:
        """Every group some user belongs to."""
        return sorted({g for u in self.users() for g in u.groups})

    def verify(self, name: str, password: str) -> User | None:
        """The user if `password` is theirs; None otherwise (unknown name or wrong password)."""
        user = self.get(name)
        stored = user.password_hash if user else None
        if len(password) > MAX_PASSWORD_LENGTH:
            return None
        try:
            _HASHER.verify(stored or _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or stored is None:
            return None
        if _HASHER.check_needs_rehash(stored):  # the hashing profile got stronger since
            with contextlib.suppress(KBError):
                self._change(user.name, lambda u: replace(u, password_hash=_HASHER.hash(password)))
        return user

    # -- writing: one transaction each, serialised (the last-admin check reads them all) ---
    def _all(self, conn: Connection) -> dict[str, User]:
        return {u.name: u for u in map(_user, conn.execute(text("SELECT * FROM users")))}

    def _change(
        self, name: str, change: Callable[[User], User], keep_an_admin: bool = False
    ) -> User:
        with self.db.write(lock="users") as conn:
            users = self._all(conn)
            user = users.get(normalize_name(name))
            if user is None:
                raise UserError(f"no user named {name[:60]!r}; see `kb users list`")
            users[user.name] = new = replace(change(user), updated_at=_now())
            if keep_an_admin:
                _check_admin_left(users, user)
            conn.execute(_UPDATE, _params(new))
        return new

    def add(
        self, name: str, role: Role, groups: Iterable[str] = (), password: str | None = None
    ) -> User:
        """A new user; without a password the user can sign in only through OIDC."""
        norm = check_name(name)
        if role not in ROLES:
            raise UserError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        if password is not None:
            check_password(password, norm, self.min_password_length)
        hashed = _HASHER.hash(password) if password is not None else None
        user = User(norm, role, check_groups(groups), hashed, _now())
        with self.db.write(lock="users") as conn:
            if conn.execute(text("SELECT 1 FROM users WHERE name=:n"), {"n": norm}).first():
                raise UserError(
                    f"a user named {norm!r} exists already; change it with `kb users set` "
                    "or `kb users passwd`"
                )
            conn.execute(
                text(
                    "INSERT INTO users (name, role, groups, password_hash, updated_at) "
                    "VALUES (:name, :role, :groups, :password_hash, :updated_at)"
                ),
                _params(user),
            )
        return user

    def remove(self, name: str, keep_an_admin: bool = True) -> User:
        """Delete a user; their open sessions end at their next click."""
        with self.db.write(lock="users") as conn:
            users = self._all(conn)
            user = users.pop(normalize_name(name), None)
            if user is None:
                raise UserError(f"no user named {name[:60]!r}; see `kb users list`")
            if keep_an_admin:
                _check_admin_left(users, user)
            conn.execute(text("DELETE FROM users WHERE name=:n"), {"n": user.name})
        return user

    def set_password(self, name: str, password: str | None) -> User:
        """A new password (None: OIDC only); open sessions of the user end."""
        if password is not None:
            check_password(password, name, self.min_password_length)
        hashed = _HASHER.hash(password) if password is not None else None
        return self._change(name, lambda u: replace(u, password_hash=hashed))

    def update(
        self,
        name: str,
        role: Role | None = None,
        groups: Iterable[str] | None = None,
        keep_an_admin: bool = True,
    ) -> User:
        """Change a user's role and/or groups; open sessions see it at their next click."""
        if role is not None and role not in ROLES:
            raise UserError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        new_groups = None if groups is None else check_groups(groups)
        return self._change(
            name,
            lambda u: replace(
                u, role=role or u.role, groups=u.groups if new_groups is None else new_groups
            ),
            keep_an_admin,
        )


def _check_admin_left(users: dict[str, User], before: User) -> None:
    # Losing the last admin locks everyone out of the admin pages: refuse unless forced.
    if before.role == "admin" and not any(u.role == "admin" for u in users.values()):
        raise UserError(
            f"{before.name} is the last admin: add another admin first "
            "(or pass --force, and sign in with KB_ADMIN_PASSWORD afterwards)"
        )
