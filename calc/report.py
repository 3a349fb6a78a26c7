"""The Monthly Calculation as six tables (RULES.md sections 7 and 8).

:class:`MonthlyCalculation` holds the six frames of section 8 with the columns
below.  Money columns hold amounts already rounded to the cent (floats whose
decimal value is exact to the cent); shares and fractions are unrounded.
``write_csv`` applies the output rounding of section 8.
"""

from __future__ import annotations

import functools
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SUMMARY_COLUMNS = [
    "month_end", "portfolio_id", "average_net_assets", "distribution_fee", "service_fee",
    "cdsc", "cdsc_waived", "shares_outstanding", "due_date",
]
ALLOCATION_COLUMNS = [
    "month_end", "portfolio_id", "rights_holder", "commission_shares", "free_shares",
    "omnibus_free_shares", "attributed_shares", "share",
]
PAYMENTS_COLUMNS = [
    "month_end", "portfolio_id", "party", "role", "distribution_fee", "cdsc", "service_fee",
    "offset", "payable", "due_date",
]
OMNIBUS_COLUMNS = [
    "month_end", "portfolio_id", "account_id", "rights_holder", "issued", "redeemed",
    "net_exchange", "free_shares",
]
CDSC_COLUMNS = [
    "txn_id", "date", "portfolio_id", "account_id", "issue_date", "shares", "year_held", "rate",
    "base", "cdsc", "waived", "rights_holder",
]
EXCEPTIONS_COLUMNS = ["month_end", "portfolio_id", "account_id", "code", "detail"]

# Beyond the six files: what the drill-downs and the scenarios need.
OMNIBUS_ACCOUNT_COLUMNS = [
    "month_end", "portfolio_id", "account_id", "issued", "redeemed", "net_exchange",
    "free_shares", "commission_shares",
]  # per omnibus account and portfolio: I, R, E, F(m), K(m) of Exhibit A 2(c)
OMNIBUS_HOLDER_EXTRA = ["commission_shares"]  # K_h(m), beside F_h(m) in ``omnibus``
LOT_COLUMNS = ["month_end", "portfolio_id", "rights_holder", "issue_year", "commission_shares", "cost",
               "anniversary_shares", "anniversary_cost"]
# ``anniversary_*``: the part of the year's Commission Shares (and cost) issued in a month up to the
# month end's own: its anniversary of issue in the month end's year has passed (FOURTH (D)).

COLUMNS = {
    "summary": SUMMARY_COLUMNS,
    "allocation": ALLOCATION_COLUMNS,
    "payments": PAYMENTS_COLUMNS,
    "omnibus": OMNIBUS_COLUMNS,
    "cdsc": CDSC_COLUMNS,
    "exceptions": EXCEPTIONS_COLUMNS,
}

MONEY_COLUMNS = {
    "summary": ["average_net_assets", "distribution_fee", "service_fee", "cdsc", "cdsc_waived"],
    "payments": ["distribution_fee", "cdsc", "service_fee", "offset", "payable"],
    "cdsc": ["base", "cdsc", "waived"],
}
SHARE_COLUMNS = {
    "summary": ["shares_outstanding"],
    "allocation": ["commission_shares", "free_shares", "omnibus_free_shares", "attributed_shares"],
    "omnibus": ["issued", "redeemed", "net_exchange", "free_shares"],
    "cdsc": ["shares"],
}
FRACTION_COLUMNS = {"allocation": ["share"], "cdsc": ["rate"]}
DATE_COLUMNS = {
    "summary": ["month_end", "due_date"],
    "allocation": ["month_end"],
    "payments": ["month_end", "due_date"],
    "omnibus": ["month_end"],
    "cdsc": ["date", "issue_date"],
    "exceptions": ["month_end"],
}

TABLE_NAMES = tuple(COLUMNS)


@dataclass(frozen=True)
class MonthlyCalculation:
    """The six tables of a Monthly Calculation (RULES.md section 8)."""

    summary: pd.DataFrame
    allocation: pd.DataFrame
    payments: pd.DataFrame
    omnibus: pd.DataFrame
    cdsc: pd.DataFrame
    exceptions: pd.DataFrame
    omnibus_accounts: pd.DataFrame | None = None
    lots: pd.DataFrame | None = None
    # per Commission lot part redeemed: cost and value (shares x price) unrounded, for
    # revaluing CDSCs (calc.scenarios.montecarlo); not stored, not written
    cdsc_values: pd.DataFrame | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLE_NAMES}


def _fixed_bytes(units, places, offsets, data):
    """Each integer of ``units`` (hundredths for 2 ``places``...) written as a decimal with
    ``places`` decimals, e.g. -5 -> ``-0.05``: lengths into ``offsets`` (``data`` empty),
    or the text into ``data``."""
    digits = np.zeros(24, np.uint8)
    at = 0
    for i in range(len(units)):
        u = units[i]
        negative = u < 0
        m = -u if negative else u
        n = 0
        while m > 0 or n <= places:  # at least one digit before the point
            digits[n] = 48 + m % 10
            m //= 10
            n += 1
        length = n + (1 if places > 0 else 0) + (1 if negative else 0)
        if len(data) == 0:
            offsets[i + 1] = offsets[i] + length
            continue
        at = offsets[i]
        if negative:
            data[at] = 45  # '-'
            at += 1
        for k in range(n - 1, -1, -1):
            data[at] = digits[k]
            at += 1
            if k == places and places > 0:
                data[at] = 46  # '.'
                at += 1


@functools.cache
def _compiled_fixed_bytes():
    """``_fixed_bytes`` compiled on first use: numba loads only when a table is written,
    not wherever the tables' columns are looked up (every dashboard page)."""
    from numba import njit

    return njit(cache=True)(_fixed_bytes)


def fixed_text(values, places: int) -> pa.Array:
    """Half away from zero to ``places`` decimals, as text; never '-0'.

    Money reaches here already rounded to the cent on exact decimals
    (``calc.money``), so this float rounding only trims representation error.
    The text is what Python's ``"%.{places}f" % rounded`` writes: the digits of
    the rounded integer of units, with the point put in (compiled); a number too
    large for that (or not finite) is written by Python itself.
    """
    v = np.asarray(values, dtype=float)
    scale = 10.0**places
    units = np.sign(v) * np.floor(np.abs(v) * scale + 0.5)
    exact = np.isfinite(units) & (np.abs(units) < 2.0**52)
    whole = np.where(exact, units, 0.0).astype(np.int64)
    offsets = np.zeros(len(v) + 1, dtype=np.int32)
    kernel = _compiled_fixed_bytes()
    kernel(whole, places, offsets, np.zeros(0, np.uint8))
    data = np.zeros(int(offsets[-1]), dtype=np.uint8)
    kernel(whole, places, offsets, data)
    text = pa.StringArray.from_buffers(len(v), pa.py_buffer(offsets), pa.py_buffer(data))
    if exact.all():
        return text
    rounded = np.where(units == 0.0, 0.0, units / scale)
    others = np.flatnonzero(~exact)
    python = pa.array([f"%.{places}f" % x for x in rounded[others].tolist()], pa.string())
    return pc.replace_with_mask(text, pa.array(~exact), python)


def _formatted(name: str, frame: pd.DataFrame) -> dict[str, pa.Array]:
    """The formatted columns of a table (dates, money, shares, fractions) as Arrow text."""
    out = {}
    for col in DATE_COLUMNS.get(name, []):
        days = pd.to_datetime(frame[col]).to_numpy(dtype="datetime64[D]")
        out[col] = pc.cast(pa.array(days, type=pa.date32(), from_pandas=True), pa.string()).fill_null("")
    for places, columns in ((2, MONEY_COLUMNS), (6, SHARE_COLUMNS), (12, FRACTION_COLUMNS)):
        for col in columns.get(name, []):
            out[col] = fixed_text(frame[col], places)
    return out


def format_table(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The table as the text written to its CSV file (section 8 rounding)."""
    out = frame[COLUMNS[name]].copy()
    for col, text in _formatted(name, out).items():
        out[col] = pd.Series(text.to_pandas().array, index=out.index, dtype="str")
    return out


_SPECIAL = r'[,"\r\n]'  # a field holding one of these is quoted (csv.QUOTE_MINIMAL)


def _csv_field(values: pd.Series | pa.Array) -> pa.Array:
    """A column as CSV fields, as pandas' ``to_csv`` writes it: text as it is, missing
    values empty, a field with a comma, quote or line break in quotes (quotes doubled)."""
    if isinstance(values, pd.Series):
        if pd.api.types.is_integer_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            return pc.cast(pa.array(values.to_numpy()), pa.string())
        if isinstance(values.dtype, pd.StringDtype):
            values = pa.array(values.array)
        else:
            values = pa.array(values.astype(object).where(values.notna(), None), type=pa.string(), from_pandas=True)
    text = pc.cast(values, pa.string()).fill_null("")
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    special = pc.match_substring_regex(text, _SPECIAL)
    if not pc.any(special).as_py():
        return text
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(special, quoted, text)


def _csv_bytes(columns: list[str], fields: list[pa.Array]) -> bytes:
    """The CSV text of a table: header, then one line per row, each ending in a newline."""
    header = ",".join(f'"{c}"' if any(ch in c for ch in ',"\r\n') else c for c in columns) + "\n"
    if not fields or len(fields[0]) == 0:
        return header.encode()
    last = pc.binary_join_element_wise(fields[-1], pa.scalar("\n"), "")  # the line's end on its last field
    body = pc.binary_join_element_wise(*fields[:-1], last, ",") if len(fields) > 1 else last
    _, offsets, data = body.buffers()
    width = np.int64 if body.type == pa.large_string() else np.int32
    start, end = np.frombuffer(offsets, dtype=width)[[body.offset, body.offset + len(body)]]
    return b"".join([header.encode(), memoryview(data)[int(start):int(end)]])


def csv_text(name: str, frame: pd.DataFrame) -> bytes:
    """The CSV file of a table, as bytes: the same as
    ``format_table(name, frame).to_csv(index=False, lineterminator="\\n")``, made in Arrow.
    Dates and numbers written here need no quotes; the other columns are quoted as needed."""
    formatted = _formatted(name, frame)
    fields = [formatted[c] if c in formatted else _csv_field(frame[c]) for c in COLUMNS[name]]
    return _csv_bytes(COLUMNS[name], fields)


def write_csv(calc: MonthlyCalculation, out_dir: str | Path) -> list[Path]:
    """Write the six CSV files of section 8 into ``out_dir`` (created if needed).

    The files are written beside it first and moved in only when all six are
    complete, so a failure leaves nothing half-written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".writing-") as tmp:
        staged = []
        for name, frame in calc.tables().items():
            path = Path(tmp) / f"{name}.csv"
            path.write_bytes(csv_text(name, frame))
            staged.append(path)
        written = []
        for path in staged:
            target = out_dir / path.name
            os.replace(path, target)
            written.append(target)
    return written


def read_csv(folder: str | Path) -> MonthlyCalculation:
    """Read the six CSV files of a Monthly Calculation back (dates parsed, numbers as floats)."""
    folder = Path(folder)
    frames = {}
    for name in TABLE_NAMES:
        frame = pd.read_csv(folder / f"{name}.csv", dtype={"account_id": str, "detail": str}, keep_default_na=False)
        for col in DATE_COLUMNS.get(name, []):
            frame[col] = pd.to_datetime(frame[col].replace("", None))
        for col in MONEY_COLUMNS.get(name, []) + SHARE_COLUMNS.get(name, []) + FRACTION_COLUMNS.get(name, []):
            frame[col] = pd.to_numeric(frame[col])
        frames[name] = frame
    return MonthlyCalculation(**frames)


def empty_table(name: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS[name]})


__all__ = ["COLUMNS", "MonthlyCalculation", "TABLE_NAMES", "csv_text", "empty_table", "fixed_text", "format_table",
           "read_csv", "write_csv"]
