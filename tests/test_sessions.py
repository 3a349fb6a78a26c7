"""Persistent sign-ins (calc.sessions, table app_session): the one-time code, the token, resume,
expiry, revocation, a removed user or a new password, hashes at rest, and migration 0007 up and
down.  Every test runs on SQLite and on PostgreSQL (conftest.py's ``database_url``)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command

from calc import sessions, users
from calc.access import Principal
from calc.store import engine as store_engine_module
from calc.store import read_audit
from calc.store.audit import ACTION_SESSION_RESUME
from calc.store.models import SESSION_TABLE

ADMIN = Principal("ada", "admin")
T0 = dt.datetime(2026, 12, 3, 8, 0, 0)


@pytest.fixture
def db(store_engine: sa.Engine) -> sa.Engine:
    """A store at head with the admin ada and the assignee user fin (bound to FINCO1)."""
    users.add_user(store_engine, ADMIN, "ada", "admin", "ada's long password")
    users.add_user(store_engine, ADMIN, "fin", "assignee", "fin's long password", assignee="FINCO1")
    return store_engine


def signed_in(engine: sa.Engine, name: str = "fin", at: dt.datetime = T0) -> tuple[int, str]:
    """A session of ``name`` started and redeemed at ``at``: (its id, the cookie's token)."""
    handover = sessions.start(engine, name, now=at)
    assert handover is not None
    token = sessions.redeem(engine, handover.code, now=at + dt.timedelta(seconds=1))
    assert token is not None
    return handover.session_id, token


def stored_rows(engine: sa.Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(SESSION_TABLE))]


def test_a_redeemed_code_resumes_as_its_user_and_is_recorded(db: sa.Engine) -> None:
    session_id, token = signed_in(db)
    resumed = sessions.resume(db, token, now=T0 + dt.timedelta(hours=1))
    assert resumed == sessions.Resumed(session_id, Principal("fin", "assignee", "FINCO1"))
    events = read_audit(db, ADMIN, action=ACTION_SESSION_RESUME)
    assert events["actor"].tolist() == ["fin"] and events["detail"].tolist() == [f"session {session_id}"]


def test_a_code_works_once_and_only_while_it_is_fresh(db: sa.Engine) -> None:
    handover = sessions.start(db, "fin", now=T0)
    assert sessions.redeem(db, handover.code, now=T0 + sessions.CODE_LIFETIME) is None  # too late
    handover = sessions.start(db, "fin", now=T0)
    token = sessions.redeem(db, handover.code, now=T0)
    assert token and token != handover.code
    assert sessions.redeem(db, handover.code, now=T0) is None  # used already
    assert sessions.resume(db, handover.code, now=T0) is None  # a code is no token
    assert sessions.redeem(db, "not a code", now=T0) is None
    assert sessions.start(db, "nobody", now=T0) is None


def test_tokens_and_codes_are_stored_hashed_only(db: sa.Engine) -> None:
    handover = sessions.start(db, "fin", now=T0)
    [pending] = stored_rows(db)
    assert pending["code_hash"] == sessions.digest(handover.code) and pending["token_hash"] is None
    token = sessions.redeem(db, handover.code, now=T0)
    [row] = stored_rows(db)
    assert row["token_hash"] == sessions.digest(token) and row["code_hash"] is None
    text = repr(row)
    assert token not in text and handover.code not in text
    # the hash in the store is no token: presenting it resumes nothing
    assert sessions.resume(db, row["token_hash"], now=T0) is None


def test_a_session_expires_when_idle_and_at_its_bound(db: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sessions.ENV_IDLE_HOURS, "2")
    monkeypatch.setenv(sessions.ENV_MAX_DAYS, "1")
    _, token = signed_in(db)
    later = T0
    for _ in range(14):  # used every 100 minutes (to 23 h 20): the idle timeout of 2 h never strikes
        later += dt.timedelta(minutes=100)
        assert sessions.resume(db, token, now=later) is not None, later
    # ... until a day after the sign-in, however recently it was used
    assert later + dt.timedelta(minutes=100) > T0 + dt.timedelta(days=1)
    assert sessions.resume(db, token, now=later + dt.timedelta(minutes=100)) is None
    _, idle = signed_in(db)
    assert sessions.resume(db, idle, now=T0 + dt.timedelta(hours=2, seconds=2)) is None
    [row] = [r for r in stored_rows(db) if r["token_hash"] == sessions.digest(idle)]
    assert row["expires_at"] == T0 + dt.timedelta(hours=2, seconds=1)  # redeemed a second after T0


def test_expired_sessions_are_cleared_at_the_next_sign_in(db: sa.Engine) -> None:
    _, token = signed_in(db)
    sessions.start(db, "ada", now=T0 + dt.timedelta(days=30))
    assert [r["token_hash"] for r in stored_rows(db)] == [None]  # only ada's new hand-over is left


def test_sign_out_revokes_by_id_or_by_token(db: sa.Engine) -> None:
    first, token1 = signed_in(db)
    _, token2 = signed_in(db)
    assert sessions.revoke(db, session_id=first)
    assert sessions.resume(db, token1, now=T0) is None
    assert sessions.resume(db, token2, now=T0) is not None  # another browser's stays
    assert sessions.revoke(db, token=token2)
    assert sessions.resume(db, token2, now=T0) is None
    assert not sessions.revoke(db, token=token2) and not sessions.revoke(db, session_id=first)
    assert stored_rows(db) == []


def test_a_removed_user_or_a_new_password_ends_its_sessions(db: sa.Engine) -> None:
    _, fin = signed_in(db, "fin")
    _, ada = signed_in(db, "ada")
    users.set_password(db, ADMIN, "ada", "ada's new long password")
    assert sessions.resume(db, ada, now=T0) is None
    assert sessions.resume(db, fin, now=T0) is not None
    users.remove_user(db, ADMIN, "fin")
    assert sessions.resume(db, fin, now=T0) is None
    assert stored_rows(db) == []


def test_a_resumed_session_signs_in_the_user_as_stored_now(db: sa.Engine) -> None:
    """The principal comes from the user's row at each resume, not from the sign-in."""
    _, token = signed_in(db)
    with store_engine_module.write_transaction(db) as conn:
        conn.execute(sa.text("UPDATE app_user SET role = 'analyst', assignee = '' WHERE name = 'fin'"))
    resumed = sessions.resume(db, token, now=T0)
    assert resumed is not None and resumed.principal == Principal("fin", "analyst")


def test_odd_cookie_values_resume_nothing(db: sa.Engine) -> None:
    for value in (None, "", "x" * 10_000, "'; DROP TABLE app_session; --"):
        assert sessions.resume(db, value, now=T0) is None
    assert sessions.revoke(db, token="") is False


def test_a_store_before_0007_starts_no_session(engine: sa.Engine) -> None:
    store_engine_module.upgrade(engine, "0006")
    assert sessions.start(engine, "fin", now=T0) is None
    assert sessions.resume(engine, "token", now=T0) is None
    assert sessions.redeem(engine, "code", now=T0) is None


def test_migration_0007_goes_down_and_up(db: sa.Engine) -> None:
    signed_in(db)
    store_engine_module.downgrade(db, "0006")
    assert not sa.inspect(db).has_table("app_session")
    assert store_engine_module.current_revision(db) == "0006"
    users.remove_user(db, ADMIN, "ada")  # works without the table
    config = store_engine_module.alembic_config()
    with store_engine_module.write_transaction(db) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0007")
    assert sa.inspect(db).has_table("app_session") and stored_rows(db) == []
    signed_in(db)
