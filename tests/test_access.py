"""Access in the store: an assignee principal reads only what docs/access.md allows,
through every read function of ``calc.store``, on SQLite and PostgreSQL.

The store holds two worked examples with several assignees each: ``random-1095``
(FINCO1, FINCO2, FINCO3; purchase prices) and ``hand-v3`` (FIN, GHI).  For every
assignee of a run, every table read as that assignee holds no other assignee's name
anywhere (in any column), its own payments and assignments only, and only rows of the
portfolios and assigning rights holders its assignments cover.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from functools import cache

import pandas as pd
import pytest
import sqlalchemy as sa
from feedkit import EXAMPLES
from sqlalchemy.pool import NullPool

from calc import store
from calc.access import AccessDenied, Principal
from calc.feed import read_feed
from calc.monthly import compute
from calc.store.read import ASSIGNEE_VISIBILITY, TABLE_NAMES, VISIBLE_NONE

ANALYST = Principal("ann", "analyst")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]  # as tests/conftest.py
EXAMPLE_ASSIGNEES = {"random-1095": ["FINCO1", "FINCO2", "FINCO3"], "hand-v3": ["FIN", "GHI"]}
CASES = [(example, a) for example, names in EXAMPLE_ASSIGNEES.items() for a in names]


@cache
def _computed(example: str):
    feed = read_feed(EXAMPLES / example / "feed")
    calculation, state = compute(feed)
    return feed, calculation, state


@pytest.fixture(scope="module", params=BACKENDS)
def access_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[sa.Engine, dict[str, int]]]:
    """A migrated store holding both examples (with their month-end states), built once per
    module and backend (the tests only read it): the engine and the run ids."""
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('access') / 'store.db'}"
    else:
        database: sa.URL = request.getfixturevalue("postgres_database")
        schema = f"t_access_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(database, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        url = database.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    engine = store.get_engine(url)
    store.upgrade(engine)
    runs = {}
    for example in EXAMPLE_ASSIGNEES:
        feed, calculation, state = _computed(example)
        runs[example] = store.save_calculation(engine, feed, calculation, state=state)
    try:
        yield engine, runs
    finally:
        engine.dispose()
        if schema is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


def _texts(frame: pd.DataFrame) -> set[str]:
    """Every text value of a frame (object and string columns), and its column names."""
    values: set[str] = set(map(str, frame.columns))
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            values |= {str(v) for v in frame[column].dropna()}
    return values


@pytest.mark.parametrize("table", TABLE_NAMES)
@pytest.mark.parametrize(("example", "assignee"), CASES)
def test_an_assignee_reads_no_other_assignees_rows(access_store, table, example, assignee):
    engine, runs = access_store
    run = runs[example]
    me = Principal(f"user-{assignee}", "assignee", assignee)
    others = [a for names in EXAMPLE_ASSIGNEES.values() for a in names if a != assignee]
    mine = store.read_table(engine, me, table, run)
    everything = store.read_table(engine, ANALYST, table, run)
    texts = _texts(mine)
    assert not [o for o in others if any(o == t or o in t.split() for t in texts)], (table, others)
    assert len(mine) <= len(everything)
    if ASSIGNEE_VISIBILITY[table] == VISIBLE_NONE:
        assert mine.empty
    if table == "payments":
        assert not mine.empty and set(mine["party"]) == {assignee} and set(mine["role"]) == {"assignee"}
    if table == "assignments":
        assert not mine.empty and set(mine["assignee"]) == {assignee}
        theirs = everything[everything["assignee"] != assignee]
        assert "purchase_price" not in mine.columns or not mine.merge(theirs, on="assignment_id").shape[0]
    if "portfolio_id" in mine.columns and not mine.empty:
        own = store.read_table(engine, ANALYST, "assignments", run, assignee=assignee)
        covered = set(own["portfolio_id"])
        if "" not in covered:
            assert set(mine["portfolio_id"]) <= covered | ({""} if table == "offsets" else set())
    if "rights_holder" in mine.columns and table not in ("tenures", "assignments"):
        own = store.read_table(engine, ANALYST, "assignments", run, assignee=assignee)
        assert set(mine["rights_holder"]) <= set(own["rights_holder"])


@pytest.mark.parametrize(("example", "assignee"), CASES)
def test_filters_never_widen_what_an_assignee_reads(access_store, example, assignee):
    """Asking by name for another assignee's rows reads nothing."""
    engine, runs = access_store
    me = Principal("me", "assignee", assignee)
    for other in [a for a in EXAMPLE_ASSIGNEES[example] if a != assignee]:
        assert store.read_table(engine, me, "payments", runs[example], assignee=other).empty
        assert store.read_table(engine, me, "payments", runs[example], party=other).empty
        assert store.read_table(engine, me, "assignments", runs[example], assignee=other).empty


@pytest.mark.parametrize("read", ["read_calculation", "read_feed", "read_state"])
def test_whole_run_objects_are_denied_to_an_assignee(access_store, read):
    engine, runs = access_store
    with pytest.raises(AccessDenied):
        getattr(store, read)(engine, Principal("me", "assignee", "FINCO1"), runs["random-1095"])
    assert getattr(store, read)(engine, ANALYST, runs["random-1095"]) is not None


def test_runs_list_names_no_source_for_an_assignee(access_store):
    engine, runs = access_store
    me = Principal("me", "assignee", "FINCO1")
    listing = store.list_runs(engine, me)
    assert sorted(listing["run_id"]) == sorted(runs.values())
    assert set(listing["source"]) == {""}
    assert set(store.list_runs(engine, ANALYST)["source"]) != {""}
    assert store.latest_run_id(engine, me) == store.latest_run_id(engine, ANALYST) == max(runs.values())


def test_an_assignee_of_no_assignment_in_a_run_reads_only_empty_tables(access_store):
    engine, runs = access_store
    stranger = Principal("me", "assignee", "FINCO1")  # no assignment in hand-v3
    for table in TABLE_NAMES:
        assert store.read_table(engine, stranger, table, runs["hand-v3"]).empty, table


def test_roles_that_see_all_read_every_row(access_store):
    engine, runs = access_store
    run = runs["random-1095"]
    for role in ("executive", "analyst", "admin"):
        who = Principal("x", role)
        for table in TABLE_NAMES:
            assert len(store.read_table(engine, who, table, run)) == len(store.read_table(engine, ANALYST, table, run))
