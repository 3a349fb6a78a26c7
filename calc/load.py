"""Loading a feed: read and validate it, compute it and its month-end state, store them.

``load_feed`` is what ``python -m calc load`` and the dashboard's Data page
run.  The order keeps the database as it was unless the whole load succeeds:

1. ``calc.feed.read_feed`` reads and validates the feed; a rejected feed
   raises ``calc.feed.FeedError`` before the database is touched;
2. ``calc.monthly.compute`` computes it and the month-end state of its last
   month, still outside any transaction;
3. ``calc.store.save_calculation`` migrates the schema to head and stores the
   feed, its calculation and the state in ONE transaction: a store that fails
   midway is rolled back whole, migrations included.

The store (``calc.store``) is persistence only; this module is the step
around it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import sqlalchemy as sa

from calc.access import Principal
from calc.feed import read_feed
from calc.monthly import Progress, compute


def _silent(*_args: object) -> None:
    return None


def load_feed(
    folder: str | Path,
    engine: sa.Engine | None = None,
    progress: Progress | None = None,
    source: str | None = None,
    principal: Principal | None = None,
) -> int:
    """Read, validate and compute the feed in ``folder`` and store it; returns the run id.

    ``engine``: the store's database (default: ``calc.store.get_engine()``,
    i.e. ``$DATABASE_URL`` or the SQLite file; disposed of afterwards).
    ``source``: what the run records as its source instead of the folder's
    path (the dashboard names an uploaded feed after its file).
    ``principal``: who loads it; a feed that changes a closed month is stored as a
    restatement only for an admin (``calc.access.AccessDenied`` otherwise, nothing stored).
    """
    from calc.store import get_engine, save_calculation

    report = progress or _silent
    report(f"reading feed {folder}")
    feed = read_feed(folder)
    if source:
        feed = dataclasses.replace(feed, source=source)
    calculation, state = compute(feed, progress=progress)
    own_engine = engine is None
    engine = get_engine() if engine is None else engine
    try:
        report(f"storing into {engine.url.render_as_string(hide_password=True)}")
        run_id = save_calculation(engine, feed, calculation, progress, migrate=True, state=state,
                                  principal=principal)
        report(f"stored calculation run {run_id}")
        return run_id
    finally:
        if own_engine:
            engine.dispose()
