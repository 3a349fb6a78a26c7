"""Array helpers shared by the feed's checks and the engine: text columns as Arrow, and
orders made without sorting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit


def arrow_text(series: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A text column as Arrow strings, without a copy when pandas holds it in Arrow already
    (missing values null)."""
    array = series.array
    if isinstance(series.dtype, pd.StringDtype) and hasattr(array, "__arrow_array__"):
        return array.__arrow_array__()
    return pa.array(series.astype(object).where(series.notna(), None).astype(object), type=pa.string(),
                    from_pandas=True)


def increasing(series: pd.Series) -> bool:
    """True when the text strictly increases down the column (so no value repeats and its
    order is text order, as a feed's txn_ids usually are)."""
    text = arrow_text(series)
    if len(text) < 2:
        return True
    return bool(pc.all(pc.less(text.slice(0, len(text) - 1), text.slice(1))).as_py())


@njit(cache=True)
def _counting_order(keys, n_keys):
    starts = np.zeros(n_keys + 1, np.int64)
    for k in keys:
        starts[k + 1] += 1
    for k in range(n_keys):
        starts[k + 1] += starts[k]
    out = np.empty(len(keys), np.int64)
    for i in range(len(keys)):
        k = keys[i]
        out[starts[k]] = i
        starts[k] += 1
    return out


def stable_order(keys: np.ndarray, n_keys: int | None = None) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for small non-negative integer keys (codes), by
    counting: one pass, no comparison sort."""
    keys = np.asarray(keys, dtype=np.int64)
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return _counting_order(keys, int(keys.max()) + 1 if n_keys is None else int(n_keys))


def names_at(names, codes: np.ndarray) -> pd.Series:
    """``names[codes]`` as a text column (pandas' Arrow strings), taken in Arrow: many
    times faster than a column made from an object array of Python strings."""
    table = names if isinstance(names, pa.Array) else pa.array(list(names), type=pa.string())
    return pa.array(table).take(pa.array(np.asarray(codes, dtype=np.int64))).to_pandas()
