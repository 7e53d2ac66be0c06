"""Admin sign-in: where the admin password comes from, and a constant-time check against it."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from kb.config import Settings
from kb.errors import ConfigError

HOW_TO_CONFIGURE = (
    "Admin pages are closed because no admin password is configured. Set `KB_ADMIN_PASSWORD` "
    "(or `KB_ADMIN_PASSWORD_HASH`, the sha256 hex digest of the password) in the environment, "
    'or put `KB_ADMIN_PASSWORD = "..."` in `.streamlit/secrets.toml`, then restart the app.'
)
# Wrong passwords wait this long before the form comes back: it slows guessing.
FAILED_SIGN_IN_DELAY = 1.0
_HEX64 = re.compile(r"[0-9a-f]{64}")
# Keys looked up in secrets.toml, in order: the env-style names first, then plain ones.
_PASSWORD_KEYS = ("KB_ADMIN_PASSWORD", "kb_admin_password", "admin_password")
_HASH_KEYS = ("KB_ADMIN_PASSWORD_HASH", "kb_admin_password_hash", "admin_password_hash")


def hash_password(password: str) -> str:
    """The sha256 hex digest of a password (the form KB_ADMIN_PASSWORD_HASH takes)."""
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AdminSecret:
    """The configured admin credential, kept only as a digest, and where it came from."""

    digest: str | None
    source: str = ""

    @property
    def configured(self) -> bool:
        """Whether any admin password is set; without one every admin action is refused."""
        return self.digest is not None

    def verify(self, given: str) -> bool:
        """Whether `given` is the admin password (constant time; False when none is set)."""
        if self.digest is None:
            return False
        # Comparing digests of equal length leaks neither the password nor its length.
        return hmac.compare_digest(hash_password(given), self.digest)

    def session_token(self) -> str:
        """What a session keeps after signing in: tied to the password, so changing it (or
        removing it) signs every session out."""
        if self.digest is None:
            raise ConfigError(HOW_TO_CONFIGURE)
        return hmac.new(self.digest.encode(), b"kb-admin-session", hashlib.sha256).hexdigest()

    def signed_in(self, token: object) -> bool:
        """Whether a session's saved token still opens the admin pages."""
        if self.digest is None or not isinstance(token, str):
            return False
        return hmac.compare_digest(token, self.session_token())


def _checked_hash(value: str, where: str) -> str:
    digest = value.strip().lower()
    if not _HEX64.fullmatch(digest):
        raise ConfigError(
            f"the admin password hash in {where} is not a sha256 hex digest (64 characters "
            '0-9a-f); make one with: python -c "import hashlib; '
            "print(hashlib.sha256(b'YOUR PASSWORD').hexdigest())\""
        )
    return digest


def _first(secrets: Mapping[str, object], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = secrets.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def admin_secret(settings: Settings, secrets: Mapping[str, object] | None = None) -> AdminSecret:
    """The admin credential: the environment (settings) first, then secrets.toml's values.

    An empty password counts as none, so an admin page is never left open by accident."""
    if settings.admin_password is not None and settings.admin_password.get_secret_value():
        return AdminSecret(hash_password(settings.admin_password.get_secret_value()), "environment")
    if settings.admin_password_hash:
        return AdminSecret(
            _checked_hash(settings.admin_password_hash, "KB_ADMIN_PASSWORD_HASH"), "environment"
        )
    secrets = secrets or {}
    password = _first(secrets, _PASSWORD_KEYS)
    if password:
        return AdminSecret(hash_password(password), "secrets.toml")
    digest = _first(secrets, _HASH_KEYS)
    if digest:
        return AdminSecret(_checked_hash(digest, ".streamlit/secrets.toml"), "secrets.toml")
    return AdminSecret(None)
