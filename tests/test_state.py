"""The month-end state: a calculation continued from the state of any month end equals, row
for row and to the cent, those months of one run over everything (issue 7, section 1)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from feedkit import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statekit import after_month, continued, differences, split, state_differences
from strategies import feeds

from calc.engine.state import STATE_COLUMNS, load_state, save_state, state_files, state_from_files
from calc.feed import read_feed, validate
from calc.monthly import compute
from calc.vocabulary import OFFSET_UNAPPLIED

EXAMPLE_NAMES = ["hand", "hand-v3", "random-1095"]


@pytest.fixture(scope="module")
def example_feeds():
    return {name: read_feed(EXAMPLES / name / "feed") for name in EXAMPLE_NAMES}


def _month_ends(feed) -> list[pd.Timestamp]:
    return list(feed.months())


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_closing_every_month_in_turn_equals_the_whole_run(example_feeds, name):
    """Close each month from the state of the month before (a chain of continuations through
    every month end of the feed): each month equals the whole run's, and so does the last state."""
    feed = example_feeds[name]
    whole, whole_state = compute(feed)
    ends = _month_ends(feed)
    first, _ = split(feed, ends[0])
    _, state = compute(first, through=ends[0])
    for prev, end in zip(ends[:-1], ends[1:], strict=True):
        step = dataclasses.replace(
            feed,
            transactions=feed.transactions[(feed.transactions["date"] > prev) & (feed.transactions["date"] <= end)],
            nav=feed.nav[(feed.nav["date"] > prev) & (feed.nav["date"] <= end)],
            offsets=feed.offsets[feed.offsets["date"] <= end],
            plan_events=feed.plan_events[feed.plan_events["date"] <= end],
            opening_month_end=prev,
        )
        calc, state = compute(step, opening=state, through=end)
        month = {k: _upto(k, v, end) for k, v in after_month(whole, prev).items()}
        got = after_month(calc, prev)
        if end != ends[-1]:  # a close reports the claims still unapplied at its own last month end
            exc = got["exceptions"]
            got["exceptions"] = exc[exc["code"] != OFFSET_UNAPPLIED].reset_index(drop=True)
        diff = differences(month, got)
        assert not diff, (end, diff)
    assert not state_differences(whole_state, state)


def _upto(name: str, frame: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    column = "date" if name == "cdsc" else "month_end"
    if frame.empty:
        return frame
    return frame[pd.to_datetime(frame[column]) <= end].reset_index(drop=True)


SPLITS = 12  # month ends a test continues to the end from (the chain above closes every one)


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_continued_to_the_end_equals_the_whole_run(example_feeds, name):
    """Split at month ends spread over the feed (the first, the last but one, and between):
    the rest of the feed continued from the state of the first part, to its end."""
    feed = example_feeds[name]
    whole, whole_state = compute(feed)
    ends = _month_ends(feed)[:-1]
    picks = sorted(set(np.linspace(0, len(ends) - 1, min(SPLITS, len(ends))).round().astype(int)))
    for end in [ends[i] for i in picks]:
        calc, state = continued(feed, end)
        diff = differences(after_month(whole, end), after_month(calc, end))
        assert not diff, (end, diff)
        assert not state_differences(whole_state, state), end


def test_a_state_saved_and_read_back_continues_alike(example_feeds, tmp_path):
    feed = example_feeds["hand"]
    whole, _ = compute(feed)
    for end in (pd.Timestamp("2019-12-31"), pd.Timestamp("2020-02-29"), pd.Timestamp("2020-05-31")):
        folder = tmp_path / f"state-{end:%Y%m}"

        def through_disk(state, folder=folder):
            save_state(state, folder)
            return load_state(folder)

        calc, _ = continued(feed, end, roundtrip=through_disk)
        assert not differences(after_month(whole, end), after_month(calc, end))
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            [f"{n}.parquet" for n in STATE_COLUMNS] + ["manifest.json"])


def test_state_files_round_trip_to_the_bit(example_feeds):
    _, state = compute(example_feeds["random-1095"])
    again = state_from_files(state_files(state))
    assert not state_differences(state, again)


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory) -> Path:
    from calc.sample import generate

    return generate(tmp_path_factory.mktemp("small") / "feed", size="small", seed=11)


def test_small_sample_continued_from_24_month_ends(small_sample):
    feed = read_feed(small_sample)
    whole, whole_state = compute(feed)
    ends = _month_ends(feed)
    step = max(1, (len(ends) - 1) // 24)
    points = ends[:-1][::step]
    assert len(points) >= 24
    for end in points:
        calc, state = continued(feed, end)
        diff = differences(after_month(whole, end), after_month(calc, end))
        assert not diff, (end, diff)
        assert not state_differences(whole_state, state), end


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(raw=feeds(), where=st.floats(min_value=0.0, max_value=1.0))
def test_continued_from_a_random_month_end_equals_the_whole_run(raw, where):
    feed = validate(raw)
    ends = _month_ends(feed)
    if len(ends) < 2:
        return
    end = ends[min(int(where * (len(ends) - 1)), len(ends) - 2)]
    whole, whole_state = compute(feed)
    calc, state = continued(feed, end)
    assert not differences(after_month(whole, end), after_month(calc, end))
    assert not state_differences(whole_state, state)
