"""Security: who is asking, what they may read, and what they did.

┌ kb/security ───────────────────────────────────────────────────────────────┐
│ principals (roles, groups)  auth (sign-in, throttle, OIDC)                 │
│ users (the users file)  audit (append-only, hash-chained log)              │
└────────────────────────────────────────────────────────────────────────────┘
"""
