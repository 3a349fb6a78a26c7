"""The store: feeds and their Monthly Calculations in a SQL database.

Persistence only.  Write: ``save_calculation`` (store a computed feed,
calculation and month-end state in one transaction; reading, validating and
computing a feed first is ``calc.load.load_feed``).  Read, for the dashboard:
``list_runs``, ``latest_run_id``, ``read_calculation``, ``read_feed``,
``read_table``; ``read_state`` (a run's month-end state, to continue from).  Each
takes the :class:`calc.access.Principal` asking as its second argument and filters by
it in SQL (docs/access.md).  Users: :mod:`calc.store.users` (rows only; the rules are
:mod:`calc.users`).
Saved scenarios (TOML text by name): ``save_scenario``, ``list_scenarios``,
``read_saved_scenario``, ``delete_scenario``.  The audit trail: ``record_event``,
``read_audit`` (admins only, :class:`calc.access.Principal`).
Database: ``get_engine`` ($DATABASE_URL, else ``data/bshare.db``) and
``upgrade`` (alembic migrations to head).  Tables: :mod:`calc.store.models`.

The names are loaded on first use, so that ``calc.store.engine`` and
``calc.store.models`` (what the alembic environment needs) import without
pandas and pyarrow.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from calc.store.audit import read_audit, record_event
    from calc.store.engine import StoreBusy, get_engine, resolve_url, upgrade
    from calc.store.read import (
        RunNotFound,
        StateNotStored,
        latest_run_id,
        list_runs,
        read_calculation,
        read_feed,
        read_state,
        read_table,
    )
    from calc.store.scenarios import (
        ScenarioNotFound,
        delete_scenario,
        list_scenarios,
        read_saved_scenario,
        save_scenario,
    )
    from calc.store.write import save_calculation

_HOMES = {
    "read_audit": "audit",
    "record_event": "audit",
    "StoreBusy": "engine",
    "get_engine": "engine",
    "resolve_url": "engine",
    "upgrade": "engine",
    "RunNotFound": "read",
    "StateNotStored": "read",
    "latest_run_id": "read",
    "list_runs": "read",
    "read_calculation": "read",
    "read_feed": "read",
    "read_state": "read",
    "read_table": "read",
    "save_calculation": "write",
    "ScenarioNotFound": "scenarios",
    "delete_scenario": "scenarios",
    "list_scenarios": "scenarios",
    "read_saved_scenario": "scenarios",
    "save_scenario": "scenarios",
}

__all__ = [
    "RunNotFound",
    "ScenarioNotFound",
    "StateNotStored",
    "StoreBusy",
    "delete_scenario",
    "get_engine",
    "latest_run_id",
    "list_runs",
    "list_scenarios",
    "read_audit",
    "read_calculation",
    "read_feed",
    "read_saved_scenario",
    "read_state",
    "read_table",
    "record_event",
    "resolve_url",
    "save_calculation",
    "save_scenario",
    "upgrade",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
