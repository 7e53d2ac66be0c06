"""`kb users`: manage who may sign in (passwords come from a prompt or stdin, never argv)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from kb.config import Settings
from kb.errors import NotFoundError, UsageError
from kb.security import ROLES, AuditLog, UserStore
from kb.security.auth import BOOTSTRAP_ADMIN, Authenticator, generate_password, open_users


def read_password(prompt_twice: bool = True) -> str:
    """A password typed at a prompt (asked twice), or the first line of stdin when piped."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line.strip():
            raise UsageError(
                "no password on stdin: pipe one line, e.g. `kb users passwd NAME < file`"
            )
        return line.rstrip("\r\n")
    first = getpass.getpass("New password: ")
    if prompt_twice and getpass.getpass("Again: ") != first:
        raise UsageError("the two passwords differ; nothing was changed")
    return first


def _groups(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [g for v in values for g in v.split(",") if g.strip()]


def _row(user: Any) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role,
        "groups": list(user.groups),
        "sign_in": user.sign_in,
        "updated_at": user.updated_at,
    }


def _audit(settings: Settings, action: str, user: Any, **detail: Any) -> None:
    """Record a change of a user; the actor is the account that ran `kb users`."""
    try:
        operator = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        operator = "unknown"
    log = AuditLog(open_users(settings).db)
    log.record(f"cli:{operator}", action, name=user.name, role=user.role, **detail)


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    """kb users list | add | remove | passwd | set | init."""
    users = open_users(settings)
    command = args.users_command
    if command == "list":
        return _list(users, settings, args.json)
    if command == "init":
        return _init(users, settings)
    if command == "add":
        password = None if args.oidc_only else read_password()
        user = users.add(args.name, args.role, _groups(args.group) or [], password)
        how = "signs in with OIDC only" if password is None else "signs in with a password"
        _audit(settings, "user_add", user, groups=list(user.groups), sign_in=user.sign_in)
        print(f"added {user.name} ({user.role}; groups: {', '.join(user.groups) or '-'}; {how})")
    elif command == "remove":
        user = users.remove(args.name, keep_an_admin=not args.force)
        _audit(settings, "user_remove", user)
        print(f"removed {user.name}; their open sessions end at their next click")
    elif command == "passwd":
        user = users.set_password(args.name, None if args.oidc_only else read_password())
        _audit(settings, "user_passwd", user, sign_in=user.sign_in)  # never the password
        print(f"changed the password of {user.name}; their open sessions end at their next click")
    else:
        found = users.get(args.name)
        if found is None:
            raise NotFoundError(f"no user named {args.name[:60]!r}; see `kb users list`")
        groups = _groups(args.groups)
        if args.add_group or args.remove_group:
            current = set(found.groups if groups is None else groups)
            current |= set(_groups(args.add_group) or [])
            current -= set(_groups(args.remove_group) or [])
            groups = sorted(current)
        if args.role is None and groups is None:
            raise UsageError(
                "nothing to change: pass --role, --groups, --add-group or --remove-group"
            )
        user = users.update(args.name, args.role, groups, keep_an_admin=not args.force)
        _audit(settings, "user_set", user, groups=list(user.groups))
        print(f"{user.name}: {user.role}; groups: {', '.join(user.groups) or '-'}")
    return 0


def _list(users: UserStore, settings: Settings, as_json: bool) -> int:
    rows = [_row(u) for u in users.users()]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for r in rows:
        groups = ",".join(r["groups"]) or "-"
        print(f"{r['name']:<40} {r['role']:<9} {groups:<30} {r['sign_in']:<10} {r['updated_at']}")
    if Authenticator(settings, users).bootstrap_digest:
        print(f"{BOOTSTRAP_ADMIN:<40} {'admin':<9} {'-':<30} KB_ADMIN_PASSWORD (bootstrap)")
    print(f"{len(rows)} user{'' if len(rows) == 1 else 's'} in {users.db.describe()}")
    return 0


def _init(users: UserStore, settings: Settings) -> int:
    """First run: make sure someone can sign in as admin, and say how."""
    auth = Authenticator(settings, users)
    if auth.has_admin():
        n = len(users.users())
        who = (
            f"{n} user{'' if n == 1 else 's'} in {users.db.describe()}"
            if n
            else "KB_ADMIN_PASSWORD"
        )
        print(f"sign-in: {who}; manage users with `kb users --help`")
        return 0
    password = generate_password()
    _audit(settings, "user_add", users.add(BOOTSTRAP_ADMIN, "admin", [], password), first_run=True)
    print(
        "\n  First run: created the admin user 'admin' with the password\n\n"
        f"      {password}\n\n"
        f"  (stored only as a salted hash in {users.db.describe()}; shown this once).\n"
        "  Sign in with it, then add real users:  kb users add NAME [--role admin]\n"
        "  Change it:  kb users passwd admin\n",
        file=sys.stderr,
    )
    return 0


def add_users_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """The `kb users` subcommands."""
    p = sub.add_parser("users", parents=[common], help="manage who may sign in")
    users = p.add_subparsers(dest="users_command", required=True)
    d = users.add_parser("list", parents=[common], help="list users, roles and groups")
    d.add_argument("--json", action="store_true")
    d = users.add_parser(
        "add", parents=[common], help="add a user (password from a prompt or stdin)"
    )
    d.add_argument("name", metavar="NAME", help="a user name or e-mail address")
    d.add_argument("--role", choices=ROLES, default="employee")
    d.add_argument("--group", action="append", metavar="GROUP", help="repeat or comma-separate")
    d.add_argument("--oidc-only", action="store_true", help="no password: signs in with OIDC")
    d = users.add_parser("remove", parents=[common], help="remove a user")
    d.add_argument("name", metavar="NAME")
    d.add_argument("--force", action="store_true", help="even the last admin")
    d = users.add_parser("passwd", parents=[common], help="set a new password (prompt or stdin)")
    d.add_argument("name", metavar="NAME")
    d.add_argument("--oidc-only", action="store_true", help="remove the password")
    d = users.add_parser("set", parents=[common], help="change a user's role or groups")
    d.add_argument("name", metavar="NAME")
    d.add_argument("--role", choices=ROLES)
    d.add_argument("--groups", action="append", metavar="G1,G2", help="replace the groups")
    d.add_argument("--add-group", action="append", metavar="GROUP")
    d.add_argument("--remove-group", action="append", metavar="GROUP")
    d.add_argument("--force", action="store_true", help="even demote the last admin")
    users.add_parser("init", parents=[common], help="first run: create an admin if there is none")
    p.set_defaults(func=cmd_users)
