"""The command line's month-end state: `--save-state` and `--from-state` (issue 7, section 1)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from feedkit import copy_example
from statekit import split_folder

from calc.cli import main

END = "2020-02-29"  # the hand example has activity every month of January-June 2020


def _split(feed: Path, tmp_path: Path, end: str = END) -> tuple[Path, Path]:
    """Folders with the hand feed up to ``end`` and after it (reference tables whole)."""
    return split_folder(feed, end, tmp_path / "first", tmp_path / "rest")


@pytest.fixture
def split_hand(tmp_path: Path) -> tuple[Path, Path, Path]:
    feed = copy_example(tmp_path)
    first, rest = _split(feed, tmp_path)
    state = tmp_path / "state"
    assert main(["monthly", str(first), "--out", str(tmp_path / "first-out"), "--save-state", str(state), "-q"]) == 0
    return feed, rest, state


def _after(folder: Path, name: str, end: str = END) -> pd.DataFrame:
    frame = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
    column = "date" if name == "cdsc" else "month_end"
    return frame[frame[column] > end].reset_index(drop=True)


def test_continued_files_equal_those_months_of_the_whole_run(split_hand, tmp_path):
    feed, rest, state = split_hand
    assert (state / "manifest.json").is_file()
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert main(["monthly", str(feed), "--out", str(whole), "-q"]) == 0
    assert main(["monthly", str(rest), "--out", str(part), "--from-state", str(state), "-q"]) == 0
    for name in ("summary", "allocation", "payments", "omnibus", "cdsc", "exceptions"):
        got = pd.read_csv(part / f"{name}.csv", dtype=str, keep_default_na=False)
        pd.testing.assert_frame_equal(got, _after(whole, name), check_dtype=False)
    assert len(pd.read_csv(part / "summary.csv")) == 4 * 2  # March-June, P and Q


def _rejected(args: list[str], out: Path, capsys) -> str:
    assert main(args) == 2
    assert not out.exists()
    return capsys.readouterr().err


def test_another_feeds_reference_tables_are_rejected(split_hand, tmp_path, capsys):
    _, rest, state = split_hand
    tenures = pd.read_csv(rest / "tenures.csv", dtype=str, keep_default_na=False)
    tenures.loc[tenures["distributor"] == "IDI", "rights_holder"] = "IDI"
    tenures.to_csv(rest / "tenures.csv", index=False)
    out = tmp_path / "part"
    err = _rejected(["monthly", str(rest), "--out", str(out), "--from-state", str(state)], out, capsys)
    assert "other reference tables" in err


def test_transactions_on_or_before_the_state_month_end_are_rejected(split_hand, tmp_path, capsys):
    feed, rest, state = split_hand
    tx = pd.read_csv(feed / "transactions.csv", dtype=str, keep_default_na=False)
    early = tx[tx["date"] <= END].tail(1)
    pd.concat([pd.read_csv(rest / "transactions.csv", dtype=str, keep_default_na=False), early]).to_csv(
        rest / "transactions.csv", index=False)
    out = tmp_path / "part"
    err = _rejected(["monthly", str(rest), "--out", str(out), "--from-state", str(state)], out, capsys)
    assert "transactions.csv, line" in err and "on or before 2020-02-29" in err


def test_a_month_missing_between_state_and_feed_is_rejected(split_hand, tmp_path, capsys):
    _, rest, state = split_hand
    nav = pd.read_csv(rest / "nav.csv", dtype=str, keep_default_na=False)
    nav = pd.concat([nav, pd.DataFrame([{"portfolio_id": "P", "date": "2020-04-15", "nav": "10", "shares": "1000000"}])])
    nav.to_csv(rest / "nav.csv", index=False)
    out = tmp_path / "part"
    err = _rejected(["monthly", str(rest), "--out", str(out), "--from-state", str(state)], out, capsys)
    assert "a month is missing" in err and "portfolio P" in err


def test_a_folder_that_is_no_state_is_rejected(split_hand, tmp_path, capsys):
    _, rest, _ = split_hand
    out = tmp_path / "part"
    err = _rejected(["monthly", str(rest), "--out", str(out), "--from-state", str(tmp_path / "first-out")], out, capsys)
    assert "manifest.json is missing" in err


def test_out_naming_an_existing_file_is_rejected_before_computing(split_hand, tmp_path, capsys):
    feed, _, _ = split_hand
    target = tmp_path / "a-file"
    target.write_text("keep me")
    assert main(["monthly", str(feed), "--out", str(target)]) == 2
    assert target.read_text() == "keep me"
    assert "names a file" in capsys.readouterr().err
