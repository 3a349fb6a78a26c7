"""Frames to column values and back, by the column types of the store's tables.

Writing (:func:`to_columns`): money becomes integer cents, rounded half away
from zero on the decimal value of each float (as ``calc.report`` rounds its
output), dates become dates, text never NULL (``''``).  Reading
(:func:`from_columns`): cents become float dollars (``cents / 100``, the same
float as the two-decimal text parses to), dates ``datetime64``, integers
``int64``, text ``str`` -- the dtypes ``calc.report.read_csv`` gives.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import sqlalchemy as sa

from calc.store.models import is_money, value_columns

CENTS_PER_DOLLAR = 100
# A float times 100 is trusted to round correctly unless it lies this close to a
# half cent, or is so large that its binary error could reach that far.
HALF_CENT_WINDOW = 1e-3
EXACT_FLOAT_CENTS_LIMIT = 1e12
# The dtype of a result date column as calc.report.read_csv gives it ...
DATE_DTYPE = pd.to_datetime(pd.Series(["2000-01-01"])).dtype
# ... and of a feed date column as the calc.feed contract says.
FEED_DATE_DTYPE = np.dtype("datetime64[ns]")


def to_cents(values: pd.Series | np.ndarray | list) -> pd.Series:
    """Dollars (floats) to integer cents, half away from zero on each float's decimal value.

    Missing values stay missing (nullable ``Int64``).  Infinite values raise ``ValueError``.
    """
    x = np.asarray(pd.to_numeric(pd.Series(values, dtype=object), errors="raise"), dtype=float)
    if np.isinf(x).any():
        raise ValueError("money amounts must be finite")
    finite = ~np.isnan(x)
    scaled = x * CENTS_PER_DOLLAR
    magnitude = np.abs(scaled)
    cents = np.where(finite, np.sign(scaled) * np.floor(magnitude + 0.5), 0.0)
    doubtful = finite & (
        (np.abs(magnitude - np.floor(magnitude) - 0.5) < HALF_CENT_WINDOW)
        | (magnitude >= EXACT_FLOAT_CENTS_LIMIT)
    )
    exact = cents.astype(np.int64)
    for i in np.flatnonzero(doubtful):
        exact[i] = int(
            Decimal(repr(float(x[i]))).scaleb(2).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        )
    return pd.Series(pd.array(exact, dtype="Int64")).mask(~finite)


def from_cents(values: pd.Series) -> pd.Series:
    """Integer cents to float dollars (NULL to NaN)."""
    return pd.to_numeric(values, errors="coerce").astype("float64") / CENTS_PER_DOLLAR


def _dates(values: pd.Series, dtype: np.dtype = DATE_DTYPE) -> pd.Series:
    return pd.to_datetime(values.replace("", None) if values.dtype == object else values).astype(
        dtype
    )


def to_columns(table: sa.Table, frame: pd.DataFrame | None) -> pd.DataFrame:
    """The value columns of ``table`` from ``frame`` (a frame of calc.report or calc.feed).

    A missing column is NULL when the table allows it; a missing NOT NULL column
    raises ``ValueError``.  ``None`` is an empty frame.
    """
    frame = pd.DataFrame() if frame is None else frame.reset_index(drop=True)
    out: dict[str, pd.Series] = {}
    for name in value_columns(table):
        column = table.c[name]
        if name in frame.columns:
            values = frame[name]
        elif column.nullable or isinstance(column.type, sa.String) or len(frame) == 0:
            values = pd.Series([None] * len(frame), dtype=object)
        else:
            raise ValueError(f"{table.name}: the frame has no column {name!r}")
        out[name] = _to_column(column, values)
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _to_column(column: sa.Column, values: pd.Series) -> pd.Series:
    kind = column.type
    if is_money(column):
        return to_cents(values)
    if isinstance(kind, sa.Date):
        return _dates(values)
    if isinstance(kind, sa.Float):
        return pd.to_numeric(values, errors="raise").astype("float64")
    if isinstance(kind, sa.Boolean):
        return values.astype(bool)
    if isinstance(kind, sa.Integer):
        return pd.to_numeric(values, errors="raise").astype("Int64")
    if isinstance(kind, sa.String):
        return values.astype(object).where(values.notna(), "").astype(str)
    raise TypeError(f"no conversion for column {column.name} of type {kind}")  # pragma: no cover


def from_columns(
    table: sa.Table,
    frame: pd.DataFrame,
    columns: list[str] | None = None,
    date_dtype: np.dtype = DATE_DTYPE,
) -> pd.DataFrame:
    """A frame read from ``table`` back to calc's dtypes (money in dollars, dates ``date_dtype``)."""
    columns = columns or value_columns(table)
    out: dict[str, pd.Series] = {}
    for name in columns:
        column = table.c[name]
        values = (
            frame[name] if name in frame.columns else pd.Series([None] * len(frame), dtype=object)
        )
        out[name] = _from_column(column, values.reset_index(drop=True), date_dtype)
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _from_column(column: sa.Column, values: pd.Series, date_dtype: np.dtype) -> pd.Series:
    kind = column.type
    if is_money(column):
        return from_cents(values)
    if isinstance(kind, sa.Date):
        return _dates(values, date_dtype)
    if isinstance(kind, sa.DateTime):
        return pd.to_datetime(values)
    if isinstance(kind, sa.Float):
        return pd.to_numeric(values, errors="coerce").astype("float64")
    if isinstance(kind, sa.Boolean):
        return values.astype(bool)
    if isinstance(kind, sa.Integer):
        numbers = pd.to_numeric(values, errors="coerce")
        return numbers.astype("int64") if numbers.notna().all() else numbers.astype("float64")
    if isinstance(kind, sa.String):
        return values.astype(object).where(values.notna(), "").astype(str)
    raise TypeError(f"no conversion for column {column.name} of type {kind}")  # pragma: no cover
