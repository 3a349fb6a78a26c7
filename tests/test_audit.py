"""The audit trail and the principal: events append, roll back with their transaction,
and only an admin reads them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from calc.access import AccessDenied, Principal
from calc.store import upgrade
from calc.store.audit import ACTION_LOAD, ACTION_SIGN_IN, read_audit, record_event
from calc.store.engine import write_transaction

ADMIN = Principal("ada", "admin")


def test_events_read_back_newest_first_for_an_admin(engine: sa.Engine) -> None:
    upgrade(engine)
    record_event(engine, "ada", ACTION_SIGN_IN)
    record_event(engine, "ada", ACTION_LOAD, run_id=3, detail="medium sample")
    events = read_audit(engine, ADMIN)
    assert list(events["action"]) == [ACTION_LOAD, ACTION_SIGN_IN]
    assert events["run_id"].iloc[0] == 3
    assert events["detail"].iloc[0] == "medium sample"
    assert list(read_audit(engine, ADMIN, action=ACTION_SIGN_IN)["action"]) == [ACTION_SIGN_IN]


def test_an_event_rolls_back_with_the_work_it_records(engine: sa.Engine) -> None:
    upgrade(engine)
    with pytest.raises(RuntimeError), write_transaction(engine) as conn:
        record_event(conn, "ada", ACTION_LOAD)
        raise RuntimeError("the load failed")
    assert read_audit(engine, ADMIN).empty


@pytest.mark.parametrize("role", ["executive", "analyst"])
def test_only_an_admin_reads_the_audit_trail(engine: sa.Engine, role: str) -> None:
    upgrade(engine)
    with pytest.raises(AccessDenied):
        read_audit(engine, Principal("eve", role))
    with pytest.raises(AccessDenied):
        read_audit(engine, Principal("ian", "assignee", assignee="Investor A"))


def test_a_database_never_migrated_has_no_events(engine: sa.Engine) -> None:
    assert read_audit(engine, ADMIN).empty


def test_a_principal_is_bound_to_an_assignee_exactly_when_its_role_is_assignee() -> None:
    with pytest.raises(ValueError):
        Principal("ian", "assignee")
    with pytest.raises(ValueError):
        Principal("eve", "executive", assignee="Investor A")
    with pytest.raises(ValueError):
        Principal("x", "superuser")
    assert Principal("eve", "executive").sees_all
    assert not Principal("ian", "assignee", assignee="Investor A").sees_all
    assert Principal.operator().is_admin
