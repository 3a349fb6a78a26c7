"""Fuzzing the feed (issue 11): mutations of the worked examples' feeds, each run through
``python -m calc monthly`` in this process, must end in a clean rejection (exit 2, every
problem named, nothing written) or in six files of finite numbers; never in a traceback.

The mutations and the checks are ``tests/fuzzkit.py``'s; ``scripts/fuzz-feeds.py``
runs the same with more cases by hand.  Here hypothesis draws a bounded number of them
(``FUZZ_EXAMPLES``, derandomized: the same cases on every run)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from feedkit import example_feed
from fuzzkit import Mutation, apply, mutations, run_case
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
SMALL_EXAMPLES = ("hand", "hand-v3")  # random-1095 is the campaign's: ten times larger


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(name=st.sampled_from(SMALL_EXAMPLES), changes=st.lists(mutations(), min_size=1, max_size=3))
def test_a_mutated_feed_is_rejected_cleanly_or_computed(name: str, changes: list[Mutation]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp) / "feed"
        shutil.copytree(example_feed(name), feed)
        for change in changes:
            note(str(change))
            apply(feed, change)
        ended = run_case(feed, Path(tmp) / "out")
        event(ended)
        event(f"{changes[0].op}: {ended}")
