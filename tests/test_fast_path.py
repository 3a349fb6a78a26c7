"""The fast path and the plain one write the same bytes (issue 9): a feed sent as typed Parquet
(dates as dates, numbers as doubles) and the same feed as CSV text; the compiled kernels
and the same code run as plain Python (NUMBA_DISABLE_JIT); the monthly close (one more
month from the saved state, its feed as typed Parquet) and the whole run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from feedkit import EXAMPLE_NAMES, example_feed
from statekit import split_folder

from calc.cli import main
from calc.report import TABLE_NAMES
from calc.sample.write import typed_parquet

SIX = [f"{name}.csv" for name in TABLE_NAMES]
FEEDS = [*EXAMPLE_NAMES, "small sample"]


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory) -> Path:
    from calc.sample import generate

    return generate(tmp_path_factory.mktemp("small") / "feed", size="small", seed=5)


def _feed(name: str, small_sample: Path) -> Path:
    return small_sample if name == "small sample" else example_feed(name)


def _files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in SIX}


@pytest.mark.parametrize("name", FEEDS)
def test_typed_parquet_feed_writes_the_csv_feeds_bytes(name, small_sample, tmp_path):
    feed = _feed(name, small_sample)
    typed = typed_parquet(feed, tmp_path / "typed")
    assert sorted(p.suffix for p in typed.iterdir()) == [".parquet"] * len(list(feed.glob("*.csv")))
    assert main(["monthly", str(feed), "--out", str(tmp_path / "csv"), "-q"]) == 0
    assert main(["monthly", str(typed), "--out", str(tmp_path / "parquet"), "-q"]) == 0
    assert _files(tmp_path / "parquet") == _files(tmp_path / "csv")


@pytest.mark.parametrize("name", FEEDS)
def test_compiled_kernels_write_what_plain_python_writes(name, small_sample, tmp_path):
    """The numba kernels (the walk, the holdings check, the decimal reader, the text writer)
    run uncompiled, as the Python they are written in: the same six files."""
    feed = _feed(name, small_sample)
    assert main(["monthly", str(feed), "--out", str(tmp_path / "compiled"), "-q"]) == 0
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    run = subprocess.run([sys.executable, "-m", "calc", "monthly", str(feed), "--out", str(tmp_path / "plain"),
                          "-q"], env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert _files(tmp_path / "plain") == _files(tmp_path / "compiled")


def _lines_after(folder: Path, name: str, end: str) -> bytes:
    """The CSV file's header and its lines of the months after ``end``, as bytes."""
    lines = (folder / name).read_bytes().splitlines(keepends=True)
    column = lines[0].decode().rstrip("\n").split(",").index("date" if name == "cdsc.csv" else "month_end")
    kept = [line for line in lines[1:] if line.decode().split(",")[column] > end]
    return lines[0] + b"".join(kept)


def test_one_more_month_from_the_state_as_typed_parquet_equals_the_whole_run(small_sample, tmp_path):
    """The monthly close as the benchmark runs it: the history as CSV with --save-state, the
    last month's transactions and NAVs as typed Parquet with --from-state: that month's
    lines of the six files, byte for byte those of one run over everything."""
    end = "2012-11-30"
    first, rest = tmp_path / "first", tmp_path / "rest"
    split_folder(small_sample, end, first, rest)
    typed = typed_parquet(rest, tmp_path / "rest-typed")
    state = tmp_path / "state"
    assert main(["monthly", str(small_sample), "--out", str(tmp_path / "whole"), "-q"]) == 0
    assert main(["monthly", str(first), "--out", str(tmp_path / "first-out"), "--save-state", str(state), "-q"]) == 0
    assert main(["monthly", str(typed), "--out", str(tmp_path / "close"), "--from-state", str(state), "-q"]) == 0
    for name in SIX:
        got = (tmp_path / "close" / name).read_bytes()
        assert got == _lines_after(tmp_path / "whole", name, end), name
    assert len(pd.read_csv(tmp_path / "close" / "summary.csv")) > 0
