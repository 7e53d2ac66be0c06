"""The local users file: names, roles, groups and salted (argon2id) password hashes."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

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
_FORMAT = 1
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
    """One entry of the users file."""

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


def _user(raw: dict[str, Any], where: Path) -> User:
    try:
        role = raw["role"]
        if role not in ROLES:
            raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
        return User(
            name=check_name(str(raw["name"])),
            role=cast(Role, role),
            groups=check_groups(raw.get("groups", [])),
            password_hash=raw.get("password_hash") or None,
            updated_at=str(raw.get("updated_at", "")),
        )
    except (KeyError, TypeError, ValueError, UserError) as exc:
        raise ConfigError(
            f"the users file {where} has a bad entry ({exc}); fix it by hand or restore it, "
            "then use `kb users` to change users"
        ) from exc


class UsersFile:
    """The users file, safe to share between threads and between processes (app and CLI)."""

    def __init__(self, path: Path, min_password_length: int = 12) -> None:
        self.path = Path(path)
        self.min_password_length = min_password_length
        self._lock = threading.Lock()
        self._cache: tuple[tuple[int, int], dict[str, User]] | None = None

    # -- reading -------------------------------------------------------------------------------
    def _read(self) -> dict[str, User]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        key = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._cache and self._cache[0] == key:
                return self._cache[1]
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                entries = data["users"]
                if not isinstance(entries, list):
                    raise TypeError("'users' is not a list")
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise ConfigError(
                    f"cannot read the users file {self.path} ({exc}); restore it from a backup "
                    "or move it away and add users again with `kb users add`"
                ) from exc
            users = {u.name: u for u in (_user(raw, self.path) for raw in entries)}
            self._cache = (key, users)
            return users

    def users(self) -> list[User]:
        """Every user, by name."""
        return sorted(self._read().values(), key=lambda u: u.name)

    def get(self, name: str) -> User | None:
        """The user called `name` (any case), or None."""
        return self._read().get(normalize_name(name))

    def groups(self) -> list[str]:
        """Every group some user belongs to."""
        return sorted({g for u in self._read().values() for g in u.groups})

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
            with contextlib.suppress(KBError, OSError):
                self._change(user.name, lambda u: replace(u, password_hash=_HASHER.hash(password)))
        return user

    # -- writing -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, User]]:
        # One writer at a time across processes (the app and `kb users`), then an atomic swap.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            with self._lock:
                self._cache = None
            users = dict(self._read())
            yield users
            self._write(users)

    def _write(self, users: dict[str, User]) -> None:
        rows = [asdict(u) for u in sorted(users.values(), key=lambda u: u.name)]
        for row in rows:
            row["groups"] = list(row["groups"])
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # hashes: owner only
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"version": _FORMAT, "users": rows}, out, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
        with self._lock:
            self._cache = None

    def _change(self, name: str, change: Any, keep_an_admin: bool = False) -> User:
        with self._locked() as users:
            user = users.get(normalize_name(name))
            if user is None:
                raise UserError(f"no user named {name[:60]!r}; see `kb users list`")
            users[user.name] = new = replace(change(user), updated_at=_now())
            if keep_an_admin:
                _check_admin_left(users, user)
        return cast(User, new)

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
        with self._locked() as users:
            if norm in users:
                raise UserError(
                    f"a user named {norm!r} exists already; change it with `kb users set` "
                    "or `kb users passwd`"
                )
            users[norm] = user
        return user

    def remove(self, name: str, keep_an_admin: bool = True) -> User:
        """Delete a user; their open sessions end at their next click."""
        with self._locked() as users:
            user = users.pop(normalize_name(name), None)
            if user is None:
                raise UserError(f"no user named {name[:60]!r}; see `kb users list`")
            if keep_an_admin:
                _check_admin_left(users, user)
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
