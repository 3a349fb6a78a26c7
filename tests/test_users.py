"""Users: the command line (add, list, passwd, remove, first-admin), argon2 hashes, the
lock-out after repeated failed sign-ins, OIDC mapping, and the audit of all of it."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from calc import cli, users
from calc.access import AccessDenied, Principal
from calc.store import get_engine, read_audit, upgrade
from calc.store.audit import (
    ACTION_SIGN_IN,
    ACTION_SIGN_IN_FAILED,
    ACTION_USER_ADD,
    ACTION_USER_REMOVE,
)
from calc.store.users import get_user, list_users

ADMIN = Principal("ada", "admin")
PASSWORD = "correct horse battery"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'users.db'}"


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return cli.main(["user", *args])


def test_add_list_passwd_remove(db_url: str, monkeypatch, capsys) -> None:
    assert run_cli(monkeypatch, "add", "eve", "--role", "executive", "--password-stdin", "--database-url", db_url,
                   stdin=PASSWORD + "\n") == 0
    assert run_cli(monkeypatch, "add", "fin", "--role", "assignee", "--assignee", "FINCO1", "--password-stdin",
                   "--database-url", db_url, stdin="another password\n") == 0
    capsys.readouterr()
    assert run_cli(monkeypatch, "list", "--database-url", db_url) == 0
    out = capsys.readouterr().out
    assert "eve\texecutive" in out and "fin\tassignee of FINCO1" in out
    assert PASSWORD not in out and "argon2" not in out
    engine = get_engine(db_url)
    stored = get_user(engine, "eve")
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
    assert users.sign_in(engine, "eve", PASSWORD) == Principal("eve", "executive")
    assert users.sign_in(engine, "fin", "another password") == Principal("fin", "assignee", "FINCO1")
    assert run_cli(monkeypatch, "passwd", "eve", "--password-stdin", "--database-url", db_url,
                   stdin="a new password\n") == 0
    with pytest.raises(users.SignInRefused):
        users.sign_in(engine, "eve", PASSWORD)
    assert users.sign_in(engine, "eve", "a new password").role == "executive"
    assert run_cli(monkeypatch, "remove", "eve", "--database-url", db_url) == 0
    assert list(list_users(engine)["name"]) == ["fin"]
    events = read_audit(engine, ADMIN)
    assert {ACTION_USER_ADD, ACTION_USER_REMOVE, ACTION_SIGN_IN, ACTION_SIGN_IN_FAILED} <= set(events["action"])
    assert all(PASSWORD not in d for d in events["detail"])
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--role", "boss", "--password-stdin"], PASSWORD, "invalid choice"),
        (["--role", "assignee", "--password-stdin"], PASSWORD, "bound to one assignee"),
        (["--role", "analyst", "--assignee", "FINCO1", "--password-stdin"], PASSWORD, "only the assignee role"),
        (["--role", "analyst", "--password-stdin"], "short", "at least 8 characters"),
        (["--role", "analyst", "--password-stdin"], "", "nothing on standard input"),
    ],
)
def test_a_bad_user_is_refused_and_nothing_stored(db_url, monkeypatch, capsys, args, stdin, message) -> None:
    try:
        status = run_cli(monkeypatch, "add", "bob", *args, "--database-url", db_url, stdin=stdin + "\n" if stdin else "")
    except SystemExit as exit_:  # argparse's own refusal (a role that does not exist)
        status = exit_.code
    assert status == 2
    assert message in capsys.readouterr().err
    assert get_user(get_engine(db_url), "bob") is None


def test_a_name_is_added_once(db_url, monkeypatch, capsys) -> None:
    assert run_cli(monkeypatch, "add", "bob", "--role", "analyst", "--password-stdin", "--database-url", db_url,
                   stdin=PASSWORD) == 0
    assert run_cli(monkeypatch, "add", "bob", "--role", "admin", "--password-stdin", "--database-url", db_url,
                   stdin=PASSWORD) == 2
    assert "exists already" in capsys.readouterr().err
    assert get_user(get_engine(db_url), "bob").role == "analyst"
    assert run_cli(monkeypatch, "remove", "nobody", "--database-url", db_url) == 2


def test_first_admin_is_created_once_with_a_password_shown_once(db_url) -> None:
    command = [sys.executable, "-m", "calc", "user", "first-admin", "--database-url", db_url]
    first = subprocess.run(command, capture_output=True, text=True, check=True)
    password = [line.strip() for line in first.stdout.splitlines() if line.startswith("    ")][0]
    assert "'admin'" in first.stdout and "python -m calc user passwd admin" in first.stdout
    again = subprocess.run(command, capture_output=True, text=True, check=True)
    assert again.stdout == ""
    engine = get_engine(db_url)
    assert users.sign_in(engine, "admin", password) == Principal("admin", "admin")
    engine.dispose()


def test_lock_out_after_repeated_failures(engine: sa.Engine) -> None:
    upgrade(engine)
    users.add_user(engine, ADMIN, "eve", "analyst", PASSWORD)
    now = dt.datetime(2026, 1, 5, 9, 0)
    for i in range(users.MAX_FAILED_SIGN_INS):
        with pytest.raises(users.SignInRefused) as refused:
            users.sign_in(engine, "eve", f"wrong {i}", now=now)
        assert str(refused.value) == users.SIGN_IN_REFUSED
    assert get_user(engine, "eve").locked_until == now + users.LOCKOUT
    with pytest.raises(users.SignInRefused) as refused:  # the right password, while locked
        users.sign_in(engine, "eve", PASSWORD, now=now + users.LOCKOUT - dt.timedelta(seconds=1))
    assert refused.value.reason == "locked"
    assert users.sign_in(engine, "eve", PASSWORD, now=now + users.LOCKOUT) == Principal("eve", "analyst")
    assert get_user(engine, "eve").failed_attempts == 0
    failed = read_audit(engine, ADMIN, action=ACTION_SIGN_IN_FAILED)
    assert len(failed) == users.MAX_FAILED_SIGN_INS + 1 and set(failed["actor"]) == {"eve"}


def test_a_success_resets_the_count(engine: sa.Engine) -> None:
    upgrade(engine)
    users.add_user(engine, ADMIN, "eve", "analyst", PASSWORD)
    for _ in range(users.MAX_FAILED_SIGN_INS - 1):
        with pytest.raises(users.SignInRefused):
            users.sign_in(engine, "eve", "wrong")
    users.sign_in(engine, "eve", PASSWORD)
    with pytest.raises(users.SignInRefused) as refused:
        users.sign_in(engine, "eve", "wrong")
    assert refused.value.reason == "wrong password"  # counted from zero again: not locked


def test_an_unknown_name_reads_like_a_wrong_password(engine: sa.Engine) -> None:
    upgrade(engine)
    with pytest.raises(users.SignInRefused) as refused:
        users.sign_in(engine, "nobody", PASSWORD)
    assert str(refused.value) == users.SIGN_IN_REFUSED
    assert read_audit(engine, ADMIN)["detail"].tolist() == ["unknown user"]


def test_the_dummy_hash_has_the_hashers_parameters() -> None:
    """An unknown name is checked against a written-out hash: it must cost what a stored one does."""
    assert not users._HASHER.check_needs_rehash(users._DUMMY_HASH)
    assert not users._matches("", "any password")


def test_oidc_maps_a_known_user_and_refuses_an_unknown_one(engine: sa.Engine) -> None:
    upgrade(engine)
    users.add_user(engine, ADMIN, "eve@example.com", "assignee", None, assignee="FINCO2")
    assert users.sign_in_oidc(engine, ["eve@example.com", "Eve"]) == Principal("eve@example.com", "assignee", "FINCO2")
    assert users.sign_in_oidc(engine, ["mallory@example.com", "Mallory"]) is None
    with pytest.raises(users.SignInRefused):  # no local password: OIDC only
        users.sign_in(engine, "eve@example.com", "")


def test_only_an_admin_manages_users(engine: sa.Engine) -> None:
    upgrade(engine)
    with pytest.raises(AccessDenied):
        users.add_user(engine, Principal("x", "analyst"), "eve", "analyst", PASSWORD)
    users.add_user(engine, ADMIN, "eve", "analyst", PASSWORD)
    with pytest.raises(AccessDenied):
        users.remove_user(engine, Principal("eve", "analyst"), "eve")
    with pytest.raises(AccessDenied):
        users.set_password(engine, Principal("mallory", "executive"), "eve", "a new password")
    users.set_password(engine, Principal("eve", "analyst"), "eve", "a new password")  # one's own


def test_an_assignee_unknown_to_the_newest_run_is_warned_about(tmp_path, monkeypatch, capsys) -> None:
    from feedkit import EXAMPLES

    url = f"sqlite:///{tmp_path / 'runs.db'}"
    assert cli.main(["load", str(EXAMPLES / "hand" / "feed"), "--database-url", url, "-q"]) == 0
    assert run_cli(monkeypatch, "add", "f", "--role", "assignee", "--assignee", "FIN", "--password-stdin",
                   "--database-url", url, stdin=PASSWORD) == 0
    assert "warning" not in capsys.readouterr().err
    assert run_cli(monkeypatch, "add", "g", "--role", "assignee", "--assignee", "FINN", "--password-stdin",
                   "--database-url", url, stdin=PASSWORD) == 0
    assert "no assignment of 'FINN'" in capsys.readouterr().err
