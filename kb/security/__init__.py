"""Security: who is asking, and what they did.

┌ security ─────────────────────────────────────────────────────┐
│ principals (roles, groups)  auth (sign-in, throttle, OIDC)     │
│ users (the users file)      audit (append-only, hash-chained)  │
└───────────────────────────────────────────────────────────────┘
"""
