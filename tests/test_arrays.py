"""calc.arrays.sorted_codes: the search in sorted names finds what Arrow's hash lookup
finds, for sorted, unsorted and repeated values, text beyond ASCII, missing values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from calc.arrays import sorted_codes

TEXT = st.text(alphabet=st.sampled_from(list("abAZ09 é\u00ff\u4e00\U0001f600")), max_size=4)


def _expected(values: list[str | None], names: pa.Array) -> np.ndarray:
    found = pc.index_in(pa.array(values, type=pa.large_string()), value_set=names)
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT, max_size=30, unique=True), st.lists(TEXT, max_size=30), st.data())
def test_sorted_codes_find_what_a_hash_lookup_finds(pool, others, data):
    names = pa.array(sorted(pool), type=pa.large_string())  # sorted() orders as UTF-8 bytes do
    values = others + (data.draw(st.lists(st.sampled_from(pool), max_size=20)) if pool else [])
    if data.draw(st.booleans()):
        values.sort()
    else:
        values = data.draw(st.permutations(values))
    got = sorted_codes(pd.Series(values, dtype="str"), names)
    assert np.array_equal(got, _expected(values, names))


def test_missing_values_and_chunks():
    names = pa.array(["a", "b", "c"], type=pa.large_string())
    assert sorted_codes(pd.Series(["c", None, "x", "a"], dtype="str"), names).tolist() == [2, -1, -1, 0]
    chunked = pa.chunked_array([["b", "c"], ["a"]], type=pa.string())
    assert sorted_codes(chunked, names).tolist() == [1, 2, 0]
    assert sorted_codes(pd.Series([], dtype="str"), names).tolist() == []
