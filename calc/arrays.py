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
    held = getattr(names, "array", None)  # calc.engine.parties.Names holds its names in Arrow
    table = names if isinstance(names, pa.Array) else held if isinstance(held, pa.Array) else pa.array(
        list(names), type=pa.string())
    return pa.array(table).take(pa.array(np.asarray(codes, dtype=np.int64))).to_pandas()


@njit(cache=True, inline="always")
def _compare(a, a0, a1, b, b0, b1) -> int:
    """-1, 0 or 1: bytes ``a[a0:a1]`` against ``b[b0:b1]`` (UTF-8 byte order is code point
    order, so this is Python's order of the strings)."""
    la, lb = a1 - a0, b1 - b0
    for t in range(min(la, lb)):
        x, y = a[a0 + t], b[b0 + t]
        if x != y:
            return -1 if x < y else 1
    return -1 if la < lb else (1 if la > lb else 0)


@njit(cache=True)
def _positions_in_sorted(v_off, v_data, n_off, n_data):
    # For each value, an exponential then binary search for the first name >= it, from
    # just after where the previous value was found while the values ascend: one pass
    # when both are sorted.  Invariant: every name before ``lo`` is less than the value.
    n, m = len(v_off) - 1, len(n_off) - 1
    out = np.full(n, -1, np.int64)
    lo = 0
    for i in range(n):
        v0, v1 = v_off[i], v_off[i + 1]
        if i > 0:
            c = _compare(v_data, v_off[i - 1], v0, v_data, v0, v1)
            if c == 0:  # the same value again
                out[i] = out[i - 1]
                continue
            if c > 0:  # the values went down: search from the start
                lo = 0
        a = lo
        if a < m:
            c = _compare(n_data, n_off[a], n_off[a + 1], v_data, v0, v1)
            if c < 0:  # beyond names[lo]: gallop, then bisect
                a, step = a + 1, 1
                b = a + 1
                while b <= m and _compare(n_data, n_off[b - 1], n_off[b], v_data, v0, v1) < 0:
                    a = b
                    step *= 2
                    b = a + step
                hi = min(b, m)
                while a < hi:
                    mid = (a + hi) // 2
                    if _compare(n_data, n_off[mid], n_off[mid + 1], v_data, v0, v1) < 0:
                        a = mid + 1
                    else:
                        hi = mid
                c = _compare(n_data, n_off[a], n_off[a + 1], v_data, v0, v1) if a < m else 1
        if a < m and c == 0:
            out[i] = a
            lo = a + 1
        else:
            lo = a
    return out


def string_buffers(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The offsets and bytes of an Arrow string array (no copy)."""
    kind = np.int64 if pa.types.is_large_string(text.type) else np.int32
    offsets = np.frombuffer(text.buffers()[1], dtype=kind)[text.offset:text.offset + len(text) + 1]
    data = text.buffers()[2]
    return offsets, (np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8))


def sorted_codes(values: pd.Series | pa.Array | pa.ChunkedArray, names: pa.Array) -> np.ndarray:
    """Each value's position in ``names`` (-1 if absent), where ``names`` are distinct and
    sorted (``Parties.accounts``).  A search in the sorted names instead of a hash of them:
    a state's or a month's few hundred thousand account ids against a million accounts
    take milliseconds, not the half second of building the hash each time; fastest when
    the values are sorted too (a state's frames).  Many more values than names, not in
    order (a whole feed's ten million transactions): a hash of the names after all, four
    times faster there than a search per value from the start of the names.  Where a
    name stands twice, either way finds the first."""
    text = arrow_text(values) if isinstance(values, pd.Series) else values
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks() if text.num_chunks != 1 else text.chunk(0)
    if len(text) == 0:
        return np.zeros(0, dtype=np.int64)
    if text.null_count or names.null_count or not pa.types.is_string(names.type) and not pa.types.is_large_string(
            names.type):
        found = pc.index_in(text.cast(names.type), value_set=names)
        return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    if len(text) >= HASH_LOOKUP_VALUES and len(text) > len(names) and not _ascending(text):
        found = pc.index_in(text.cast(names.type), value_set=names)  # Arrow: the first occurrence
        return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return _positions_in_sorted(*string_buffers(text), *string_buffers(names))


HASH_LOOKUP_VALUES = 1_000_000  # from this many values (and more than names), unordered ones are hashed


def _ascending(text: pa.Array) -> bool:
    """True when the strings never go down (equal neighbours allowed)."""
    return len(text) < 2 or bool(pc.all(pc.less_equal(text.slice(0, len(text) - 1), text.slice(1))).as_py())


def text_chunks(series: pd.Series) -> list[pa.Array] | None:
    """The Arrow string arrays holding a text column, without a copy; None when pandas does
    not hold it in Arrow (then only a look at each value will do)."""
    if not (isinstance(series.dtype, pd.StringDtype) and hasattr(series.array, "__arrow_array__")):
        return None
    text = series.array.__arrow_array__()
    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    if not all(pa.types.is_string(c.type) or pa.types.is_large_string(c.type) for c in chunks):
        return None
    return chunks


def longest_bytes_and_nul(series: pd.Series) -> tuple[int, bool] | None:
    """The longest value of a text column in UTF-8 bytes (at least its length in characters)
    and whether any value holds a NUL character, read off Arrow's buffers; None when the
    column is not held in Arrow."""
    chunks = text_chunks(series)
    if chunks is None:
        return None
    longest, nul = 0, False
    for chunk in chunks:
        if len(chunk) == 0:
            continue
        offsets, data = string_buffers(chunk)
        longest = max(longest, int(np.diff(offsets).max()))
        used = data[offsets[0]:offsets[-1]]
        nul = nul or (len(used) > 0 and int(used.min()) == 0)
    return longest, nul


def may_need_strip(series: pd.Series) -> bool:
    """False when no value of a text column can change by stripping surrounding whitespace:
    none begins or ends with a byte of an ASCII control or space character or of a non-ASCII
    character (every whitespace character is one of these), read off Arrow's buffers.
    True also when the column is not held in Arrow or has missing values."""
    chunks = text_chunks(series)
    if chunks is None or series.hasnans:
        return True
    for chunk in chunks:
        if len(chunk) == 0:
            continue
        offsets, data = string_buffers(chunk)
        starts, ends = offsets[:-1], offsets[1:]
        filled = ends > starts
        first, last = data[starts[filled]], data[ends[filled] - 1]
        if ((first <= 0x20) | (first >= 0x7F) | (last <= 0x20) | (last >= 0x7F)).any():
            return True
    return False
