"""Users in the database, password sign-in, sessions, the throttle, the OIDC mapping."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from kb.backends.database import Database
from kb.config import load_settings
from kb.errors import ConfigError, UserError
from kb.security.auth import (
    BOOTSTRAP_ADMIN,
    WRONG_CREDENTIALS,
    Authenticator,
    SignInError,
    SignInThrottle,
    oidc_principal,
    oidc_providers,
    open_users,
)
from kb.security.principals import Principal
from kb.security.users import UserStore

PW = "correct horse battery staple"


@pytest.fixture
def users(tmp_path: Path) -> UserStore:
    return open_users(load_settings(data_dir=tmp_path, password_min_length=12))


def test_passwords_are_stored_as_salted_argon2_hashes_readable_by_the_owner_only(
    users: UserStore, tmp_path: Path
) -> None:
    users.add("Ann@Example.com", "employee", ["HR", "everyone"], PW)
    users.add("bob", "employee", [], PW)  # the same password
    with users.db.read() as conn:
        rows = {r.name: r for r in conn.execute(text("SELECT * FROM users"))}
    assert PW not in repr(rows)
    ann, bob = rows["ann@example.com"], rows["bob"]
    assert ann.password_hash.startswith("$argon2id$")
    assert ann.password_hash != bob.password_hash  # salted
    assert json.loads(ann.groups) == ["hr"]  # lower-case, 'everyone' implied
    database = tmp_path / "kb.sqlite"
    assert PW.encode() not in database.read_bytes()
    assert stat.S_IMODE(os.stat(database).st_mode) == 0o600


def test_verify_right_wrong_and_unknown(users: UserStore) -> None:
    users.add("ann", "admin", ["finance"], PW)
    user = users.verify("ANN", PW)
    assert user is not None
    assert user.principal == Principal("ann", "admin", frozenset({"finance"}))
    assert users.verify("ann", PW + "x") is None
    assert users.verify("ann", "") is None
    assert users.verify("nobody", PW) is None
    assert users.verify("ann", "x" * 5000) is None  # too long: refused before hashing


@pytest.mark.parametrize(
    ("name", "password", "needle"),
    [
        ("ann", "short", "too short"),
        ("ann", "x" * 2000, "too long"),
        ("averyverylongname", "AVeryVeryLongName", "must not be the user name"),
        ("../etc/passwd", PW, "invalid user name"),
        ("", PW, "invalid user name"),
    ],
)
def test_bad_names_and_passwords_are_refused_with_a_reason(
    users: UserStore, name: str, password: str, needle: str
) -> None:
    with pytest.raises(UserError, match=needle):
        users.add(name, "employee", [], password)
    assert users.users() == []


def test_bad_group_and_duplicate_are_refused(users: UserStore) -> None:
    with pytest.raises(UserError, match="invalid group"):
        users.add("ann", "employee", ["<script>"], PW)
    users.add("ann", "employee", [], PW)
    with pytest.raises(UserError, match="exists already"):
        users.add("ANN", "admin", [], PW)


def test_update_passwd_remove_and_the_last_admin(users: UserStore) -> None:
    users.add("root", "admin", [], PW)
    users.add("ann", "employee", ["hr"], PW)
    assert users.update("ann", groups=["finance", "hr"]).groups == ("finance", "hr")
    assert users.update("ann", role="admin").role == "admin"
    users.update("ann", role="employee")
    with pytest.raises(UserError, match="last admin"):
        users.update("root", role="employee")
    with pytest.raises(UserError, match="last admin"):
        users.remove("root")
    users.set_password("ann", "a brand new passphrase")
    assert users.verify("ann", PW) is None
    assert users.verify("ann", "a brand new passphrase") is not None
    users.remove("ann")
    assert users.get("ann") is None
    with pytest.raises(UserError, match="no user named"):
        users.remove("ann")
    assert [u.name for u in users.users()] == ["root"]


def test_oidc_only_user_cannot_sign_in_with_a_password(users: UserStore) -> None:
    users.add("ann@example.com", "employee", [], None)
    assert users.get("ann@example.com").sign_in == "OIDC only"  # type: ignore[union-attr]
    assert users.verify("ann@example.com", "") is None


def test_a_damaged_user_row_is_a_clear_config_error(users: UserStore) -> None:
    with users.db.write() as conn:  # e.g. edited by hand in the database
        conn.execute(text("INSERT INTO users (name, role, groups) VALUES ('ann', 'boss', '[]')"))
    with pytest.raises(ConfigError, match="bad entry for 'ann'.*kb users"):
        users.users()


def test_another_writer_is_seen_at_once(users: UserStore) -> None:
    users.add("ann", "employee", [], PW)
    other = UserStore(Database(users.db.url))  # e.g. `kb users` in another process
    other.update("ann", groups=["hr"])
    assert users.get("ann").groups == ("hr",)  # type: ignore[union-attr]


def test_sign_in_sessions_end_when_the_password_changes_or_the_user_goes(
    tmp_path: Path,
) -> None:
    settings = load_settings(data_dir=tmp_path)
    auth = Authenticator(settings)
    auth.users.add("ann", "employee", ["hr"], PW)
    principal, session = auth.sign_in("Ann", PW)
    assert principal == Principal("ann", "employee", frozenset({"hr"}))
    assert auth.resume(session) == principal
    auth.users.update("ann", groups=["finance"])  # groups change at the next click
    assert auth.resume(session) == Principal("ann", "employee", frozenset({"finance"}))
    auth.users.set_password("ann", "another long passphrase")
    assert auth.resume(session) is None
    _, session = auth.sign_in("ann", "another long passphrase")
    auth.users.remove("ann")
    assert auth.resume(session) is None
    assert auth.resume("forged") is None
    with pytest.raises(SignInError, match=WRONG_CREDENTIALS):
        auth.sign_in("ann", "another long passphrase")


def test_the_bootstrap_admin_comes_from_the_environment_until_a_user_takes_the_name(
    tmp_path: Path,
) -> None:
    settings = load_settings(data_dir=tmp_path, admin_password="bootstrap secret")
    auth = Authenticator(settings)
    assert auth.has_admin() and auth.has_password_users()
    principal, session = auth.sign_in("admin", "bootstrap secret")
    assert principal.is_admin and principal.name == BOOTSTRAP_ADMIN
    with pytest.raises(SignInError):
        auth.sign_in("admin", "wrong")
    changed = Authenticator(load_settings(data_dir=tmp_path, admin_password="new secret"))
    assert changed.resume(session) is None  # a new password signs the old sessions out
    auth.users.add("admin", "employee", [], PW)  # the file wins over the variable
    assert auth.resume(session) is None
    with pytest.raises(SignInError):
        auth.sign_in("admin", "bootstrap secret")
    assert not Authenticator(load_settings(data_dir=tmp_path / "x", admin_password="")).has_admin()


@pytest.mark.parametrize("shared", [False, True], ids=["memory", "database"])
def test_throttle_locks_a_name_after_repeated_failures(shared: bool, tmp_path: Path) -> None:
    db = open_users(load_settings(data_dir=tmp_path)).db if shared else None
    throttle = SignInThrottle(db, max_failures=3, window=60, lockout=30)
    for t in (0, 1, 2):
        assert throttle.wait("ann", t) == 0
        throttle.failed("Ann", t)
    assert throttle.wait("ann", 3) == pytest.approx(29)
    assert throttle.wait("bob", 3) == 0
    assert throttle.wait("ann", 40) == 0
    throttle.succeeded("ann")
    assert throttle.wait("ann", 3) == 0


def test_authenticator_refuses_a_locked_name_even_with_the_right_password(
    tmp_path: Path,
) -> None:
    auth = Authenticator(load_settings(data_dir=tmp_path))
    auth.users.add("ann", "employee", [], PW)
    for _ in range(auth.throttle.max_failures):
        with pytest.raises(SignInError, match=WRONG_CREDENTIALS):
            auth.sign_in("ann", "guess")
    with pytest.raises(SignInError, match="Too many wrong passwords"):
        auth.sign_in("ann", PW)


def test_oidc_identity_maps_to_the_users_file_then_to_an_employee(tmp_path: Path) -> None:
    users = open_users(load_settings(data_dir=tmp_path))
    users.add("boss@example.com", "admin", ["finance"], None)
    settings = load_settings(data_dir=tmp_path, oidc_groups_claim="groups")
    boss = oidc_principal({"email": "Boss@Example.com", "groups": ["Board"]}, users.get, settings)
    assert boss == Principal("boss@example.com", "admin", frozenset({"finance", "board"}))
    new = oidc_principal({"email": "new@example.com", "groups": "lab"}, users.get, settings)
    assert new == Principal("new@example.com", "employee", frozenset({"lab"}))
    odd = oidc_principal({"email": "x@example.com", "groups": ["<b>", 3]}, users.get, settings)
    assert odd.groups == frozenset({"3"})  # an unusable group name is skipped


@pytest.mark.parametrize(
    ("claims", "overrides", "needle"),
    [
        ({}, {}, "no e-mail address"),
        ({"email": "a@example.com", "email_verified": False}, {}, "not verified"),
        ({"email": "a@gmail.com"}, {"oidc_domains": "example.com, @corp.example"}, "not from a"),
        ({"email": "a@example.com"}, {"oidc_unknown_users": "deny"}, "kb users add a@example.com"),
    ],
)
def test_oidc_refusals_say_why(
    tmp_path: Path, claims: dict[str, object], overrides: dict[str, object], needle: str
) -> None:
    settings = load_settings(data_dir=tmp_path, **overrides)
    with pytest.raises(SignInError, match=needle):
        oidc_principal(claims, lambda _: None, settings)


def test_oidc_providers_from_the_auth_section() -> None:
    shared = {"redirect_uri": "http://x/oauth2callback", "cookie_secret": "s"}
    assert oidc_providers({}) == []
    assert oidc_providers({"client_id": "c"}) == []  # no redirect_uri / cookie_secret
    assert oidc_providers({**shared, "client_id": "c"}) == [None]
    named = {**shared, "google": {"client_id": "g"}, "okta": {"client_id": "o"}, "x": {}}
    assert oidc_providers(named) == ["google", "okta"]
