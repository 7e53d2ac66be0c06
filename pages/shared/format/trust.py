"""What the pages show about users, access groups and the audit log, computed without Streamlit."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from kb.security import EVERYONE, AuditEvent, Principal
from pages.shared.format.ui import escape_markdown

NOBODY_CAN_SIGN_IN = (
    "No one can sign in yet. On the server, run `kb users init` (creates an admin and prints "
    "its password) or `kb users add NAME --role admin`, or set `KB_ADMIN_PASSWORD` for a "
    "bootstrap admin named `admin`; then reload this page."
)
# Labels of the providers people know by name; any other shows its secrets.toml key.
_PROVIDERS = {"google": "Google", "microsoft": "Microsoft", "okta": "Okta", "auth0": "Auth0"}


def provider_label(provider: str | None) -> str:
    """How a sign-in button names an OIDC provider."""
    if provider is None:
        return "your company account"
    return _PROVIDERS.get(provider.lower(), provider.replace("_", " ").title())


def groups_label(groups: Iterable[str]) -> str:
    """'everyone', or the groups comma-separated."""
    listed = sorted(set(groups))
    return ", ".join(listed) if listed and listed != [EVERYONE] else EVERYONE


def principal_line(principal: Principal) -> str:
    """'Signed in as **ann** (employee · groups: hr)' as safe markdown."""
    groups = sorted(principal.groups - {EVERYONE})
    extra = f" · groups: {escape_markdown(', '.join(groups))}" if groups else ""
    return f"Signed in as **{escape_markdown(principal.name)}** ({principal.role}{extra})"


def admins_only(principal: Principal) -> str:
    """The refusal an employee gets on an admin page."""
    return (
        f"This page is for admins. You are signed in as {escape_markdown(principal.name)}, "
        "an employee: ask an admin if you need something uploaded, changed or deleted."
    )


def group_options(known: Iterable[str], chosen: Iterable[str] = ()) -> list[str]:
    """Groups to offer in a picker: everyone first, then every known group."""
    rest = sorted({g for g in [*known, *chosen] if g and g != EVERYONE})
    return [EVERYONE, *rest]


def chosen_groups(picked: Sequence[str]) -> list[str]:
    """The groups to store from a picker: 'everyone' alone wins; none picked means everyone."""
    clean = [g.strip().lower() for g in picked if g.strip()]
    return [EVERYONE] if not clean or EVERYONE in clean else sorted(set(clean))


# -- audit log ---------------------------------------------------------------------------------
# Shown first in an event's details: what a reader looks for (the question, the document).
_FIRST = ("question", "query", "name", "document", "groups", "after", "before", "method")


def _summary(detail: dict[str, Any]) -> str:
    parts = []
    order = sorted(detail, key=lambda k: _FIRST.index(k) if k in _FIRST else len(_FIRST))
    for key in order:
        value = detail[key]
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = json.dumps(value, ensure_ascii=False)
        parts.append(f"{key}: {value}")
    return "; ".join(parts)


def audit_rows(events: Sequence[AuditEvent]) -> list[dict[str, Any]]:
    """The audit table: newest first, one row per event, details as one readable line."""
    rows = [
        {
            "at": datetime.fromtimestamp(e.at, UTC),
            "actor": e.actor,
            "action": e.action,
            "details": _summary(e.detail),
        }
        for e in events
    ]
    return sorted(rows, key=lambda r: r["at"], reverse=True)


def filter_audit(
    events: Sequence[AuditEvent],
    actors: Sequence[str] = (),
    actions: Sequence[str] = (),
    text: str = "",
) -> list[AuditEvent]:
    """Events by any of `actors`, of any of `actions`, whose details contain `text`."""
    needle = text.strip().lower()
    return [
        e
        for e in events
        if (not actors or e.actor in actors)
        and (not actions or e.action in actions)
        and (not needle or needle in json.dumps(e.detail, ensure_ascii=False).lower())
    ]
