"""The month-end state: a calculation continued from the state of any month end equals, row
for row and to the cent, those months of one run over everything (issue 7, section 1)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from feedkit import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statekit import after_month, continued, differences, split, state_differences
from strategies import feeds

from calc.engine.state import (
    FILE_SUFFIX,
    FORMAT_VERSION,
    MANIFEST,
    STATE_COLUMNS,
    StateError,
    load_state,
    save_state,
    state_files,
    state_from_files,
)
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
            [f"{n}.arrow" for n in STATE_COLUMNS] + ["manifest.json"])


@pytest.mark.parametrize("version", sorted(FILE_SUFFIX))
def test_state_files_round_trip_to_the_bit(example_feeds, version):
    _, state = compute(example_feeds["random-1095"])
    files = state_files(state, version=version)
    assert sorted(files) == sorted([f"{n}{FILE_SUFFIX[version]}" for n in STATE_COLUMNS] + [MANIFEST])
    again = state_from_files(files)
    assert not state_differences(state, again)


def _frames_identical(a, b) -> None:
    """The same frames to the bit, dtypes included (not only equal values)."""
    assert (a.month_end, a.reference_checksum, a.feed_checksum) == (b.month_end, b.reference_checksum, b.feed_checksum)
    for name in STATE_COLUMNS:
        left, right = getattr(a, name), getattr(b, name)
        pd.testing.assert_frame_equal(left, right, check_exact=True)
        for column in left.columns:
            if left[column].dtype == float:
                assert np.array_equal(left[column].to_numpy().view(np.int64), right[column].to_numpy().view(np.int64))


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_a_state_of_format_1_reads_as_the_same_state_of_format_2(example_feeds, name, tmp_path):
    """A state saved as Parquet files (format 1, every state saved before format 2) reads back as
    the same frames, dtypes and bits as the same state saved as Arrow IPC files (format 2)."""
    feed = example_feeds[name]
    for end in (_month_ends(feed)[0], _month_ends(feed)[len(_month_ends(feed)) // 2], None):
        if end is None:
            _, state = compute(feed)
        else:
            _, state = compute(split(feed, end)[0], through=end)
        old = load_state(save_state(state, tmp_path / "v1", version=1))
        new = load_state(save_state(state, tmp_path / "v2"))
        assert sorted(p.suffix for p in (tmp_path / "v1").iterdir()) == [".json"] + [".parquet"] * len(STATE_COLUMNS)
        assert json.loads((tmp_path / "v2" / MANIFEST).read_text())["format_version"] == FORMAT_VERSION == 2
        _frames_identical(old, new)
        assert not state_differences(state, new)
        _frames_identical(new, state_from_files(state_files(state, version=2)))
        _frames_identical(old, state_from_files(state_files(state, version=1)))


def test_a_state_of_an_unknown_format_is_refused(example_feeds, tmp_path):
    _, state = compute(example_feeds["hand"])
    folder = save_state(state, tmp_path / "state")
    manifest = json.loads((folder / MANIFEST).read_text())
    (folder / MANIFEST).write_text(json.dumps({**manifest, "format_version": 3}))
    with pytest.raises(StateError, match="format 3"):
        load_state(folder)
    with pytest.raises(ValueError, match="no state format 3"):
        save_state(state, tmp_path / "other", version=3)
    (folder / MANIFEST).write_text(json.dumps(manifest))
    (folder / "lots.arrow").unlink()
    with pytest.raises(StateError, match="incomplete: lots.arrow is missing"):
        load_state(folder)


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


def _canonical_by_pandas(frame: pd.DataFrame, columns: list[str]) -> str:
    """How the reference checksum's text was made before it was made in plain Python."""
    from calc.vocabulary import format_cdsc_schedule

    frame = frame[columns].copy()
    for c in columns:
        if pd.api.types.is_datetime64_any_dtype(frame[c]):
            frame[c] = frame[c].dt.strftime("%Y-%m-%d").fillna("")
        elif c == "cdsc_schedule":
            frame[c] = [format_cdsc_schedule(v) for v in frame[c]]
        else:
            frame[c] = frame[c].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else repr(v))
    return frame.sort_values(columns, kind="stable").to_csv(index=False)


def test_the_reference_checksum_text_is_what_pandas_made(example_feeds):
    """The text digested by ``reference_checksum`` is, byte for byte, what pandas made of the same
    tables (so the checksum of every state saved before still fits its feed)."""
    from calc.engine.state import _canonical

    tables = {"portfolios": ["portfolio_id", "distribution_fee_rate", "service_fee_rate", "cdsc_schedule",
                             "conversion_years"],
              "tenures": ["portfolio_id", "distributor", "start_date", "end_date", "rights_holder"],
              "assignments": ["assignment_id", "assignee", "rights_holder", "portfolio_id", "start_date", "end_date",
                              "fee_fraction", "cdsc_fraction"],
              "offsets": ["date", "rights_holder", "portfolio_id", "amount"],
              "plan_events": ["portfolio_id", "date", "kind"]}
    for feed in example_feeds.values():
        for name, columns in tables.items():
            frame = getattr(feed, name)
            assert _canonical(frame, columns) == _canonical_by_pandas(frame, columns), name
    odd = pd.DataFrame({
        "text": pd.Series(["b,c", 'say "x"', "line\nbreak", None, "Zürich", "a", "O'Brien", "", " x "], dtype="str"),
        "number": [0.1, np.nan, 1e-20, 2.5, -0.0, 3.0, 1e16, 0.3, 7.0],
        "count": [3, 1, 2, 2, 2, 0, -5, 9, 1],
        "day": pd.to_datetime(["2020-01-31", None, "1999-12-31", "2020-01-31", "2020-02-29", None, "2012-12-31",
                               "2000-01-01", "2001-01-01"]),
        "mixed": pd.Series(["x", 1, None, 2.5, np.nan, "y", "z", True, "w"], dtype=object),
    })
    assert _canonical(odd, list(odd.columns)) == _canonical_by_pandas(odd, list(odd.columns))
    assert _canonical(odd.iloc[:0], list(odd.columns)) == _canonical_by_pandas(odd.iloc[:0], list(odd.columns))
