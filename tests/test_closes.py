"""Closed months and restatements (issue 11): ``python -m calc close`` and ``export``, a
restating load, the database refusing every change to closed rows, the differences.

Every test that touches a database runs on SQLite and on PostgreSQL (``database_url``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from feedkit import copy_example, example_feed, set_cell

from calc import cli
from calc import report as R
from calc.access import AccessDenied, Principal
from calc.load import load_feed
from calc.reports.restatement import DIFFERENCE_COLUMNS, differences
from calc.store import engine as store_engine_module
from calc.store import read_audit
from calc.store.audit import ACTION_CLOSE, ACTION_RESTATEMENT
from calc.store.closes import (
    MonthAlreadyClosed,
    MonthNotInRun,
    close_month,
    closed_files,
    input_checksums,
    list_closes,
    list_restatements,
    month_files,
    restated_payments,
    tables_checksum,
)
from calc.store.models import RESULT_TABLES

ADMIN = Principal("ada", "admin")
ANALYST = Principal("ann", "analyst")
MONTH = "2020-05"  # the hand example's month with CDSCs (T13, T23)
FILES = [f"{name}.csv" for name in R.TABLE_NAMES]


# --- helpers -------------------------------------------------------------------------------


def month_lines(folder: Path, month: str) -> dict[str, bytes]:
    """The six files ``monthly`` wrote into ``folder``, cut to ``month``'s rows (CDSCs by date)."""
    out = {}
    for name in R.TABLE_NAMES:
        header, *body = (folder / f"{name}.csv").read_bytes().split(b"\n")
        column = 1 if name == "cdsc" else 0
        rows = [line for line in body if line and line.split(b",")[column].startswith(month.encode())]
        out[f"{name}.csv"] = b"\n".join([header, *rows]) + b"\n"
    return out


def monthly_files(feed: Path, out: Path, month: str) -> dict[str, bytes]:
    assert cli.main(["monthly", str(feed), "--out", str(out), "-q"]) == 0
    return month_lines(out, month)


def folder_files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def restating_feed(tmp_path: Path) -> Path:
    """The hand example with T13 (a redemption on 2020-05-04) at a price of 8: its CDSC base
    is then the lower value, 160.00, not the cost: May's CDSC changes."""
    folder = copy_example(tmp_path / "restating", "hand")
    set_cell(folder, "transactions", 14, "price", "8")
    return folder


def later_feed(tmp_path: Path) -> Path:
    """The hand example with June's last redemption (T26) at 8 instead of 9: May unchanged."""
    folder = copy_example(tmp_path / "later", "hand")
    set_cell(folder, "transactions", 27, "price", "8")
    return folder


def protected_state(engine: sa.Engine) -> str:
    """SHA-256 of every row of every table (a fixed order): what a refused write must leave."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        quote = conn.dialect.identifier_preparer.quote
        for name in sorted(sa.inspect(conn).get_table_names()):
            rows = sorted(repr(tuple(r)) for r in conn.exec_driver_sql(f"SELECT * FROM {quote(name)}"))
            digest.update(f"{name}:{len(rows)}\n{''.join(rows)}".encode())
    return digest.hexdigest()


def run_cli(*args: str) -> int:
    return cli.main(list(args))


# --- close, then export ---------------------------------------------------------------------


@pytest.mark.parametrize("name,month", [("hand", MONTH), ("random-1095", "2012-11")])
def test_close_then_export_equals_the_monthly_files_of_that_month(
    store_engine: sa.Engine, database_url: str, tmp_path: Path, name: str, month: str
) -> None:
    run_id = load_feed(example_feed(name), store_engine, principal=ADMIN)
    expected = monthly_files(example_feed(name), tmp_path / "monthly", month)
    assert sum(data.count(b"\n") - 1 for data in expected.values()) > 0

    # Not closed yet: the export comes from the run's rows, the same bytes.
    assert run_cli("export", "--run", str(run_id), "--month", month, "--out", str(tmp_path / "before"),
                   "--database-url", database_url) == 0
    assert folder_files(tmp_path / "before") == expected

    assert run_cli("close", month, "--run", str(run_id), "--database-url", database_url) == 0
    assert run_cli("export", "--run", str(run_id), "--month", month, "--out", str(tmp_path / "closed"),
                   "--database-url", database_url) == 0
    assert folder_files(tmp_path / "closed") == expected

    closes = list_closes(store_engine, ADMIN)
    assert len(closes) == 1
    close = closes.iloc[0]
    assert close["run_id"] == run_id and f"{close['month_end']:%Y-%m}" == month
    assert close["closed_by"] == Principal.operator().name
    assert close["tables_checksum"] == tables_checksum(expected)
    assert closed_files(store_engine, int(close["close_id"]), ADMIN) == expected
    events = read_audit(store_engine, ADMIN, action=ACTION_CLOSE)
    assert list(events["run_id"]) == [run_id]
    assert Principal.operator().name == events["actor"].iloc[0]
    assert close["tables_checksum"] in events["detail"].iloc[0]


def test_the_close_and_its_event_are_one_transaction(store_engine: sa.Engine) -> None:
    run_id = load_feed(example_feed("hand"), store_engine, principal=ADMIN)
    close_id = close_month(store_engine, run_id, MONTH, ADMIN)
    events = read_audit(store_engine, ADMIN, action=ACTION_CLOSE)
    assert len(events) == 1 and f"close {close_id}" in events["detail"].iloc[0]
    assert events["actor"].iloc[0] == ADMIN.name
    with pytest.raises(MonthAlreadyClosed):
        close_month(store_engine, run_id, MONTH, ADMIN)
    with pytest.raises(MonthNotInRun):
        close_month(store_engine, run_id, "2021-01", ADMIN)
    with pytest.raises(AccessDenied):
        close_month(store_engine, run_id, "2020-04", ANALYST)
    assert len(read_audit(store_engine, ADMIN, action=ACTION_CLOSE)) == 1
    assert len(list_closes(store_engine, ADMIN)) == 1


def test_the_inputs_checksum_covers_the_feed_up_to_the_month_only(store_engine: sa.Engine, tmp_path: Path) -> None:
    """The same feed, or one changed only after the month: the same inputs checksum; a
    change on or before the month end: another."""
    runs = {
        "hand": load_feed(example_feed("hand"), store_engine, principal=ADMIN),
        "later": load_feed(later_feed(tmp_path), store_engine, principal=ADMIN),
        "restating": load_feed(restating_feed(tmp_path), store_engine, principal=ADMIN),
    }
    month_end = pd.Timestamp("2020-05-31")
    with store_engine.connect() as conn:
        sums = {name: input_checksums(conn, _feed_of(store_engine, run), month_end) for name, run in runs.items()}
    assert sums["hand"] == sums["later"]
    assert sums["hand"][0] == sums["restating"][0]  # the reference tables are the same ...
    assert sums["hand"][1] != sums["restating"][1]  # ... a transaction is not
    close_month(store_engine, runs["hand"], MONTH, ADMIN)
    assert tuple(list_closes(store_engine, ADMIN).iloc[0][["reference_checksum", "inputs_checksum"]]) == sums["hand"]


# --- restatements ---------------------------------------------------------------------------


def test_a_restating_load_is_a_new_version_and_the_closed_rows_stay(
    store_engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    original = example_feed("hand")
    run_1 = load_feed(original, store_engine, principal=ADMIN)
    close_id = close_month(store_engine, run_1, MONTH, ADMIN)
    closed = closed_files(store_engine, close_id, ADMIN)
    sums = {name: hashlib.sha256(data).hexdigest() for name, data in closed.items()}

    # The same feed again, and a feed changing June only: new runs, no restatement.
    run_2 = load_feed(original, store_engine, principal=ADMIN)
    run_3 = load_feed(later_feed(tmp_path), store_engine, principal=ADMIN)
    assert list_restatements(store_engine, ADMIN).empty

    # A feed changing May: a restatement, version 2 of the month; the closed files stay.
    changed = restating_feed(tmp_path)
    run_4 = load_feed(changed, store_engine, principal=ADMIN)
    assert len({run_1, run_2, run_3, run_4}) == 4
    restatements = list_restatements(store_engine, ADMIN)
    assert len(restatements) == 1
    row = restatements.iloc[0]
    assert (row["run_id"], row["close_id"], row["version"]) == (run_4, close_id, 2)
    assert f"{row['month_end']:%Y-%m}" == MONTH and row["restated_by"] == ADMIN.name
    assert row["tables_checksum"] != list_closes(store_engine, ADMIN).iloc[0]["tables_checksum"]
    assert row["inputs_checksum"] != list_closes(store_engine, ADMIN).iloc[0]["inputs_checksum"]
    assert list_closes(store_engine, ADMIN).iloc[0]["restatements"] == 1

    again = closed_files(store_engine, close_id, ADMIN)
    assert again == closed
    assert {name: hashlib.sha256(data).hexdigest() for name, data in again.items()} == sums

    # Both versions export: the closed one as closed, the restated one as monthly writes it.
    assert run_cli("export", "--run", str(run_1), "--month", MONTH, "--out", str(tmp_path / "v1"),
                   "--database-url", database_url) == 0
    assert folder_files(tmp_path / "v1") == closed
    assert run_cli("export", "--run", str(run_4), "--month", MONTH, "--out", str(tmp_path / "v2"),
                   "--database-url", database_url) == 0
    restated = monthly_files(changed, tmp_path / "monthly-v2", MONTH)
    assert folder_files(tmp_path / "v2") == restated != closed
    files, close = month_files(store_engine, run_4, MONTH, ADMIN)
    assert files == restated and close is None

    events = read_audit(store_engine, ADMIN, action=ACTION_RESTATEMENT)
    assert list(events["run_id"]) == [run_4] and events["actor"].iloc[0] == ADMIN.name
    assert f"close {close_id}" in events["detail"].iloc[0]

    # Another restating load is the next version.
    run_5 = load_feed(changed, store_engine, principal=ADMIN)
    versions = list_restatements(store_engine, ADMIN).set_index("run_id")["version"]
    assert versions.to_dict() == {run_4: 2, run_5: 3}


def test_a_restating_load_without_an_admin_stores_nothing(store_engine: sa.Engine, tmp_path: Path) -> None:
    run_id = load_feed(example_feed("hand"), store_engine, principal=ADMIN)
    close_month(store_engine, run_id, MONTH, ADMIN)
    before = protected_state(store_engine)
    for principal in (None, ANALYST):
        with pytest.raises(AccessDenied, match="restates the closed month 2020-05"):
            load_feed(restating_feed(tmp_path / str(principal)), store_engine, principal=principal)
    assert protected_state(store_engine) == before
    # A load that changes no closed month needs no admin here (who may load is the sign-in's part).
    load_feed(later_feed(tmp_path), store_engine)


def test_the_cli_load_restates_as_the_operator(store_engine: sa.Engine, database_url: str, tmp_path: Path) -> None:
    assert run_cli("load", str(example_feed("hand")), "--database-url", database_url, "-q") == 0
    assert run_cli("close", MONTH, "--database-url", database_url) == 0
    assert run_cli("load", str(restating_feed(tmp_path)), "--database-url", database_url, "-q") == 0
    events = read_audit(store_engine, ADMIN, action=ACTION_RESTATEMENT)
    assert list(events["actor"]) == [Principal.operator().name]


# --- the store refuses every change to closed rows ------------------------------------------


def _closed_store(engine: sa.Engine, tmp_path: Path) -> tuple[int, int, int]:
    """Run 1 closed in May (close 1) and April (close 2), run 2 restating May, run 3
    neither: (run 1, run 2, run 3)."""
    run_1 = load_feed(example_feed("hand"), engine, principal=ADMIN)
    close_month(engine, run_1, MONTH, ADMIN)
    close_month(engine, run_1, "2020-04", ADMIN)
    run_2 = load_feed(restating_feed(tmp_path), engine, principal=ADMIN)
    run_3 = load_feed(later_feed(tmp_path), engine, principal=ADMIN)
    return run_1, run_2, run_3


def _feed_of(engine: sa.Engine, run_id: int) -> int:
    t = sa.table("calculation_run", sa.column("run_id"), sa.column("feed_id"))
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(t.c.feed_id).where(t.c.run_id == run_id)))


def _writes(run_id: int, feed_id: int) -> dict[str, sa.Executable]:
    """Every kind of write to a protected run's rows, its feed's rows and the closed rows."""
    def t(name: str, *columns: str) -> sa.TableClause:
        return sa.table(name, *(sa.column(c) for c in columns))

    run = t("calculation_run", "run_id", "status")
    payments = t("result_payment", "run_id", "payable")
    state = t("run_state_file", "run_id", "name")
    feed = t("feed", "feed_id", "source")
    txn = t("feed_transaction", "feed_id", "price")
    closed = t("closed_month", "run_id", "tables_checksum")
    files = t("closed_file", "close_id", "content")
    restatement = t("restatement", "run_id", "version")
    writes: dict[str, sa.Executable] = {
        "delete the run": sa.delete(run).where(run.c.run_id == run_id),
        "update the run": sa.update(run).where(run.c.run_id == run_id).values(status="x"),
        "delete its payments": sa.delete(payments).where(payments.c.run_id == run_id),
        "update its payments": sa.update(payments).where(payments.c.run_id == run_id).values(payable=0),
        "delete its state": sa.delete(state).where(state.c.run_id == run_id),
        "delete its feed": sa.delete(feed).where(feed.c.feed_id == feed_id),
        "update its feed": sa.update(feed).where(feed.c.feed_id == feed_id).values(source="x"),
        "delete the feed's transactions": sa.delete(txn).where(txn.c.feed_id == feed_id),
        "update the feed's transactions": sa.update(txn).where(txn.c.feed_id == feed_id).values(price=1),
        "update the closed month": sa.update(closed).values(tables_checksum="x"),
        "delete the closed month": sa.delete(closed),
        "update the closed files": sa.update(files).values(content=b"x"),
        "delete the closed files": sa.delete(files),
        "update the restatement": sa.update(restatement).values(version=9),
        "delete the restatement": sa.delete(restatement),
    }
    for name in RESULT_TABLES:
        table = t(RESULT_TABLES[name].name, "run_id")
        writes[f"delete its {name}"] = sa.delete(table).where(table.c.run_id == run_id)
    return writes


def test_every_write_to_a_closed_or_restating_run_is_refused(store_engine: sa.Engine, tmp_path: Path) -> None:
    run_1, run_2, run_3 = _closed_store(store_engine, tmp_path)
    before = protected_state(store_engine)
    refused = []
    for run_id in (run_1, run_2):
        for what, statement in _writes(run_id, _feed_of(store_engine, run_id)).items():
            with pytest.raises(sa.exc.DBAPIError) as raised, store_engine_module.write_transaction(store_engine) as conn:
                conn.execute(statement)
            assert isinstance(raised.value, sa.exc.IntegrityError), (what, raised.value)
            refused.append(what)
    assert len(refused) == 2 * len(_writes(run_1, 0))
    assert protected_state(store_engine) == before
    assert closed_files(store_engine, 1, ADMIN)  # still checks out

    # A run neither closed nor restating is not frozen (nothing in the app deletes one today).
    run = sa.table("calculation_run", sa.column("run_id"))
    with store_engine_module.write_transaction(store_engine) as conn:
        conn.execute(sa.delete(run).where(run.c.run_id == run_3))


def test_emptying_a_protected_table_is_refused(store_engine: sa.Engine, tmp_path: Path) -> None:
    """PostgreSQL: TRUNCATE (which fires no row trigger); SQLite: DELETE without a WHERE."""
    _closed_store(store_engine, tmp_path)
    before = protected_state(store_engine)
    postgres = store_engine.dialect.name == "postgresql"
    for table in ("result_payment", "feed_transaction", "closed_file", "calculation_run"):
        statement = f"TRUNCATE {table} CASCADE" if postgres else f"DELETE FROM {table}"
        with pytest.raises(sa.exc.IntegrityError), store_engine_module.write_transaction(store_engine) as conn:
            conn.exec_driver_sql(statement)
    assert protected_state(store_engine) == before


def test_the_migration_down_is_refused_while_a_month_is_closed(store_engine: sa.Engine, tmp_path: Path) -> None:
    _closed_store(store_engine, tmp_path)
    before = protected_state(store_engine)
    for revision in ("0005", "0004", "base"):
        with pytest.raises(RuntimeError, match="closed month"):
            store_engine_module.downgrade(store_engine, revision)
    assert protected_state(store_engine) == before
    assert store_engine_module.current_revision(store_engine) == "0007"  # head: nothing undone


# --- the differences ------------------------------------------------------------------------


def test_the_differences_per_party_and_month(store_engine: sa.Engine, tmp_path: Path) -> None:
    run_1, run_2, _ = _closed_store(store_engine, tmp_path)
    closed, restated = restated_payments(store_engine, run_2, ADMIN)
    frame = differences(closed, restated)
    assert list(frame.columns) == DIFFERENCE_COLUMNS
    assert set(frame["month_end"].dt.strftime("%Y-%m")) == {MONTH}
    # April is closed too, and the feed changes nothing of it: May alone is restated.
    assert sorted(list_closes(store_engine, ADMIN)["month_end"].dt.strftime("%Y-%m")) == ["2020-04", MONTH]
    assert list_restatements(store_engine, ADMIN)["month_end"].dt.strftime("%Y-%m").tolist() == [MONTH]
    changed = frame[frame["changed"]].set_index(["party", "role"])
    # T13's CDSC: 20 shares, base 160.00 instead of 200.00 at 5%: ADI's CDSC 2.00 less.
    assert changed.index.tolist() == [("ADI", "rights_holder")]
    assert changed.loc[("ADI", "rights_holder"), "cdsc_difference"] == -2.0
    # Its payable in May, both portfolios: P 4,476.22 and Q 3,176.23.
    assert changed.loc[("ADI", "rights_holder"), "closed_payable"] == 7652.45
    assert changed.loc[("ADI", "rights_holder"), "restated_payable"] == 7650.45
    assert (frame.loc[~frame["changed"], "payable_difference"] == 0).all()
    # A run that restates nothing has no rows.
    assert differences(*restated_payments(store_engine, run_1, ADMIN)).empty
    with pytest.raises(AccessDenied):
        restated_payments(store_engine, run_2, Principal("fin", "assignee", assignee="FIN"))


def test_differences_keep_a_party_on_one_side_only() -> None:
    day = pd.Timestamp("2020-05-31")
    def rows(*items: tuple[str, float]) -> pd.DataFrame:
        return pd.DataFrame([
            {"month_end": day, "portfolio_id": p, "party": party, "role": "rights_holder",
             "distribution_fee": amount, "cdsc": 0.0, "service_fee": 0.0, "offset": 0.0, "payable": amount,
             "due_date": day}
            for p in ("P", "Q") for party, amount in items
        ])
    frame = differences(rows(("ADI", 0.1), ("OD1", 5.0)), rows(("ADI", 0.2), ("NEW", 1.0)))
    got = frame.set_index("party")[["closed_payable", "restated_payable", "payable_difference"]]
    assert got.to_dict("index") == {
        "ADI": {"closed_payable": 0.2, "restated_payable": 0.4, "payable_difference": 0.2},
        "NEW": {"closed_payable": 0.0, "restated_payable": 2.0, "payable_difference": 2.0},
        "OD1": {"closed_payable": 10.0, "restated_payable": 0.0, "payable_difference": -10.0},
    }


# --- the command line's refusals -------------------------------------------------------------


def test_the_cli_refusals(store_engine: sa.Engine, database_url: str, tmp_path: Path, capsys) -> None:
    url = ["--database-url", database_url]
    assert run_cli("close", MONTH, *url) == 2
    assert "the store holds no calculation run" in capsys.readouterr().err
    run_id = load_feed(example_feed("hand"), store_engine, principal=ADMIN)

    cases = [
        (["close", MONTH, "--run", "99"], "close: no calculation run 99; nothing was written"),
        (["close", "2021-01", "--run", str(run_id)],
         "close: 2021-01 is not a month of run 1 (2012-03 to 2020-06); nothing was written"),
        (["export", "--run", "99", "--month", MONTH, "--out", str(tmp_path / "x")],
         "export: no calculation run 99"),
        (["export", "--run", str(run_id), "--month", "2011-12", "--out", str(tmp_path / "x")],
         "export: 2011-12 is not a month of run 1"),
    ]
    assert run_cli("close", MONTH, *url) == 0
    assert capsys.readouterr().out.strip() == f"closed {MONTH} of calculation run {run_id} as close 1"
    cases.append((["close", MONTH], "close: 2020-05 is closed already (close 1, run 1); nothing was written"))
    for args, message in cases:
        assert run_cli(*args, *url) == 2, args
        assert message in capsys.readouterr().err, args
    assert not (tmp_path / "x").exists()

    for args in (["close", "2020-13"], ["close", "May 2020"], ["export", "--run", "1", "--month", "2020-5",
                                                               "--out", str(tmp_path / "x")]):
        with pytest.raises(SystemExit) as raised:
            run_cli(*args, *url)
        assert raised.value.code == 2
        err = capsys.readouterr().err
        assert "not a month" in err and "write it YYYY-MM" in err, args


def test_export_refuses_an_existing_file_before_any_work(tmp_path: Path, capsys) -> None:
    target = tmp_path / "out.csv"
    target.write_text("keep me")
    database = tmp_path / "never.db"
    code = run_cli("export", "--run", "1", "--month", MONTH, "--out", str(target),
                   "--database-url", f"sqlite:///{database}")
    assert code == 2
    assert "--out names a file that exists" in capsys.readouterr().err
    assert target.read_text() == "keep me" and not database.exists()
