"""The ledger can be partitioned: the changes of accounts walked in groups, merged, add up to
those of one walk over the whole feed, to the last bit (issue 7, section 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from feedkit import EXAMPLES
from statekit import after_month, differences, state_differences

from calc.engine.ledger import merge, totals, walk
from calc.engine.parties import Parties, build_tenures
from calc.feed import read_feed
from calc.monthly import compute, feed_months

FEEDS = ["hand", "hand-v3", "random-1095"]


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory):
    from calc.sample import generate

    return generate(tmp_path_factory.mktemp("small") / "feed", size="small", seed=5)


def _feeds(small_sample):
    yield from ((name, read_feed(EXAMPLES / name / "feed")) for name in FEEDS)
    yield "small sample", read_feed(small_sample)


def _groups(n_accounts: int, how: str) -> list[np.ndarray]:
    codes = np.arange(n_accounts)
    if how == "halves":
        return [codes[: n_accounts // 2], codes[n_accounts // 2:]]
    if how == "every third":
        return [codes[g::3] for g in range(3)]
    rng = np.random.default_rng(7)
    label = rng.integers(0, 4, n_accounts)
    return [codes[label == g] for g in range(4)]


def _assert_same_totals(a, b) -> None:
    for field in a.__dataclass_fields__:
        left, right = getattr(a, field), getattr(b, field)
        assert left.shape == right.shape, field
        assert np.array_equal(left, right), field  # bit for bit, not approximately


def test_changes_of_account_groups_add_up_to_the_whole_feed(small_sample):
    for name, feed in _feeds(small_sample):
        parties = Parties.of(feed)
        tenures = build_tenures(feed, parties)
        last = int(feed_months(feed)[-1])
        whole = walk(feed, parties, tenures, last)
        for how in ("halves", "every third", "random"):
            parts = [walk(feed, parties, tenures, last, accounts=g) for g in _groups(len(parties.accounts), how)]
            merged = merge(parts)
            _assert_same_totals(totals(whole), totals(merged))
            pd.testing.assert_frame_equal(merged.cdsc, whole.cdsc, check_exact=True)
            assert merged.omnibus_first == whole.omnibus_first, (name, how)
            assert np.array_equal(merged.walked, whole.walked), (name, how)
            for records in ("lots", "free", "omnibus", "next_seq"):  # the positions at the end, to the bit
                assert np.array_equal(getattr(merged.positions, records), getattr(whole.positions, records)), (
                    name, how, records)


def test_a_group_walks_only_its_own_accounts(small_sample):
    feed = read_feed(small_sample)
    parties = Parties.of(feed)
    tenures = build_tenures(feed, parties)
    group = np.arange(0, len(parties.accounts), 5)
    part = walk(feed, parties, tenures, int(feed_months(feed)[-1]), accounts=group)
    assert set(part.walked.tolist()) <= set(group.tolist())
    assert set(part.lots["account"].tolist()) <= set(group.tolist())


@pytest.mark.parametrize("name", FEEDS)
def test_partitioned_calculation_writes_the_same_six_files(name):
    feed = read_feed(EXAMPLES / name / "feed")
    whole, whole_state = compute(feed)
    parted, parted_state = compute(feed, partitions=3)
    assert not differences(after_month(whole, pd.Timestamp.min), after_month(parted, pd.Timestamp.min))
    assert not state_differences(whole_state, parted_state)
