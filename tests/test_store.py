"""The store (calc/store): migrations, round trips, one-transaction loads, the read API.

Every test that touches a database runs on SQLite and on PostgreSQL (the
``database_url`` fixture of conftest.py; PostgreSQL variants are marked
``postgres``).
"""

from __future__ import annotations

import ast
import fnmatch
import hashlib
import os
import subprocess
import sys
import tomllib
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from feedkit import EXAMPLE_NAMES, EXAMPLES, copy_example
from statekit import after_month, differences, split, state_differences

from calc import cli, load, store
from calc import report as R
from calc.access import Principal
from calc.engine.state import MANIFEST, STATE_COLUMNS, MonthEndState
from calc.feed import TABLES, Feed, FeedError
from calc.feed import read_feed as read_feed_folder
from calc.load import load_feed
from calc.monthly import compute, monthly_calculation
from calc.store import convert, models, write
from calc.store import engine as store_engine_module

FEED_NAMES = TABLES
DRILL_DOWNS = ("omnibus_accounts", "lots")
ANALYST = Principal("tester", "analyst")  # sees every row


# --- helpers -------------------------------------------------------------------------


def example(name: str) -> Path:
    return EXAMPLES / name


@cache
def computed(name: str) -> tuple[Feed, R.MonthlyCalculation]:
    """The feed of a worked example and its Monthly Calculation (computed once per session)."""
    feed = read_feed_folder(example(name) / "feed")
    return feed, monthly_calculation(feed)


def fingerprint(engine: sa.Engine) -> str:
    """SHA-256 of every table's name and rows (in a fixed order): the database's contents."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        names = sorted(sa.inspect(conn).get_table_names())
        quote = conn.dialect.identifier_preparer.quote
        for name in names:
            rows = sorted(
                repr(tuple(row)) for row in conn.exec_driver_sql(f"SELECT * FROM {quote(name)}")
            )
            digest.update(f"{name}:{len(rows)}\n".encode())
            for row in rows:
                digest.update(row.encode())
    return digest.hexdigest()


def csv_text(name: str, frame: pd.DataFrame) -> str:
    return R.format_table(name, frame).to_csv(index=False, lineterminator="\n")


def schema_diff(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, models.metadata)


# --- schema and migrations -----------------------------------------------------------------


def test_alembic_upgrade_head_on_an_empty_database_agrees_with_the_models(
    engine: sa.Engine, database_url: str
) -> None:
    assert sa.inspect(engine).get_table_names() == []
    run = subprocess.run(  # the command as a person types it, in the project folder
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=store_engine_module.PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    head = ScriptDirectory.from_config(store_engine_module.alembic_config()).get_current_head()
    assert store_engine_module.current_revision(engine) == head
    assert set(sa.inspect(engine).get_table_names()) == {"alembic_version", *models.metadata.tables}
    assert schema_diff(engine) == []


def test_migrations_go_down_and_up_again(engine: sa.Engine) -> None:
    store.upgrade(engine)
    store_engine_module.downgrade(engine, "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    store.upgrade(engine)
    assert schema_diff(engine) == []


def test_upgrade_finds_the_migrations_in_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No alembic.ini and no source checkout needed: the migrations are package data."""
    folder = resources.files("calc.store") / "migrations"
    assert Path(str(folder)) == store_engine_module.MIGRATIONS_DIR
    assert folder.joinpath("env.py").is_file() and folder.joinpath("script.py.mako").is_file()
    config = store_engine_module.alembic_config()
    assert config.config_file_name is None
    monkeypatch.chdir(tmp_path)  # no alembic.ini here
    engine = store.get_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        store.upgrade(engine)
        head = ScriptDirectory.from_config(config).get_current_head()
        assert head is not None and store_engine_module.current_revision(engine) == head
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def test_every_migration_file_is_package_data() -> None:
    """pyproject.toml's package-data globs take every migration into a built package."""
    pyproject = tomllib.loads((store_engine_module.PROJECT_ROOT / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["calc.store"]
    package = Path(store.__file__).parent
    files = [
        path.relative_to(package).as_posix()
        for path in store_engine_module.MIGRATIONS_DIR.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    assert "migrations/versions/0001_initial_schema.py" in files
    assert [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)] == []


def test_result_tables_have_the_report_columns() -> None:
    expected = {
        **R.COLUMNS,
        "omnibus": R.OMNIBUS_COLUMNS + R.OMNIBUS_HOLDER_EXTRA,
        "omnibus_accounts": R.OMNIBUS_ACCOUNT_COLUMNS,
        "lots": R.LOT_COLUMNS,
    }
    assert {name: models.value_columns(t) for name, t in models.RESULT_TABLES.items()} == expected
    money = {
        name: [c.name for c in t.columns if models.is_money(c)]
        for name, t in models.RESULT_TABLES.items()
    }
    for name, columns in R.MONEY_COLUMNS.items():
        assert money[name] == columns
    assert money["lots"] == ["cost", "anniversary_cost"]


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_round_trip_gives_the_files_write_csv_gives(
    store_engine: sa.Engine, name: str, tmp_path: Path
) -> None:
    feed, calculation = computed(name)
    run_id = store.save_calculation(store_engine, feed, calculation)
    back = store.read_calculation(store_engine, ANALYST, run_id)

    R.write_csv(calculation, tmp_path / "direct")
    R.write_csv(back, tmp_path / "stored")
    for table in R.TABLE_NAMES:
        assert csv_text(table, back.tables()[table]) == csv_text(
            table, calculation.tables()[table]
        ), table
        direct = (tmp_path / "direct" / f"{table}.csv").read_bytes()
        assert (tmp_path / "stored" / f"{table}.csv").read_bytes() == direct, table

    # The frames are typed as calc.report.read_csv types them.
    as_read = R.read_csv(tmp_path / "direct")
    for table in R.TABLE_NAMES:
        frame = back.tables()[table][R.COLUMNS[table]]
        assert frame.dtypes.to_dict() == as_read.tables()[table].dtypes.to_dict(), table

    # The drill-downs and K_h(m): shares exact, lot cost to the cent.
    pd.testing.assert_series_equal(
        back.omnibus["commission_shares"],
        calculation.omnibus["commission_shares"],
        check_exact=True,
    )
    for table in DRILL_DOWNS:
        original = getattr(calculation, table)
        stored = getattr(back, table)
        assert list(stored.columns) == list(original.columns)
        for column in original.columns:
            if column in ("cost", "anniversary_cost"):  # stored in cents
                np.testing.assert_allclose(stored[column], original[column], atol=0.005)
            elif pd.api.types.is_datetime64_any_dtype(original[column]):
                assert (stored[column] == original[column]).all(), column
            else:
                assert stored[column].tolist() == original[column].tolist(), column


def test_expected_files_round_trip_exactly(store_engine: sa.Engine) -> None:
    """read_csv frames (the examples' expected files) come back equal, dtypes and all."""
    folder = example("random-1095")
    feed = read_feed_folder(folder / "feed")
    calculation = R.read_csv(folder / "expected")
    back = store.read_calculation(
        store_engine, ANALYST, store.save_calculation(store_engine, feed, calculation)
    )
    for table in R.TABLE_NAMES:
        pd.testing.assert_frame_equal(
            back.tables()[table][R.COLUMNS[table]], calculation.tables()[table], check_exact=True
        )
    for table in DRILL_DOWNS:  # None in the calculation: stored as no rows
        assert getattr(back, table).empty
        assert list(getattr(back, table).columns) == models.value_columns(
            models.RESULT_TABLES[table]
        )


@pytest.mark.parametrize("name", ["hand", "hand-v3"])
def test_feed_round_trip(store_engine: sa.Engine, name: str) -> None:
    feed, calculation = computed(name)
    run_id = store.save_calculation(store_engine, feed, calculation)
    back = store.read_feed(store_engine, ANALYST, run_id)
    assert (back.source, back.checksum) == (feed.source, feed.checksum)
    for table in FEED_NAMES:
        original = getattr(feed, table)
        if table == "offsets":
            original = original.assign(amount=original["amount"].astype("float64"))
        pd.testing.assert_frame_equal(getattr(back, table), original, check_exact=True, obj=table)
    assert back.months().equals(feed.months())


def test_money_is_stored_as_integer_cents(store_engine: sa.Engine) -> None:
    feed, calculation = computed("hand")
    run_id = store.save_calculation(store_engine, feed, calculation)
    table = models.RESULT_TABLES["payments"]
    with store_engine.connect() as conn:
        stored = (
            conn.execute(
                sa.select(table.c.payable).where(table.c.run_id == run_id).order_by(table.c.row_no)
            )
            .scalars()
            .all()
        )
    assert all(isinstance(v, int) for v in stored)
    assert stored == [round(v * 100) for v in calculation.payments["payable"]]


# --- one transaction -------------------------------------------------------------------------


def test_a_save_failing_midway_leaves_the_database_unchanged(
    store_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save_calculation(store_engine, *computed("hand"))
    before = fingerprint(store_engine)

    real_bulk_insert = write._bulk_insert
    calls = []

    def failing_after_the_first_table(conn, table, frame, tick):
        if calls:
            raise RuntimeError("disk on fire")
        calls.append(table.name)
        real_bulk_insert(conn, table, frame, tick)

    monkeypatch.setattr(write, "_bulk_insert", failing_after_the_first_table)
    with pytest.raises(RuntimeError, match="disk on fire"):
        store.save_calculation(store_engine, *computed("hand-v3"))
    assert calls  # the first table was written before the failure
    assert fingerprint(store_engine) == before


def test_duplicate_keys_are_refused_by_the_store_itself(store_engine: sa.Engine) -> None:
    """Even a feed that skipped validation cannot store two transactions with one txn_id."""
    feed, calculation = computed("hand")
    store.save_calculation(store_engine, feed, calculation)
    before = fingerprint(store_engine)
    transactions = feed.transactions.copy()
    transactions.loc[1, "txn_id"] = transactions.loc[0, "txn_id"]
    broken = Feed(
        **{t: getattr(feed, t) for t in FEED_NAMES if t != "transactions"},
        transactions=transactions,
    )
    with pytest.raises(sa.exc.IntegrityError):
        store.save_calculation(store_engine, broken, calculation)
    assert fingerprint(store_engine) == before


def test_a_rejected_feed_writes_nothing_and_the_command_exits_2(
    engine: sa.Engine, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert (
        cli.main(["load", str(example("hand") / "feed"), "--database-url", database_url, "-q"]) == 0
    )
    before = fingerprint(engine)

    bad = copy_example(tmp_path)
    lines = (bad / "transactions.csv").read_text().splitlines()
    lines[2] = "T01," + lines[2].split(",", 1)[1]  # T02 becomes a second T01
    (bad / "transactions.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(FeedError, match="T01"):
        load_feed(bad, engine)
    assert cli.main(["load", str(bad), "--database-url", database_url, "-q"]) == cli.EXIT_REJECTED
    assert "T01" in capsys.readouterr().err
    assert fingerprint(engine) == before


def test_a_rejected_feed_does_not_even_create_the_schema(engine: sa.Engine, tmp_path: Path) -> None:
    bad = copy_example(tmp_path)
    (bad / "portfolios.csv").unlink()
    with pytest.raises(FeedError):
        load_feed(bad, engine)
    assert sa.inspect(engine).get_table_names() == []


def test_a_first_load_failing_midway_rolls_back_the_migrations_too(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*_args, **_kwargs):
        raise RuntimeError("no room")

    monkeypatch.setattr(write, "_bulk_insert", failing)
    with pytest.raises(RuntimeError, match="no room"):
        load_feed(example("hand") / "feed", engine)
    assert sa.inspect(engine).get_table_names() == []


def test_the_calculation_runs_before_the_transaction_opens(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A computation that fails leaves the database untouched: not even the schema is made."""
    opened = []
    monkeypatch.setattr(load, "compute", lambda *_a, **_k: 1 / 0)
    sa.event.listen(engine, "begin", lambda _conn: opened.append(True))
    with pytest.raises(ZeroDivisionError):
        load_feed(example("hand") / "feed", engine)
    assert opened == []
    assert sa.inspect(engine).get_table_names() == []


def test_load_feed_without_an_engine_uses_database_url(
    engine: sa.Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    run_id = load_feed(example("hand") / "feed")
    assert store.latest_run_id(engine, ANALYST) == run_id


def test_the_store_is_persistence_only() -> None:
    """Reading, validating and computing a feed is calc.load's part: the store imports neither."""
    forbidden = ("calc.load", "calc.monthly", "calc.feed.read_feed")
    for path in Path(store.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            assert not [n for n in names if n.startswith(forbidden)], (path, names)


# --- loading and the read API ----------------------------------------------------------------


def test_load_feed_stores_the_feed_and_its_calculation(engine: sa.Engine) -> None:
    stages = []
    run_id = load_feed(example("hand") / "feed", engine, progress=lambda *a: stages.append(a))
    assert stages and stages[-1][0] == f"stored calculation run {run_id}"
    assert any(
        len(s) == 3 and s[1] == s[2] for s in stages
    )  # the storing progress reaches its total
    feed, calculation = computed("hand")
    back = store.read_calculation(engine, ANALYST, run_id)
    for table in R.TABLE_NAMES:
        assert csv_text(table, back.tables()[table]) == csv_text(
            table, calculation.tables()[table]
        ), table

    runs = store.list_runs(engine, ANALYST)
    assert runs.loc[0, "run_id"] == run_id == store.latest_run_id(engine, ANALYST)
    run = runs.iloc[0]
    assert run["feed_checksum"] == feed.checksum
    assert run["source"] == str(example("hand") / "feed")
    assert run["code_version"] == write.code_version() != ""
    assert run["status"] == write.STATUS_COMPLETE
    assert run["months"] == 100
    assert (run["first_month"], run["last_month"]) == (
        pd.Timestamp("2012-03-31"),
        pd.Timestamp("2020-06-30"),
    )
    for table in (*R.TABLE_NAMES, *DRILL_DOWNS):
        assert run[f"{table}_rows"] == len(getattr(calculation, table))


def test_the_same_feed_twice_is_stored_once_with_two_runs(store_engine: sa.Engine) -> None:
    feed, calculation = computed("hand-v3")
    first = store.save_calculation(store_engine, feed, calculation)
    second = store.save_calculation(store_engine, feed, calculation)
    runs = store.list_runs(store_engine, ANALYST)
    assert runs["run_id"].tolist() == [second, first]  # newest first
    assert runs["feed_id"].nunique() == 1
    with store_engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(models.FEED_TABLE)) == 1
    assert store.read_feed(store_engine, ANALYST, second).transactions.equals(
        store.read_feed(store_engine, ANALYST, first).transactions
    )


def test_a_feed_normalised_differently_is_stored_again(store_engine: sa.Engine) -> None:
    """Same files (checksum), other normalised values: each run reads back its own feed."""
    feed, calculation = computed("hand-v3")
    first = store.save_calculation(store_engine, feed, calculation)
    nav = feed.nav.assign(nav=feed.nav["nav"] * 2)
    other = Feed(
        **{t: getattr(feed, t) for t in FEED_NAMES if t != "nav"},
        nav=nav,
        source=feed.source,
        checksum=feed.checksum,
    )
    second = store.save_calculation(store_engine, other, calculation)
    assert store.list_runs(store_engine, ANALYST)["feed_id"].nunique() == 2
    assert store.read_feed(store_engine, ANALYST, first).nav["nav"].tolist() == feed.nav["nav"].tolist()
    assert store.read_feed(store_engine, ANALYST, second).nav["nav"].tolist() == nav["nav"].tolist()
    assert store.read_feed(store_engine, ANALYST, second).checksum == feed.checksum


def test_read_api_on_a_database_never_loaded(engine: sa.Engine) -> None:
    runs = store.list_runs(engine, ANALYST)
    assert runs.empty
    assert {"run_id", "feed_id", "feed_checksum", "created_at", "months", "summary_rows"} <= set(
        runs.columns
    )
    assert store.latest_run_id(engine, ANALYST) is None


def test_read_table_filters_in_the_query(store_engine: sa.Engine) -> None:
    feed, calculation = computed("hand")
    run_id = store.save_calculation(store_engine, feed, calculation)
    payments = calculation.payments

    def same(frame: pd.DataFrame, expected: pd.DataFrame, table: str = "payments") -> None:
        assert csv_text(table, frame) == csv_text(table, expected.reset_index(drop=True))

    same(store.read_table(store_engine, ANALYST, "payments", run_id), payments)
    same(
        store.read_table(store_engine, ANALYST, "payments", run_id, assignee="FIN"),
        payments[(payments["party"] == "FIN") & (payments["role"] == "assignee")],
    )
    assert len(store.read_table(store_engine, ANALYST, "payments", run_id, assignee="FIN")) > 0
    same(
        store.read_table(store_engine, ANALYST, "payments", run_id, portfolio_id="Q", party=["ADI", "OD1"]),
        payments[(payments["portfolio_id"] == "Q") & payments["party"].isin(["ADI", "OD1"])],
    )
    same(
        store.read_table(store_engine, ANALYST, "payments", run_id, month_end="2020-06-30", payable=699.01),
        payments[(payments["month_end"] == "2020-06-30") & (payments["payable"] == 699.01)],
    )
    allocation = calculation.allocation
    same(
        store.read_table(store_engine, ANALYST, "allocation", run_id, rights_holder="OD1"),
        allocation[allocation["rights_holder"] == "OD1"],
        "allocation",
    )
    transactions = store.read_table(store_engine, ANALYST, "transactions", run_id, account_id="OM")
    assert (
        transactions["txn_id"].tolist()
        == feed.transactions.loc[feed.transactions["account_id"] == "OM", "txn_id"].tolist()
    )
    lots = store.read_table(store_engine, ANALYST, "lots", run_id, portfolio_id="P")
    assert len(lots) == (calculation.lots["portfolio_id"] == "P").sum()

    with pytest.raises(ValueError, match="no column"):
        store.read_table(store_engine, ANALYST, "summary", run_id, party="ADI")
    with pytest.raises(ValueError, match="unknown table"):
        store.read_table(store_engine, ANALYST, "nonsense", run_id)
    with pytest.raises(store.RunNotFound):
        store.read_table(store_engine, ANALYST, "summary", run_id + 1)
    with pytest.raises(store.RunNotFound):
        store.read_calculation(store_engine, ANALYST, run_id + 1)


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_postgres_loads_through_copy(
    store_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert store_engine.dialect.name == "postgresql"

    def no_executemany(*_args, **_kwargs):
        raise AssertionError("row inserts on PostgreSQL")

    monkeypatch.setattr(write, "_executemany", no_executemany)
    run_id = store.save_calculation(store_engine, *computed("hand-v3"))
    assert len(store.read_calculation(store_engine, ANALYST, run_id).payments) == len(
        computed("hand-v3")[1].payments
    )


def test_awkward_text_and_numbers_survive(store_engine: sa.Engine) -> None:
    """Commas, quotes, newlines, empty and missing text; tiny, huge and missing floats."""
    feed, calculation = computed("hand")
    detail = ['a, "quoted"\nsecond line', "", None, "\\.", "naïve €"]
    exceptions = pd.DataFrame(
        {
            "month_end": pd.to_datetime(["2020-01-31"] * 5),
            "portfolio_id": ["P", "", "Q", "P", "P"],
            "account_id": ["", None, "OM", "OR", "OM"],
            "code": ["zero_denominator"] * 5,
            "detail": detail,
        }
    )
    allocation = calculation.allocation.head(4).copy()
    allocation["share"] = [1e-300, 1 / 3, 123456789.123456789, np.nan]
    odd = R.MonthlyCalculation(
        **{**calculation.tables(), "exceptions": exceptions, "allocation": allocation}
    )
    back = store.read_calculation(store_engine, ANALYST, store.save_calculation(store_engine, feed, odd))
    assert back.exceptions["detail"].tolist() == [
        'a, "quoted"\nsecond line',
        "",
        "",
        "\\.",
        "naïve €",
    ]
    assert back.exceptions["account_id"].tolist() == ["", "", "OM", "OR", "OM"]
    assert back.exceptions["portfolio_id"].tolist() == ["P", "", "Q", "P", "P"]
    np.testing.assert_array_equal(
        back.allocation["share"].to_numpy(), allocation["share"].to_numpy()
    )


# --- the month-end state ----------------------------------------------------------------------


@cache
def closing_state(name: str) -> MonthEndState:
    """The month-end state at the last month of a worked example (computed once per session)."""
    state = compute(computed(name)[0])[1]
    assert state is not None
    return state


def state_file_count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(models.STATE_FILE_TABLE))


def test_load_feed_stores_the_month_end_state_to_the_bit(engine: sa.Engine) -> None:
    run_id = load_feed(example("hand") / "feed", engine)
    state = closing_state("hand")
    back = store.read_state(engine, ANALYST, run_id)
    assert state_differences(state, back) == []
    assert (back.month_end, back.feed_checksum) == (state.month_end, state.feed_checksum)
    assert store.list_runs(engine, ANALYST).loc[0, "state_month_end"] == state.month_end
    with engine.connect() as conn:
        names = conn.scalars(
            sa.select(models.STATE_FILE_TABLE.c.name).where(
                models.STATE_FILE_TABLE.c.run_id == run_id
            )
        ).all()
    assert sorted(names) == sorted([MANIFEST, *(f"{n}.parquet" for n in STATE_COLUMNS)])


def test_a_run_without_a_state_stores_none_and_says_so(store_engine: sa.Engine) -> None:
    run_id = store.save_calculation(store_engine, *computed("hand"))
    assert state_file_count(store_engine) == 0
    assert pd.isna(store.list_runs(store_engine, ANALYST).loc[0, "state_month_end"])
    with pytest.raises(store.StateNotStored, match=f"run {run_id} has no month-end state"):
        store.read_state(store_engine, ANALYST, run_id)
    with pytest.raises(store.RunNotFound):
        store.read_state(store_engine, ANALYST, run_id + 1)


def test_a_calculation_continued_from_the_stored_state_equals_the_whole_run(
    store_engine: sa.Engine,
) -> None:
    feed, _ = computed("hand")
    whole, _ = compute(feed)
    for end in (pd.Timestamp("2019-12-31"), pd.Timestamp("2020-03-31")):
        first, rest = split(feed, end)
        calculation, state = compute(first, through=end)
        run_id = store.save_calculation(store_engine, first, calculation, state=state)
        continued, _ = compute(rest, opening=store.read_state(store_engine, ANALYST, run_id))
        assert differences(after_month(whole, end), after_month(continued, end)) == [], end


def test_a_save_failing_after_the_state_leaves_no_state_rows(
    store_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save_calculation(store_engine, *computed("hand"), state=closing_state("hand"))
    before, files = fingerprint(store_engine), state_file_count(store_engine)

    real_insert_state = write._insert_state
    inserted = []

    def spying(conn, run_id, files, tick):
        real_insert_state(conn, run_id, files, tick)
        inserted.append(conn.scalar(sa.select(sa.func.count()).select_from(models.STATE_FILE_TABLE)))

    def failing(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(write, "_insert_state", spying)
    monkeypatch.setattr(write, "_bulk_insert", failing)  # the result tables, after the state
    with pytest.raises(RuntimeError, match="disk on fire"):
        store.save_calculation(store_engine, *computed("hand"), state=closing_state("hand"))
    assert inserted == [2 * files]  # written in the transaction, then rolled back
    assert state_file_count(store_engine) == files
    assert fingerprint(store_engine) == before


def test_migration_0002_upgrades_a_database_made_at_0001(engine: sa.Engine) -> None:
    """A run stored at 0001 keeps its results and has no state; new runs store one."""
    config = store_engine_module.alembic_config()
    with store_engine_module.write_transaction(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        assert "run_state_file" not in sa.inspect(conn).get_table_names()
        feed_id = conn.execute(
            sa.text(
                "INSERT INTO feed (content_hash, checksum, source, loaded_at) "
                "VALUES ('h', 'c', 'old', '2026-01-02 03:04:05') RETURNING feed_id"
            )
        ).scalar_one()
        run_id = conn.execute(
            sa.text(
                "INSERT INTO calculation_run (feed_id, feed_checksum, source, code_version, "
                "created_at, status, months, first_month, last_month, summary_rows, "
                "allocation_rows, payments_rows, omnibus_rows, cdsc_rows, exceptions_rows, "
                "omnibus_accounts_rows, lots_rows) VALUES (:feed_id, 'c', 'old', '0.1', "
                "'2026-01-02 03:04:05', 'complete', 1, '2020-01-31', '2020-01-31', "
                "1, 0, 0, 0, 0, 0, 0, 0) RETURNING run_id"
            ),
            {"feed_id": feed_id},
        ).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO result_summary (run_id, row_no, month_end, portfolio_id, "
                "distribution_fee) VALUES (:run_id, 0, '2020-01-31', 'P', 12345)"
            ),
            {"run_id": run_id},
        )

    store.upgrade(engine)
    assert schema_diff(engine) == []
    assert store.read_table(engine, ANALYST, "summary", run_id)["distribution_fee"].tolist() == [123.45]
    assert pd.isna(store.list_runs(engine, ANALYST).loc[0, "state_month_end"])
    with pytest.raises(store.StateNotStored):
        store.read_state(engine, ANALYST, run_id)
    feed, calculation = computed("hand")
    new = store.save_calculation(engine, feed, calculation, state=closing_state("hand"))
    assert state_differences(closing_state("hand"), store.read_state(engine, ANALYST, new)) == []


def test_migration_0002_goes_down_keeping_every_run_and_its_results(
    store_engine: sa.Engine,
) -> None:
    """Down to 0001 drops the state, nothing else (on SQLite too: no table copy that cascades)."""
    run_id = store.save_calculation(store_engine, *computed("hand"), state=closing_state("hand"))
    results = store.read_calculation(store_engine, ANALYST, run_id)
    store_engine_module.downgrade(store_engine, "0001")
    tables = sa.inspect(store_engine).get_table_names()
    assert "run_state_file" not in tables
    columns = [c["name"] for c in sa.inspect(store_engine).get_columns("calculation_run")]
    assert "state_month_end" not in columns
    with store_engine.connect() as conn:
        for name, table in models.RESULT_TABLES.items():
            count = conn.scalar(
                sa.select(sa.func.count()).select_from(sa.table(table.name))
            )
            assert count == len(getattr(results, name)), name
    store.upgrade(store_engine)
    assert schema_diff(store_engine) == []
    with pytest.raises(store.StateNotStored):
        store.read_state(store_engine, ANALYST, run_id)


def test_migration_0006_adds_the_lots_anniversary_parts_keeping_the_runs_stored_before(
    engine: sa.Engine,
) -> None:
    """A run stored at 0005 keeps its lots, the anniversary parts empty (NULL: the Collateral page
    falls back to ranges), and so does a run this version saves before the database is migrated;
    a run stored after has them, cost in cents; down to 0005 and up again."""
    from calc.reports.collateral import by_anniversary

    config = store_engine_module.alembic_config()
    with store_engine_module.write_transaction(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0005")
        assert "anniversary_shares" not in [c["name"] for c in sa.inspect(conn).get_columns("result_lot")]
        feed_id = conn.execute(sa.text(
            "INSERT INTO feed (content_hash, checksum, source, loaded_at) "
            "VALUES ('h', 'c', 'old', '2026-01-02 03:04:05') RETURNING feed_id")).scalar_one()
        run_id = conn.execute(sa.text(
            "INSERT INTO calculation_run (feed_id, feed_checksum, source, code_version, "
            "created_at, status, months, first_month, last_month, summary_rows, "
            "allocation_rows, payments_rows, omnibus_rows, cdsc_rows, exceptions_rows, "
            "omnibus_accounts_rows, lots_rows) VALUES (:feed_id, 'c', 'old', '0.1', "
            "'2026-01-02 03:04:05', 'complete', 1, '2020-06-30', '2020-06-30', "
            "0, 0, 0, 0, 0, 0, 0, 1) RETURNING run_id"), {"feed_id": feed_id}).scalar_one()
        conn.execute(sa.text(
            "INSERT INTO result_lot (run_id, row_no, month_end, portfolio_id, rights_holder, issue_year, "
            "commission_shares, cost) VALUES (:run_id, 0, '2020-06-30', 'P', 'ADI', 2019, 80.0, 80000)"),
            {"run_id": run_id})

    # a run saved by this version into the database not yet migrated: stored without the parts
    unmigrated = store.save_calculation(engine, *computed("hand"))
    store.upgrade(engine)
    assert schema_diff(engine) == []
    assert not by_anniversary(store.read_table(engine, ANALYST, "lots", unmigrated))
    old = store.read_table(engine, ANALYST, "lots", run_id)
    assert old["cost"].tolist() == [800.0] and old["anniversary_shares"].isna().all()
    assert not by_anniversary(old)
    feed, calculation = computed("random-1095")
    new = store.save_calculation(engine, feed, calculation)
    lots = store.read_table(engine, ANALYST, "lots", new)
    assert by_anniversary(lots) and len(lots) == len(calculation.lots)
    assert lots["anniversary_shares"].tolist() == calculation.lots["anniversary_shares"].tolist()
    assert lots["anniversary_cost"].tolist() == convert.to_cents(calculation.lots["anniversary_cost"]).div(100).tolist()

    store_engine_module.downgrade(engine, "0005")
    assert "anniversary_shares" not in [c["name"] for c in sa.inspect(engine).get_columns("result_lot")]
    with engine.connect() as conn:
        count = conn.scalar(sa.select(sa.func.count()).select_from(sa.table("result_lot")))
    assert count == 1 + len(computed("hand")[1].lots) + len(calculation.lots)
    store.upgrade(engine)
    assert schema_diff(engine) == []
    assert store.read_table(engine, ANALYST, "lots", new)["anniversary_shares"].isna().all()


# --- no database -----------------------------------------------------------------------------


def test_to_cents_rounds_half_away_from_zero_on_the_decimal_value() -> None:
    dollars = [
        1.005,
        2.675,
        -0.005,
        0.125,
        -2.5e-3,
        0.0,
        -0.0,
        12345678901.235,
        0.1 + 0.2,
        np.nan,
        1e13 + 0.5,
    ]
    cents = convert.to_cents(dollars)
    assert cents.iloc[:9].tolist() == [101, 268, -1, 13, 0, 0, 0, 1234567890124, 30]
    assert cents.isna().tolist() == [False] * 9 + [True, False]
    assert cents.iloc[10] == 1_000_000_000_000_050
    with pytest.raises(ValueError):
        convert.to_cents([np.inf])


def test_to_cents_agrees_with_exact_decimal_rounding() -> None:
    rng = np.random.default_rng(1095)
    mills = rng.integers(
        -(10**12), 10**12, size=20_000
    )  # thousandths of a dollar: many exact halves
    dollars = np.concatenate([mills / 1000, rng.normal(0, 1e7, size=20_000)])
    exact = [
        int(Decimal(repr(float(v))).scaleb(2).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        for v in dollars
    ]
    assert convert.to_cents(dollars).tolist() == exact


def test_database_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert store.resolve_url() == f"sqlite:///{store_engine_module.DEFAULT_SQLITE_PATH}"
    assert store_engine_module.DEFAULT_SQLITE_PATH.parent.name == "data"
    assert store.resolve_url("postgresql://u@h:5432/d") == "postgresql+psycopg://u@h:5432/d"
    assert store.resolve_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert store.resolve_url("postgresql+psycopg://u@h/d") == "postgresql+psycopg://u@h/d"
    monkeypatch.setenv("DATABASE_URL", "postgresql://elsewhere/db")
    assert store.get_engine().url.drivername == "postgresql+psycopg"
    assert store.get_engine("sqlite://").url.drivername == "sqlite"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = store.get_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
