"""Sign-in: who a session is (kb's users, bootstrap admin, OIDC identity), checked server-side."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from kb.backends import build_database
from kb.backends.database import Database
from kb.config import Settings
from kb.errors import KBError, SignInError
from kb.security.principals import Principal
from kb.security.users import User, UserStore, check_groups, normalize_name

# The env-configured admin (KB_ADMIN_PASSWORD): opens a fresh install before any user exists.
BOOTSTRAP_ADMIN = "admin"
# Wrong passwords wait this long before the form comes back: it slows guessing.
FAILED_SIGN_IN_DELAY = 1.0
WRONG_CREDENTIALS = "Wrong user name or password."
GUEST = Principal("guest", "employee")


def open_users(settings: Settings) -> UserStore:
    """The users of these settings' database."""
    return UserStore(build_database(settings), settings.password_min_length)


def generate_password() -> str:
    """A random password for a bootstrap admin (about 120 bits, easy to copy)."""
    return "-".join(secrets.token_urlsafe(6) for _ in range(4))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class SignInThrottle:
    """Locks a user name for a while after repeated wrong passwords. With a database the
    count is shared by every process and replica (N replicas must not give a guesser N
    times the tries); without one it is this process's."""

    db: Database | None = None
    # 5 tries in 15 minutes, then 5 minutes' wait: a person mistyping never hits it,
    # a guessing script gets 5 guesses per 5 minutes instead of one a second.
    max_failures: int = 5
    window: float = 900.0
    lockout: float = 300.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, name: str, now: float) -> list[float]:
        if self.db is None:
            return list(self._failures.get(name, ()))
        with self.db.read() as conn:
            rows = conn.execute(
                text(
                    "SELECT at FROM sign_in_failures WHERE name=:n AND at>:since "
                    "ORDER BY at DESC LIMIT :k"
                ),
                {"n": name, "since": now - self.window, "k": self.max_failures},
            )
            return sorted(float(r[0]) for r in rows)

    def wait(self, name: str, now: float | None = None) -> float:
        """Seconds until `name` may try again (0: now)."""
        now = time.time() if now is None else now
        recent = self._recent(normalize_name(name), now)
        if len(recent) < self.max_failures:
            return 0.0
        return max(0.0, recent[-1] + self.lockout - now)

    def failed(self, name: str, now: float | None = None) -> None:
        """Note a wrong password for `name`."""
        now = time.time() if now is None else now
        key = normalize_name(name)
        if self.db is None:
            recent = self._failures.setdefault(key, deque())
            recent.append(now)
            while recent and (recent[0] < now - self.window or len(recent) > self.max_failures):
                recent.popleft()
            return
        with self.db.write() as conn:
            conn.execute(
                text("INSERT INTO sign_in_failures (name, at) VALUES (:n, :at)"),
                {"n": key, "at": now},
            )
            # Old rows tell nothing: the table stays as small as the recent guessing.
            conn.execute(
                text("DELETE FROM sign_in_failures WHERE at<:old"),
                {"old": now - max(self.window, self.lockout)},
            )

    def succeeded(self, name: str) -> None:
        """A right password clears the count."""
        key = normalize_name(name)
        if self.db is None:
            self._failures.pop(key, None)
            return
        with self.db.write() as conn:
            conn.execute(text("DELETE FROM sign_in_failures WHERE name=:n"), {"n": key})


@dataclass(frozen=True)
class Session:
    """What a signed-in session keeps: the user's name and a fingerprint of their credential.

    The fingerprint changes when the password does (or the user goes), which signs them out."""

    name: str
    fingerprint: str


class Authenticator:
    """Password sign-in against kb's users and the bootstrap admin, and session checks."""

    def __init__(self, settings: Settings, users: UserStore | None = None) -> None:
        self.settings = settings
        self.users = users or open_users(settings)
        self.throttle = SignInThrottle(self.users.db)

    @property
    def bootstrap_digest(self) -> str | None:
        """sha256 of KB_ADMIN_PASSWORD when it is set (an empty one counts as unset)."""
        secret = self.settings.admin_password
        value = secret.get_secret_value() if secret is not None else ""
        return _digest(value) if value else None

    def has_admin(self) -> bool:
        """Whether anyone can open the admin pages: an admin user or the bootstrap admin."""
        return self.bootstrap_digest is not None or any(
            u.role == "admin" for u in self.users.users()
        )

    def has_password_users(self) -> bool:
        """Whether the password form can sign anyone in."""
        return self.bootstrap_digest is not None or any(u.password_hash for u in self.users.users())

    def _bootstrap(self, name: str) -> bool:
        # kb's users win: once a user called "admin" exists, the variable opens nothing.
        return (
            self.bootstrap_digest is not None
            and normalize_name(name) == BOOTSTRAP_ADMIN
            and self.users.get(BOOTSTRAP_ADMIN) is None
        )

    def sign_in(self, name: str, password: str) -> tuple[Principal, Session]:
        """The principal and session for a right password; SignInError otherwise."""
        wait = self.throttle.wait(name)
        if wait:
            raise SignInError(
                f"Too many wrong passwords for this user: try again in {wait / 60:.0f} min."
                if wait >= 60
                else f"Too many wrong passwords for this user: try again in {wait:.0f} s."
            )
        if self._bootstrap(name):
            digest = self.bootstrap_digest or ""
            if hmac.compare_digest(_digest(password), digest):
                self.throttle.succeeded(name)
                return Principal(BOOTSTRAP_ADMIN, "admin"), self._session_of(BOOTSTRAP_ADMIN)
        else:
            user = self.users.verify(name, password)
            if user is not None:
                self.throttle.succeeded(name)
                return user.principal, self._session_of(user.name)
        self.throttle.failed(name)
        raise SignInError(WRONG_CREDENTIALS)

    def _fingerprint(self, name: str) -> str | None:
        if self._bootstrap(name):
            return _digest(f"bootstrap\0{self.bootstrap_digest}")
        user = self.users.get(name)
        if user is None or not user.password_hash:
            return None
        return _digest(f"{user.name}\0{user.password_hash}")

    def _session_of(self, name: str) -> Session:
        fingerprint = self._fingerprint(name)
        if fingerprint is None:  # removed between the check and here
            raise SignInError(WRONG_CREDENTIALS)
        return Session(normalize_name(name), fingerprint)

    def resume(self, session: object) -> Principal | None:
        """The session's principal as of now (role and groups re-read), or None if it ended."""
        if not isinstance(session, Session):
            return None
        fingerprint = self._fingerprint(session.name)
        if fingerprint is None or not hmac.compare_digest(fingerprint, session.fingerprint):
            return None
        if self._bootstrap(session.name):
            return Principal(BOOTSTRAP_ADMIN, "admin")
        user = self.users.get(session.name)
        return user.principal if user else None

    def oidc_principal(self, claims: Mapping[str, Any]) -> Principal:
        """The principal of an identity the OIDC provider vouched for; SignInError if refused."""
        return oidc_principal(claims, self.users.get, self.settings)


def _domains(settings: Settings) -> set[str]:
    return {d.strip().lower().lstrip("@") for d in settings.oidc_domains.split(",") if d.strip()}


def _claim_groups(claims: Mapping[str, Any], claim: str) -> tuple[str, ...]:
    if not claim:
        return ()
    raw = claims.get(claim) or []
    values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    out: list[str] = []
    for value in values:
        try:  # a group name kb cannot store is skipped, not fatal for the sign-in
            out += check_groups([str(value)])
        except KBError:
            continue
    return tuple(out)


def oidc_principal(claims: Mapping[str, Any], lookup: Any, settings: Settings) -> Principal:
    """Map an ID token's claims to a principal: kb's role and groups for the e-mail,
    else (if allowed) an employee; groups from KB_OIDC_GROUPS_CLAIM are added."""
    email = str(claims.get("email") or "").strip().lower()
    if not email or "@" not in email:
        raise SignInError(
            "Your identity provider sent no e-mail address, so kb cannot tell who you are. "
            "An admin must add the `email` scope to the provider's set-up."
        )
    if claims.get("email_verified") is False:
        raise SignInError(
            "Your identity provider says your e-mail address is not verified: verify it there, "
            "then sign in again."
        )
    domains = _domains(settings)
    if domains and email.rsplit("@", 1)[1] not in domains:
        raise SignInError(
            f"{email} is not from a domain allowed here ({', '.join(sorted(domains))}); "
            "sign in with your company account."
        )
    user: User | None = lookup(email)
    extra = _claim_groups(claims, settings.oidc_groups_claim)
    if user is not None:
        return Principal(user.name, user.role, frozenset(user.groups) | frozenset(extra))
    if settings.oidc_unknown_users == "deny":
        raise SignInError(
            f"{email} has no account in kb yet: ask an admin to run `kb users add {email}`."
        )
    return Principal(email, "employee", frozenset(extra))


def oidc_providers(auth: Mapping[str, Any]) -> list[str | None]:
    """The providers st.login can use from secrets.toml's [auth] section (None: the default)."""
    if not auth.get("redirect_uri") or not auth.get("cookie_secret"):
        return []
    found: list[str | None] = [None] if auth.get("client_id") else []
    found += sorted(k for k, v in auth.items() if isinstance(v, Mapping) and v.get("client_id"))
    return found
