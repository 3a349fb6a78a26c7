"""Saved scenarios: a scenario's TOML text under a unique name (table ``scenario``).

Persistence only: the text is stored as given and given back as stored; parsing it
(``calc.scenarios.spec.parse_scenario``) and running it are the caller's part.  A
scenario written with ``Scenario.to_toml`` and parsed back is the same ``Scenario``, so
a saved scenario reruns identically.

``save_scenario`` saves by name (saving again under a name replaces its text and keeps
its id and ``created_at``), ``list_scenarios`` lists them, ``read_saved_scenario`` gives
one's text, ``delete_scenario`` removes one.  A database without the table (never
migrated, or migrated before 0003) lists none and reads none; ``save_scenario(...,
migrate=True)`` first brings its schema to head, in the same transaction.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa

from calc.store.engine import upgrade_connection, write_transaction
from calc.store.models import SCENARIO_TABLE

SCENARIO_COLUMNS = ["scenario_id", "name", "created_at", "updated_at"]
MAX_NAME_LENGTH = 200


class ScenarioNotFound(LookupError):
    """No saved scenario of that name."""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _has_table(conn: sa.Connection) -> bool:
    return sa.inspect(conn).has_table(SCENARIO_TABLE.name)


def scenario_name(name: str) -> str:
    """``name`` as it is saved: trimmed; ValueError when empty or too long."""
    text = str(name).strip()
    if not text:
        raise ValueError("a saved scenario needs a name")
    if len(text) > MAX_NAME_LENGTH:
        raise ValueError(f"a scenario name has at most {MAX_NAME_LENGTH} characters")
    return text


def save_scenario(engine: sa.Engine, name: str, toml: str, *, migrate: bool = False) -> int:
    """Save ``toml`` under ``name`` (trimmed); the scenario's id.  A scenario of that name
    is replaced (same id, ``created_at`` kept, ``updated_at`` now).  ``migrate``: first
    bring the schema to head in the same transaction."""
    name = scenario_name(name)
    now = _utcnow()
    with write_transaction(engine) as conn:
        if migrate:
            upgrade_connection(conn)
        t = SCENARIO_TABLE
        existing = conn.scalar(sa.select(t.c.scenario_id).where(t.c.name == name))
        if existing is not None:
            conn.execute(sa.update(t).where(t.c.scenario_id == existing).values(toml=toml, updated_at=now))
            return int(existing)
        inserted = conn.execute(sa.insert(t).values(name=name, toml=toml, created_at=now, updated_at=now))
        return int(inserted.inserted_primary_key[0])


def list_scenarios(engine: sa.Engine) -> pd.DataFrame:
    """Every saved scenario (scenario_id, name, created_at, updated_at), by name."""
    with engine.connect() as conn:
        if not _has_table(conn):
            frame = pd.DataFrame({c: pd.Series(dtype=object) for c in SCENARIO_COLUMNS})
        else:
            t = SCENARIO_TABLE
            frame = pd.read_sql(sa.select(*(t.c[c] for c in SCENARIO_COLUMNS)).order_by(t.c.name), conn)
    frame["scenario_id"] = frame["scenario_id"].astype("int64")
    frame["name"] = frame["name"].astype(str)
    for column in ("created_at", "updated_at"):
        frame[column] = pd.to_datetime(frame[column])
    return frame[SCENARIO_COLUMNS]


def read_saved_scenario(engine: sa.Engine, name: str) -> str:
    """The TOML text saved under ``name`` (``ScenarioNotFound`` when there is none)."""
    with engine.connect() as conn:
        text = None
        if _has_table(conn):
            t = SCENARIO_TABLE
            text = conn.scalar(sa.select(t.c.toml).where(t.c.name == str(name).strip()))
    if text is None:
        raise ScenarioNotFound(f"no saved scenario named {name!r}")
    return str(text)


def delete_scenario(engine: sa.Engine, name: str) -> bool:
    """Remove the scenario saved under ``name``; whether there was one."""
    with write_transaction(engine) as conn:
        if not _has_table(conn):
            return False
        t = SCENARIO_TABLE
        return conn.execute(sa.delete(t).where(t.c.name == str(name).strip())).rowcount > 0
