"""Writing the feed's CSV files: small tables through pandas, the big ones through Arrow.

Numbers are written plainly with a fixed number of decimals (Arrow decimals,
never exponents); dates are ISO; empty optional cells are empty.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

_OPTIONS = pacsv.WriteOptions(include_header=False, quoting_style="none")


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n")


def decimals(values: np.ndarray, places: int, precision: int = 18) -> pa.Array:
    """Values as Arrow decimals with ``places`` decimals (rounded half away from zero first)."""
    return pc.cast(pa.array(np.round(np.asarray(values, dtype=np.float64), places)), pa.decimal128(precision, places))


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded numbers, e.g. T000000123."""
    text = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), text, "")


def dates(epoch_days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Epoch-day numbers as dates; ``mask`` True = empty."""
    return pa.array(np.asarray(epoch_days, dtype=np.int32), type=pa.date32(), mask=mask)


def pick(names: list[str] | np.ndarray, codes: np.ndarray, empty: str | None = None) -> pa.Array:
    """``names[codes]`` as text; entries equal to ``empty`` are written as empty cells."""
    values = pc.take(pa.array(list(names), pa.string()), pa.array(np.asarray(codes, dtype=np.int64)))
    if empty is not None:
        values = pc.if_else(pc.equal(values, empty), pa.scalar(None, pa.string()), values)
    return values


class TableWriter:
    """A CSV file written in batches: the header once, then each batch."""

    def __init__(self, path: Path, columns: list[str]):
        self.path = path
        self.columns = columns
        self.handle = path.open("wb")
        self.handle.write((",".join(columns) + "\n").encode())
        self.rows = 0

    def write(self, arrays: list[pa.Array]) -> None:
        table = pa.table(arrays, names=self.columns)
        pacsv.write_csv(table, self.handle, _OPTIONS)
        self.rows += table.num_rows

    def close(self) -> None:
        self.handle.close()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
