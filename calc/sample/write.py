"""Writing the feed's CSV files: small tables through pandas, the big ones through Arrow.

Numbers are written plainly with a fixed number of decimals (Arrow decimals,
never exponents); dates are ISO; empty optional cells are empty.
"""

from __future__ import annotations

import csv
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


# The columns a typed Parquet feed carries as dates and as numbers (the others are text),
# as calc.feed reads them typed (calc.feed.checks: DATE_COLUMNS, NUMBER_COLUMNS).
TYPED_DATES = ("date", "start_date", "end_date", "issue_date")
TYPED_NUMBERS = ("distribution_fee_rate", "service_fee_rate", "conversion_years", "nav", "shares", "price",
                 "fee_fraction", "cdsc_fraction", "purchase_price", "amount")


def typed_parquet(csv_folder: str | Path, out: str | Path) -> Path:
    """The CSV feed in ``csv_folder`` written into ``out`` as Parquet with natural column
    types: dates as dates, numbers as doubles (an empty cell missing), the rest text as
    written (so is a date or number column with a cell that is none).  ``read_feed`` of ``out`` gives the same Feed as of ``csv_folder``."""
    src, out = Path(csv_folder), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    import pyarrow.parquet as pq

    for path in sorted(src.glob("*.csv")):
        with path.open(encoding="utf-8") as handle:
            names = next(csv.reader(handle), [])
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False))
        columns = []
        for name, column in zip(table.column_names, table.columns, strict=True):
            if name in TYPED_DATES or name in TYPED_NUMBERS:
                cells = pc.if_else(pc.equal(pc.utf8_trim_whitespace(column), ""), None, column)
                try:
                    column = pc.cast(cells, pa.date32() if name in TYPED_DATES else pa.float64())
                except pa.ArrowInvalid:
                    pass  # a cell that is no date or number (the feed's to check): the column stays text
            columns.append(column)
        pq.write_table(pa.table(columns, names=table.column_names), out / f"{path.stem}.parquet")
        (out / path.name).unlink(missing_ok=True)
    return out
