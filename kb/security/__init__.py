"""Security: who is asking, what they may read, and what they did.

┌ kb/security ───────────────────────────────────────────────────────────────┐
│ principals (roles, groups)  auth (sign-in, throttle, OIDC)                 │
│ users (in the database)  audit (append-only, hash-chained log)             │
└────────────────────────────────────────────────────────────────────────────┘
"""

from __future__ import annotations

from kb.security.audit import ACTIONS, AuditEvent, AuditLog
from kb.security.auth import FAILED_SIGN_IN_DELAY, GUEST, Authenticator, oidc_providers
from kb.security.principals import EVERYONE, SYSTEM, Principal, normalize_groups, require_admin
from kb.security.users import ROLES, UserStore

__all__ = [
    "ACTIONS",
    "AuditEvent",
    "AuditLog",
    "Authenticator",
    "EVERYONE",
    "FAILED_SIGN_IN_DELAY",
    "GUEST",
    "Principal",
    "ROLES",
    "SYSTEM",
    "UserStore",
    "normalize_groups",
    "oidc_providers",
    "require_admin",
]
