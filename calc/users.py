"""Users and signing in: argon2 password hashes, the lock-out, and the audit of both.

The rules live here; the rows in :mod:`calc.store.users`.  Every user change (add,
remove, new password) and every sign-in, successful or not, is written to the audit
trail (:func:`calc.store.audit.record_event`), a change in the same transaction as the
change itself.

Lock-out: after :data:`MAX_FAILED_SIGN_INS` failed sign-ins in a row a user is locked for
:data:`LOCKOUT`; while locked even the right password is refused.  A refusal always reads
the same (:data:`SIGN_IN_REFUSED`), whether the name is unknown, the password wrong or the
user locked, so that the form tells nobody which names exist; the audit trail says which.
"""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from calc.access import ROLE_ADMIN, AccessDenied, Principal
from calc.sessions import end_user_sessions
from calc.store import users as rows
from calc.store.audit import (
    ACTION_SIGN_IN,
    ACTION_SIGN_IN_FAILED,
    ACTION_USER_ADD,
    ACTION_USER_CHANGE,
    ACTION_USER_REMOVE,
    record_event,
)
from calc.store.engine import write_transaction

MAX_FAILED_SIGN_INS = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # argon2 hashes anything; a bound keeps a sign-in cheap
FIRST_ADMIN = "admin"  # the user `make run` creates in a store without users
SIGN_IN_REFUSED = (
    f"Wrong user name or password. After {MAX_FAILED_SIGN_INS} failed sign-ins in a row a user "
    f"is locked for {int(LOCKOUT.total_seconds() // 60)} minutes."
)

_HASHER = PasswordHasher()
# Checked against when the name is unknown, so that an unknown name takes as long as a known one:
# the hash of a random text thrown away, made with _HASHER's parameters (a test checks that they
# still are).  Written out, not hashed on import: that took 0.5-1 s of a dashboard server's first
# sign-in.  Nothing signs in against it (_matches is False without a stored hash).
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$ZqiXrFr3S4CLgh6sY3pF3g$7AhmUz52ArYL/eKJ/apBcjkBgWqLC8e6+drv4ythHG8"

UserExists = rows.UserExists
UserNotFound = rows.UserNotFound


class SignInRefused(PermissionError):
    """The sign-in was refused (unknown name, wrong password or locked): always
    :data:`SIGN_IN_REFUSED` to the user; ``reason`` is for the audit trail and tests."""

    def __init__(self, reason: str):
        super().__init__(SIGN_IN_REFUSED)
        self.reason = reason


class BadPassword(ValueError):
    """A password that may not be set (too short or too long)."""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (``BadPassword`` when too short or too long)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadPassword(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise BadPassword(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    return _HASHER.hash(password)


def _matches(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def principal_of(user: rows.UserRecord) -> Principal:
    """The principal a stored user signs in as."""
    return Principal(user.name, user.role, user.assignee or None)


# --- managing users (admins) ---------------------------------------------------------------


def add_user(
    engine: sa.Engine, actor: Principal, name: str, role: str, password: str | None,
    assignee: str | None = None,
) -> Principal:
    """Store a new user (``actor`` must be an admin).  ``password`` None: no local
    password (sign-in through OIDC only).  ``ValueError`` for a bad role, an assignee
    role without its assignee (or another role with one), a bad password; ``UserExists``."""
    actor.require_admin("adding a user")
    name = name.strip()
    if not name:
        raise ValueError("a user has a name")
    principal = Principal(name, role, assignee or None)  # checks the role and the assignee
    password_hash = "" if password is None else hash_password(password)
    with write_transaction(engine) as conn:
        rows.insert_user(conn, name, role, principal.assignee or "", password_hash, _utcnow())
        detail = f"{name}: {role}" + (f" of {principal.assignee}" if principal.assignee else "")
        record_event(conn, actor.name, ACTION_USER_ADD, detail=detail)
    return principal


def remove_user(engine: sa.Engine, actor: Principal, name: str) -> None:
    """Remove the user ``name`` (``actor`` must be an admin; ``UserNotFound``) and end its
    dashboard sessions."""
    actor.require_admin("removing a user")
    with write_transaction(engine) as conn:
        end_user_sessions(conn, name)  # its dashboard sign-ins end with it
        rows.delete_user(conn, name)
        record_event(conn, actor.name, ACTION_USER_REMOVE, detail=name)


def set_password(engine: sa.Engine, actor: Principal, name: str, password: str) -> None:
    """A new password for ``name`` (an admin, or the user itself); it also ends a lock-out and
    the user's dashboard sessions (:mod:`calc.sessions`)."""
    if not (actor.is_admin or actor.name == name):
        raise AccessDenied(f"{actor.name} may not change the password of {name}")
    password_hash = hash_password(password)
    with write_transaction(engine) as conn:
        rows.update_user(conn, name, password_hash=password_hash, failed_attempts=0, locked_until=None)
        end_user_sessions(conn, name)  # a new password signs every browser out
        record_event(conn, actor.name, ACTION_USER_CHANGE, detail=f"{name}: new password")


def ensure_first_admin(engine: sa.Engine, actor: Principal) -> str | None:
    """In a store without users, add the admin :data:`FIRST_ADMIN` with a random password
    and return that password (to be shown once); None when there are users already."""
    if rows.count_users(engine) > 0:
        return None
    password = secrets.token_urlsafe(12)
    try:
        add_user(engine, actor, FIRST_ADMIN, ROLE_ADMIN, password)
    except UserExists:  # another process was first
        return None
    return password


# --- signing in ---------------------------------------------------------------------------


def sign_in(engine: sa.Engine, name: str, password: str, now: dt.datetime | None = None) -> Principal:
    """The principal of ``name`` if ``password`` is its own and it is not locked; else
    ``SignInRefused``.  Failures count towards the lock-out; a success resets the count."""
    now = now or _utcnow()
    name = name.strip()
    user = rows.get_user(engine, name) if name else None
    if user is None or len(password) > MAX_PASSWORD_LENGTH:
        _matches("", password[:MAX_PASSWORD_LENGTH])  # the same time as a known name
        record_event(engine, name or "(no name)", ACTION_SIGN_IN_FAILED, detail="unknown user")
        raise SignInRefused("unknown user")
    if user.locked_until is not None and user.locked_until > now:
        record_event(engine, name, ACTION_SIGN_IN_FAILED, detail=f"locked until {user.locked_until:%Y-%m-%d %H:%M} UTC")
        raise SignInRefused("locked")
    if not _matches(user.password_hash, password):
        with write_transaction(engine) as conn:
            count = rows.failed_attempt(conn, name)
            locked = count >= MAX_FAILED_SIGN_INS
            if locked:
                rows.update_user(conn, name, failed_attempts=0, locked_until=now + LOCKOUT)
            detail = "wrong password" + (f"; locked for {LOCKOUT}" if locked else f" ({count} in a row)")
            record_event(conn, name, ACTION_SIGN_IN_FAILED, detail=detail)
        raise SignInRefused("locked now" if locked else "wrong password")
    with write_transaction(engine) as conn:
        values: dict[str, object] = {"failed_attempts": 0, "locked_until": None}
        if _HASHER.check_needs_rehash(user.password_hash):
            values["password_hash"] = _HASHER.hash(password)
        rows.update_user(conn, name, **values)
        record_event(conn, name, ACTION_SIGN_IN, detail="password")
    return principal_of(user)


def sign_in_oidc(engine: sa.Engine, identities: list[str]) -> Principal | None:
    """The principal of the first stored user named by one of ``identities`` (an OIDC
    user's e-mail, then its name), recorded as a sign-in; None (recorded as a failure)
    when none is a user: an unknown OIDC user gets no access."""
    for identity in [i.strip() for i in identities if i and i.strip()]:
        user = rows.get_user(engine, identity)
        if user is not None:
            record_event(engine, user.name, ACTION_SIGN_IN, detail="oidc")
            return principal_of(user)
    record_event(engine, (identities or ["(no identity)"])[0] or "(no identity)", ACTION_SIGN_IN_FAILED,
                 detail="oidc: not a user of the app")
    return None


__all__ = [
    "FIRST_ADMIN",
    "LOCKOUT",
    "MAX_FAILED_SIGN_INS",
    "MIN_PASSWORD_LENGTH",
    "SIGN_IN_REFUSED",
    "BadPassword",
    "SignInRefused",
    "UserExists",
    "UserNotFound",
    "add_user",
    "ensure_first_admin",
    "hash_password",
    "principal_of",
    "remove_user",
    "set_password",
    "sign_in",
    "sign_in_oidc",
]
