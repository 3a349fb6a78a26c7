"""The ledger on Dask (issue 9): the accounts walked in slices on a cluster's workers give the
six files of the single-process run, byte for byte, and the same month-end state."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from feedkit import EXAMPLE_NAMES, example_feed
from statekit import after_month, differences, lots_text, split, state_differences

from calc.cli import main
from calc.engine.cluster import dask_client, slice_bounds
from calc.engine.ledger import prepare
from calc.engine.parties import Parties, build_tenures
from calc.feed import FeedError, read_feed
from calc.monthly import compute, feed_months
from calc.report import TABLE_NAMES, csv_text

SIX = [f"{name}.csv" for name in TABLE_NAMES]


@pytest.fixture(scope="module")
def client():
    """A local cluster of two single-threaded workers in this process (quick to start)."""
    with dask_client(workers=2, processes=False) as client:
        yield client


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory) -> Path:
    from calc.sample import generate

    return generate(tmp_path_factory.mktemp("small") / "feed", size="small", seed=5)


def _assert_same_files(a, b) -> None:
    for name in TABLE_NAMES:
        assert csv_text(name, getattr(a, name)) == csv_text(name, getattr(b, name)), name
    pd.testing.assert_frame_equal(lots_text(a.lots), lots_text(b.lots))  # anniversary columns included


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_examples_on_dask_equal_the_single_process_run(name, client):
    feed = read_feed(example_feed(name))
    whole, whole_state = compute(feed)
    on_dask, dask_state = compute(feed, client=client)
    _assert_same_files(whole, on_dask)
    assert not state_differences(whole_state, dask_state)


def test_small_sample_on_dask_equals_the_single_process_run(small_sample, client):
    feed = read_feed(small_sample)
    whole, whole_state = compute(feed)
    on_dask, dask_state = compute(feed, client=client)
    _assert_same_files(whole, on_dask)
    assert not state_differences(whole_state, dask_state)


def test_slices_cover_every_account_once_with_comparable_rows(small_sample):
    feed = read_feed(small_sample)
    parties = Parties.of(feed)
    prepared = prepare(feed, parties, build_tenures(feed, parties), int(feed_months(feed)[-1]))
    bounds = slice_bounds(prepared, 8)
    assert bounds[0] == 0 and bounds[-1] == len(prepared.accounts)
    assert np.all(np.diff(bounds) > 0)
    rows = np.diff(prepared.row_ptr[bounds])
    assert 4 <= len(rows) <= 8  # fewer when one account (an omnibus) holds more than a slice's rows
    assert rows.min() > 0.5 * rows.sum() / 8
    assert slice_bounds(prepared, 10**9)[-1] == len(prepared.accounts)  # more slices than accounts


def test_a_short_redeem_on_dask_is_the_same_problem(client):
    """A redemption beyond the holding that reaches the walk (the feed put together here,
    past the validator) is rejected with the feed's line, as without Dask."""
    feed = read_feed(example_feed("hand"))
    tx = feed.transactions.copy()
    redeem = tx.index[tx["kind"] == "redeem"][0]
    tx.loc[redeem, "shares"] = 1e9
    feed = dataclasses.replace(feed, transactions=tx)
    with pytest.raises(FeedError) as single:
        compute(feed)
    with pytest.raises(FeedError) as on_dask:
        compute(feed, client=client)
    assert "fewer than zero shares" in str(single.value)
    assert [str(p) for p in on_dask.value.problems] == [str(p) for p in single.value.problems]


def test_cli_dask_at_an_address_writes_the_same_six_files(tmp_path, client):
    feed = example_feed("random-1095")
    assert main(["monthly", str(feed), "--out", str(tmp_path / "one"), "-q"]) == 0
    address = client.scheduler.address
    assert main(["monthly", str(feed), "--out", str(tmp_path / "dask"), "--dask", address, "-q"]) == 0
    for name in SIX:
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name


def test_cli_dask_on_a_local_cluster_of_processes(tmp_path):
    """``--dask`` without an address: a LocalCluster of worker processes (the slices and
    their changes pickled), the same six files; with --save-state, the same state."""
    feed = example_feed("hand")
    assert main(["monthly", str(feed), "--out", str(tmp_path / "one"), "--save-state", str(tmp_path / "s1"),
                 "-q"]) == 0
    run = subprocess.run([sys.executable, "-m", "calc", "monthly", str(feed), "--out", str(tmp_path / "dask"),
                          "--save-state", str(tmp_path / "s2"), "--dask"], capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert "ledger on dask: a local cluster" in run.stderr
    for name in SIX:
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name
    for path in sorted((tmp_path / "s1").iterdir()):
        assert (tmp_path / "s2" / path.name).read_bytes() == path.read_bytes(), path.name


def test_continued_on_dask_equals_the_whole_run(small_sample, client):
    """A monthly close on Dask: continued from a month-end state, the later months equal
    those of one run over everything, and so does the state at the end."""
    feed = read_feed(small_sample)
    end = pd.Timestamp("2010-06-30")
    first, rest = split(feed, end)
    _, state = compute(first, through=end)
    on_dask, dask_state = compute(rest, opening=state, client=client)
    whole, whole_state = compute(feed)
    assert not differences(after_month(whole, end), after_month(on_dask, pd.Timestamp.min))
    assert not state_differences(whole_state, dask_state)
