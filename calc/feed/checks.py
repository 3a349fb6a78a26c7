"""The rules a feed must keep (RULES.md section 2), and its normalisation.

``validate`` takes the feed's tables as text (every column ``str``, as read)
and either returns the normalised :class:`calc.feed.model.Feed` or raises
:class:`calc.feed.FeedError` with every problem found (up to ``MAX_PROBLEMS``).

It works in three passes:

1. **Values** (one row at a time): required columns, required values, dates,
   numbers, ranges, known codes and references to known portfolios and
   accounts.  Each rule is a vectorised test of a column or of the table's rows,
   run on every row, so every failing cell is reported, not just the first
   (``_failures``: what a lazy pandera schema reported, without pandera).
2. **Rows together** (vectorised pandas): unique ids, one NAV per portfolio
   and day, tenures (overlaps, gaps, coverage), assignment fractions in effect,
   exchange pairs, holdings never below zero, offsets and plan events inside
   the feed's months.  A check that combines rows runs only when the columns
   it combines were all readable in pass 1, so one bad cell does not cause a
   cascade of follow-on problems.
3. **Normalisation** into the frames described in ``calc.feed``.

Values are compared after stripping surrounding whitespace; unknown columns are
ignored; ``issue_date`` on kinds other than ``purchase``, ``waiver`` on kinds
other than ``redeem`` and ``exchange_id`` on kinds other than the exchange legs
are ignored, whatever they hold.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pyarrow
import pyarrow.compute as pc
from numba import njit

from calc import vocabulary as V
from calc.arrays import (
    arrow_text,
    increasing,
    longest_bytes_and_nul,
    may_need_strip,
    sorted_codes,
    stable_order,
)
from calc.feed import model as F

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "portfolios": ("portfolio_id", "name", "fund", "schedule"),
    "tenures": ("portfolio_id", "distributor", "start_date"),
    "accounts": ("account_id", "omnibus"),
    "nav": ("portfolio_id", "date", "nav", "shares"),
    "transactions": ("txn_id", "date", "portfolio_id", "account_id", "kind", "shares", "price"),
    "assignments": (
        "assignment_id",
        "assignee",
        "rights_holder",
        "start_date",
        "fee_fraction",
        "cdsc_fraction",
    ),
    "offsets": ("date", "rights_holder", "portfolio_id", "amount"),
    "plan_events": ("portfolio_id", "date", "kind"),
}
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "portfolios": (
        "distribution_fee_rate",
        "service_fee_rate",
        "cdsc_schedule",
        "conversion_years",
    ),
    "tenures": ("end_date", "rights_holder"),
    "accounts": ("holder",),
    "nav": (),
    "transactions": ("issue_date", "exchange_id", "waiver"),
    "assignments": ("portfolio_id", "end_date", "purchase_price"),
    "offsets": (),
    "plan_events": (),
}
# The normalised frames' columns, in order (the contract of calc/feed.py).
CONTRACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "portfolios": REQUIRED_COLUMNS["portfolios"] + OPTIONAL_COLUMNS["portfolios"],
    "tenures": REQUIRED_COLUMNS["tenures"] + OPTIONAL_COLUMNS["tenures"],
    "accounts": REQUIRED_COLUMNS["accounts"] + OPTIONAL_COLUMNS["accounts"],
    "nav": REQUIRED_COLUMNS["nav"],
    "transactions": REQUIRED_COLUMNS["transactions"] + OPTIONAL_COLUMNS["transactions"] + ("line",),
    "assignments": (
        "assignment_id",
        "assignee",
        "rights_holder",
        "portfolio_id",
        "start_date",
        "end_date",
        "fee_fraction",
        "cdsc_fraction",
        "purchase_price",
    ),
    "offsets": REQUIRED_COLUMNS["offsets"],
    "plan_events": REQUIRED_COLUMNS["plan_events"],
}
DATE_COLUMNS = frozenset({"date", "start_date", "end_date"})  # issue_date: see _parse
NUMBER_COLUMNS = frozenset(
    {"distribution_fee_rate", "service_fee_rate", "conversion_years", "nav", "shares", "price",
     "fee_fraction", "cdsc_fraction", "purchase_price", "amount"}
)  # fmt: skip
PORTFOLIO_REFERENCES = ("tenures", "nav", "transactions", "assignments", "offsets", "plan_events")
# Descriptive columns that must be present but may be left empty.
FREE_TEXT_COLUMNS = frozenset({("portfolios", "name"), ("portfolios", "fund")})

BOOLEAN_WORDS = ("true", "false")
# ISO date in ASCII digits (``\\d`` would take any script's, as ``２０２０``); a Parquet
# timestamp at midnight reads as "YYYY-MM-DD 00:00:00".
DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T]00:00:00)?"
FIRST_DAY, LAST_DAY = pd.Timestamp(V.EARLIEST_DATE), pd.Timestamp(V.LATEST_DATE)
OPEN_END_COLUMNS = frozenset({"end_date"})  # where OPEN_END_DATE means open
DAY_UNIT = "datetime64[us]"  # wide enough for any year 1-9999, unlike nanoseconds
ONE_DAY = pd.Timedelta(days=1)
SMALL_TABLE_CELLS = 50_000  # up to this many cells, a table is stripped in one numpy pass
FLOAT_SLACK = 1e-9  # relative slack for float products compared with a tolerance

Problems = list[tuple[str, F.Problem]]  # (table, problem): the table orders the report


# --------------------------------------------------------------------------- text helpers


def _text_frame(frame: pd.DataFrame | None) -> pd.DataFrame:
    """The table as stripped text, indexed by row position (line = index + 2); a typed
    date or number column (a Parquet table's) stays typed.

    Rows with every value empty (blank lines) are dropped; the others keep
    their position, so line numbers stay those of the file.  Of two columns
    with the same name, the first counts.
    """
    if frame is None or len(frame.columns) == 0:
        return pd.DataFrame(index=pd.RangeIndex(0 if frame is None else len(frame)))
    names = pd.Index([str(c).replace("\ufeff", "").strip() for c in frame.columns])
    keep = ~names.duplicated()
    frame = frame.iloc[:, keep]
    names = names[keep]
    typed = [_is_typed(name, frame.iloc[:, i]) for i, name in enumerate(names)]
    text_at = [i for i, t in enumerate(typed) if not t]
    columns: dict[str, pd.Series] = {}
    if frame.size <= SMALL_TABLE_CELLS and text_at:  # one numpy pass: fewer pandas calls
        # element by element: a fixed-width numpy text array would be as wide as the
        # longest cell in every cell (one long cell, gigabytes)
        cells = frame.iloc[:, text_at].to_numpy(dtype=object)
        missing = pd.isna(cells)
        values = np.array([str(v).strip() for v in cells.ravel()], dtype=object).reshape(cells.shape)
        values[missing] = ""
        for j, i in enumerate(text_at):
            columns[names[i]] = pd.Series(values[:, j], dtype=str)
    for i, name in enumerate(names):
        s = frame.iloc[:, i]
        if typed[i]:
            columns[name] = s.reset_index(drop=True)
        elif name not in columns:  # column by column: the strings stay in Arrow
            columns[name] = _stripped(s)
    text = pd.DataFrame({name: columns[name] for name in names})
    text.index = pd.RangeIndex(len(frame))
    filled = np.logical_or.reduce([~_empty(text[c]).to_numpy() for c in text.columns]) if len(names) else None
    return text if filled is None or filled.all() else text[filled]


def _cell_problems(table: str, file: str, frame: pd.DataFrame | None) -> Problems:
    """Pass 0, before any value is read: at most MAX_COLUMNS columns, no value longer than
    MAX_CELL_CHARS characters, no NUL character (a database cannot store it in text)."""
    if frame is None or len(frame.columns) == 0:
        return []
    if len(frame.columns) > V.MAX_COLUMNS:
        rule = f"the table has {len(frame.columns):,} columns; a table may have at most {V.MAX_COLUMNS}"
        return [(table, F.Problem(file, 1, None, rule))]
    out: Problems = []
    for name in frame.columns:
        label = str(name).replace("\x00", "").strip()[:40]
        if len(str(name)) > V.MAX_CELL_CHARS or "\x00" in str(name):
            out.append((table, F.Problem(file, 1, label, _cell_rule("a column name", str(name)))))
    for i, name in enumerate(frame.columns):
        s = frame.iloc[:, i]
        if s.dtype == object:  # a Parquet column of objects: as the text it will be read as
            s = s.astype(str)
        elif not pd.api.types.is_string_dtype(s.dtype):
            continue
        quick = longest_bytes_and_nul(s)  # off Arrow's buffers: no value long, none with a NUL
        if quick is not None and quick[0] <= V.MAX_CELL_CHARS and not quick[1]:
            continue
        long = s.str.len() > V.MAX_CELL_CHARS
        nul = s.str.contains("\x00", regex=False)
        bad = np.flatnonzero((long.fillna(False) | nul.fillna(False)).to_numpy(dtype=bool))
        label = str(name).replace("\x00", "").replace("\ufeff", "").strip()[:40]
        for row in bad[: F.MAX_PROBLEMS]:
            out.append((table, F.Problem(file, int(row) + 2, label, _cell_rule(label, s.iloc[row]))))
    return out


def _cell_rule(what: str, value: str) -> str:
    if len(value) > V.MAX_CELL_CHARS:
        return f"{what} must be at most {V.MAX_CELL_CHARS:,} characters long (got {len(value):,} characters)"
    return f"{what} must not contain a NUL character"


def _is_typed(name: str, s: pd.Series) -> bool:
    """A date column of dates or timestamps, or a number column of numbers (not text)."""
    if name in DATE_COLUMNS or name == "issue_date":
        return pd.api.types.is_datetime64_any_dtype(s.dtype)
    if name in NUMBER_COLUMNS:
        return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
    return False


def _empty(s: pd.Series) -> pd.Series:
    """True where a cell is empty: empty text, or a missing typed value."""
    if pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
        return s == ""
    return s.isna()


def _stripped(s: pd.Series) -> pd.Series:
    """A column as stripped text (missing values empty)."""
    if s.dtype != "str":
        s = s.astype(object).where(s.notna(), "").astype(str)
    elif not may_need_strip(s):  # no value begins or ends with whitespace: as it is
        return s.reset_index(drop=True)
    elif s.hasnans:
        s = s.fillna("")
    return s.str.strip().reset_index(drop=True)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """The text column ``name``, or empty strings when the table lacks it."""
    if name in frame.columns:
        return frame[name]
    return pd.Series("", index=frame.index, dtype=str)


def _is_date(s: pd.Series) -> pd.Series:
    """True where the text is a real calendar date written YYYY-MM-DD (a typed date: at
    midnight), whatever its year."""
    return _calendar_days(s).notna()


def _calendar_days(s: pd.Series) -> pd.Series:
    """Dates as ``datetime64[us]`` at midnight, any year from 1 to 9999; NaT where empty
    or not a date (a typed timestamp not at midnight, or with a time zone, is not a date)."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if getattr(s.dtype, "tz", None) is not None:
            return pd.Series(pd.NaT, index=s.index, dtype=DAY_UNIT)
        days = s.astype(DAY_UNIT)
        return days.where(days == days.dt.normalize())
    return _per_distinct(s, _parse_date_values)


def _far(s: pd.Series, column: str = "") -> pd.Series:
    """True where a date lies outside EARLIEST_DATE..LATEST_DATE (an open end excepted)."""
    days = _calendar_days(s)
    far = days.notna() & ~days.between(FIRST_DAY, LAST_DAY)
    if column in OPEN_END_COLUMNS:
        far &= ~_is_open_end(s, days)
    return far


def _is_open_end(s: pd.Series, days: pd.Series | None = None) -> pd.Series:
    """True where an end date is written OPEN_END_DATE (open, as an empty one)."""
    days = _calendar_days(s) if days is None else days
    return days == pd.Timestamp(V.OPEN_END_DATE).as_unit("us")


def _parse_dates(s: pd.Series) -> pd.Series:
    """Dates as ``datetime64[ns]`` at midnight; NaT where empty, not a date, or outside
    EARLIEST_DATE..LATEST_DATE (an open end, OPEN_END_DATE, included)."""
    days = _calendar_days(s)
    return days.where(days.between(FIRST_DAY, LAST_DAY)).astype("datetime64[ns]")


def _parse_date_values(s: pd.Series) -> pd.Series:
    shaped = s.str.fullmatch(DATE_PATTERN)
    dates = pd.to_datetime(s.str.slice(0, 10).where(shaped), format="%Y-%m-%d", errors="coerce")
    return dates.astype(DAY_UNIT)


def _parse_numbers(s: pd.Series) -> pd.Series:
    """Finite numbers as float; NaN where empty or not a number (a typed number: where not finite)."""
    if _is_typed("shares", s):
        numbers = s.astype(np.float64)
        return numbers.where(np.isfinite(numbers.to_numpy()))
    return _per_distinct(s, _parse_number_values)


def _parse_number_values(s: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(s, errors="coerce").astype(float)
    return numbers.where(np.isfinite(numbers))


def _per_distinct(s: pd.Series, parse: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``parse`` applied to each distinct text of ``s`` once, spread back to every row.

    A feed repeats the same dates and prices millions of times; parsing the
    distinct values only is several times faster and gives the same result
    (each text reads the same wherever it stands).
    """
    codes, distinct = pd.factorize(s, use_na_sentinel=False)
    values = parse(pd.Series(distinct, dtype=s.dtype)).to_numpy()
    return pd.Series(values[codes], index=s.index)


def _isin(s: pd.Series, values: Iterable[str]) -> pd.Series:
    """``s.isin(values)`` for text, through Arrow: a million ids in seconds, not minutes."""
    if s.empty:
        return pd.Series(False, index=s.index)
    text = arrow_text(s)
    if isinstance(values, pd.Series):  # a text column: its Arrow strings, not Python ones
        value_set = pc.cast(arrow_text(values), text.type)
    else:
        value_set = pyarrow.array(list(values), type=text.type)
    found = pc.is_in(text, value_set=value_set)
    return pd.Series(found.fill_null(False).to_numpy(zero_copy_only=False), index=s.index)


def _mapped(s: pd.Series, mapping: dict) -> pd.Series:
    """``s.map(mapping)`` looking up each distinct value once (NaN where unmapped); text
    against text keys (the kinds' signs) by Arrow's lookup in the few keys."""
    keys = list(mapping)
    if keys and all(type(k) is str for k in keys) and (pd.api.types.is_string_dtype(s.dtype) and s.dtype != object):
        found = pc.index_in(arrow_text(s), value_set=pyarrow.array(keys, type=pyarrow.string()))
        at = found.fill_null(len(keys)).to_numpy(zero_copy_only=False)
        values = np.array([mapping[k] for k in keys] + [np.nan], dtype=float)
        return pd.Series(values[at], index=s.index)
    codes, distinct = pd.factorize(s, use_na_sentinel=False)
    values = pd.Series(distinct).map(mapping).to_numpy(dtype=float)
    return pd.Series(values[codes], index=s.index)


def _labels(s: pd.Series) -> np.ndarray:
    """A label per value of a text column, equal where the values are equal (not in any
    particular order): Arrow's dictionary encoding, without pandas' conversions."""
    text = arrow_text(s)
    if isinstance(text, pyarrow.ChunkedArray):
        text = text.combine_chunks()
    return pc.dictionary_encode(text, null_encoding="encode").indices.to_numpy(zero_copy_only=False).astype(np.int64)


def _cdsc_entries(s: pd.Series) -> pd.Series:
    """Each schedule entry as a number (NaN when not one), indexed by its row."""
    parts = s.str.split(V.CDSC_SCHEDULE_SEPARATOR).explode()
    return _parse_numbers(parts.str.strip())


# --------------------------------------------------------------------------- pass 1: values


@dataclass(frozen=True)
class _Rule:
    """A check of one value (``row=False``: the test gets the column) or of one
    row (``row=True``: the test gets the frame); ``column`` is the cell reported."""

    column: str
    message: str
    test: Callable[[pd.Series | pd.DataFrame], pd.Series]
    row: bool = False
    needs: tuple[str, ...] = ()


def _required(col: str) -> _Rule:
    # a row rule: pandera leaves a typed column's missing values out of its column checks
    return _Rule(col, f"{col} must not be empty", lambda df: ~_empty(df[col]), row=True, needs=(col,))


# The rules below get ``v``, the table's typed values (``_parse``): each column is
# read once, and a rule compares the text ``s`` with what it reads as.


def _date(col: str, v: pd.DataFrame) -> _Rule:
    # a date outside the years allowed, or an open end, is a date: judged by _date_in_range
    def test(s: pd.Series) -> pd.Series:
        return _empty(s) | v[col].notna() | _is_date(s)

    return _Rule(col, f"{col} must be a date written YYYY-MM-DD", test)


def _dates(col: str, v: pd.DataFrame) -> tuple[_Rule, _Rule]:
    """A date column's rules: a date, in the years allowed."""
    return _date(col, v), _date_in_range(col)


def _date_in_range(col: str) -> _Rule:
    words = f"{col} must lie between {V.EARLIEST_DATE} and {V.LATEST_DATE}"
    if col in OPEN_END_COLUMNS:
        words += f" (or be empty or {V.OPEN_END_DATE} for an open end)"
    return _Rule(col, words, lambda s: ~_far(s, col))


def _number(col: str, v: pd.DataFrame) -> _Rule:
    return _Rule(col, f"{col} must be a number", lambda s: _empty(s) | v[col].notna())


def _positive(col: str, v: pd.DataFrame) -> _Rule:
    return _Rule(col, f"{col} must be greater than zero", lambda s: ~(v[col] <= 0))


def _not_negative(col: str, v: pd.DataFrame) -> _Rule:
    return _Rule(col, f"{col} must be zero or more", lambda s: ~(v[col] < 0))


def _at_most(col: str, v: pd.DataFrame, limit: float) -> _Rule:
    return _Rule(col, f"{col} must be at most {limit:,.0f}", lambda s: ~(v[col] > limit))


def _between(col: str, v: pd.DataFrame, low: float, high: float) -> _Rule:
    return _Rule(col, f"{col} must be between {low:,.0f} and {high:,.0f}",
                 lambda s: ~((v[col] < low) | (v[col] > high)))


def _fraction(col: str, v: pd.DataFrame) -> _Rule:
    return _Rule(col, f"{col} must be between 0 and 1", lambda s: ~((v[col] < 0) | (v[col] > 1)))


def _one_of(col: str, values: Iterable[str], words: str) -> _Rule:
    allowed = tuple(values)
    return _Rule(col, f"{col} must be {words}", lambda s: (s == "") | s.isin(allowed))


def _known(col: str, ids: set[str], what: str) -> _Rule:
    return _Rule(col, f"{col} must name {what}", lambda s: (s == "") | _isin(s, ids))


def _boolean(col: str) -> _Rule:
    return _Rule(
        col, f"{col} must be true or false", lambda s: (s == "") | s.str.lower().isin(BOOLEAN_WORDS)
    )


def _cdsc_schedule(col: str) -> _Rule:
    def test(s: pd.Series) -> pd.Series:
        fine = _cdsc_entries(s).between(0, V.CDSC_PERCENT_MAX).groupby(level=0).all()
        return (s == "") | fine.reindex(s.index, fill_value=True)

    return _Rule(
        col,
        f"{col} must be percents from 0 to 100 separated by semicolons (e.g. 5;4;3;3;2;1)",
        test,
    )


def _whole_years(col: str, v: pd.DataFrame) -> _Rule:
    def test(s: pd.Series) -> pd.Series:
        return _empty(s) | ((v[col] > 0) & (v[col] == np.floor(v[col])))

    return _Rule(col, f"{col} must be a positive whole number of years (e.g. 8)", test)


def _end_after_start(v: pd.DataFrame) -> _Rule:
    def test(df: pd.DataFrame) -> pd.Series:
        return ~(v["end_date"] < v["start_date"])

    return _Rule(
        "end_date",
        "end_date must not be before start_date",
        test,
        row=True,
        needs=("start_date", "end_date"),
    )


def _purchase_issue_date_is_date() -> _Rule:
    def test(df: pd.DataFrame) -> pd.Series:
        return (df["kind"] != V.PURCHASE) | _empty(df["issue_date"]) | _is_date(df["issue_date"])

    message = "a purchase's issue_date must be a date written YYYY-MM-DD"
    return _Rule("issue_date", message, test, row=True, needs=("kind", "issue_date"))


def _purchase_issue_date_is_its_date(v: pd.DataFrame) -> _Rule:
    def test(df: pd.DataFrame) -> pd.Series:  # any year: 9999-12-31 is no purchase's date
        issued = _calendar_days(df["issue_date"]).where(df["kind"] == V.PURCHASE)
        return issued.isna() | v["date"].isna() | (issued == v["date"].astype(DAY_UNIT))

    message = "a purchase's issue_date, when given, must be the purchase's date"
    return _Rule("issue_date", message, test, row=True, needs=("kind", "issue_date", "date"))


def _exchange_leg_has_id() -> _Rule:
    def test(df: pd.DataFrame) -> pd.Series:
        return ~df["kind"].isin(F.EXCHANGE_KINDS) | (df["exchange_id"] != "")

    message = "an exchange_out or exchange_in must have an exchange_id"
    return _Rule("exchange_id", message, test, row=True, needs=("kind", "exchange_id"))


def _table_rules(table: str, v: pd.DataFrame) -> list[_Rule]:
    """The value rules proper to ``table`` (``v``: its typed values)."""
    if table == "portfolios":
        rates = ("distribution_fee_rate", "service_fee_rate")
        return [
            _one_of("schedule", V.SCHEDULES, "A-1 or A-2"),
            *(rule(c, v) for c in rates for rule in (_number, _fraction)),
            _cdsc_schedule("cdsc_schedule"),
            _whole_years("conversion_years", v),
            _at_most("conversion_years", v, V.MAX_CONVERSION_YEARS),
        ]
    if table == "tenures":
        return [*_dates("start_date", v), *_dates("end_date", v), _end_after_start(v)]
    if table == "accounts":
        return [_boolean("omnibus")]
    if table == "nav":
        return [
            *_dates("date", v),
            _number("nav", v),
            _positive("nav", v),
            _at_most("nav", v, V.MAX_PRICE),
            _number("shares", v),
            _not_negative("shares", v),
            _at_most("shares", v, V.MAX_SHARES),
        ]
    if table == "transactions":
        return [
            *_dates("date", v),
            _one_of("kind", F.TRANSACTION_KINDS, "one of " + ", ".join(F.TRANSACTION_KINDS)),
            *(rule(c, v) for c in ("shares", "price") for rule in (_number, _positive)),
            _at_most("shares", v, V.MAX_SHARES),
            _at_most("price", v, V.MAX_PRICE),
            _purchase_issue_date_is_date(),
            _purchase_issue_date_is_its_date(v),
            _exchange_leg_has_id(),
        ]
    if table == "assignments":
        fractions = ("fee_fraction", "cdsc_fraction")
        return [
            *_dates("start_date", v),
            *_dates("end_date", v),
            _end_after_start(v),
            *(rule(c, v) for c in fractions for rule in (_number, _fraction)),
            _number("purchase_price", v),
            _between("purchase_price", v, 0, V.MAX_AMOUNT),
        ]
    if table == "offsets":
        return [*_dates("date", v), _number("amount", v), _positive("amount", v),
                _at_most("amount", v, V.MAX_AMOUNT)]
    return [*_dates("date", v), _one_of("kind", F.PLAN_EVENT_KINDS, " or ".join(F.PLAN_EVENT_KINDS))]


def _value_rules(
    table: str, v: pd.DataFrame, ids: dict[str, set[str] | None], files: dict[str, str],
    account_rows: pd.Series | None = None,
) -> list[_Rule]:
    """Every value rule of ``table``; ``ids``: the portfolio ids, when known;
    ``account_rows``: each transaction's row in accounts.csv (-1: none), when known."""
    rules = [_required(c) for c in REQUIRED_COLUMNS[table] if (table, c) not in FREE_TEXT_COLUMNS]
    if ids["portfolios"] is not None and table in PORTFOLIO_REFERENCES:
        rules.append(
            _known("portfolio_id", ids["portfolios"], f"a portfolio of {files['portfolios']}")
        )
    if account_rows is not None and table == "transactions":
        rules.append(_Rule("account_id", f"account_id must name an account of {files['accounts']}",
                           lambda s: (s == "") | (account_rows >= 0)))
    return rules + _table_rules(table, v)


FAILURE_COLUMNS = ["schema_context", "column", "check", "check_number", "failure_case", "index"]


def _failures(table: str, rules: list[_Rule], frame: pd.DataFrame) -> pd.DataFrame:
    """Every failing value of ``frame`` under ``rules``, as pandera's lazy validation of
    the table's schema reported them (``failure_cases``: one row per failing cell, the
    rule's index as its ``check``), computed directly with the rules' vectorised tests.

    As pandera did: a required column missing is a ``column_in_dataframe`` case; a
    value rule tests the column's values without its missing ones (a typed column's
    NaN/NaT) and reports each failing value; a row rule runs when the columns it
    needs are all present, a row whose every value is missing passes, and it reports
    each failing row's values, one case per column (the caller keeps its own
    column's), a missing value never; a test that raises is one case without a row,
    ``ExceptionName("first argument")``.  Empty when the frame passes.
    """
    present = set(frame.columns)
    columns = REQUIRED_COLUMNS[table] + OPTIONAL_COLUMNS[table]
    cases: list[pd.DataFrame] = []
    scalars: list[dict] = []
    for c in columns:
        if c not in present and c in REQUIRED_COLUMNS[table]:
            scalars.append({"column": table, "failure_case": c, "index": None,
                            "schema_context": "DataFrameSchema", "check": "column_in_dataframe",
                            "check_number": None})
    numbers: dict[str, int] = {}
    row_number = 0
    all_missing: np.ndarray | None = None
    for key, rule in enumerate(rules):
        if rule.row:
            if not set(rule.needs) <= present:
                continue
            context, number, name = "DataFrameSchema", row_number, table
            row_number += 1
        else:
            if rule.column not in present:
                continue
            context, number, name = "Column", numbers.get(rule.column, 0), rule.column
            numbers[rule.column] = number + 1
        meta = {"schema_context": context, "check": str(key), "check_number": number}
        try:
            if rule.row:
                result = rule.test(frame)
            else:
                s = frame[rule.column]
                if s.hasnans:
                    s = s.dropna()
                result = rule.test(s).reindex(s.index)
        except Exception as err:
            message = f'"{err.args[0]}"' if err.args else ""
            scalars.append({"column": name, "failure_case": f"{type(err).__name__}({message})",
                            "index": None, **meta})
            continue
        checked = frame if rule.row else s
        if isinstance(result, (bool, np.bool_)):
            if not result:
                scalars.append({"column": name, "failure_case": False, "index": None, **meta})
            continue
        if not checked.index.equals(result.index):
            if not result.all():
                scalars.append({"column": name, "failure_case": False, "index": None, **meta})
            continue
        if result.dtype != bool:
            result = result.astype(bool)
        if rule.row:
            if all_missing is None:
                all_missing = frame.isna().all(axis="columns").to_numpy()
            result = result | all_missing
        if result.all():
            continue
        failing = checked[~result.to_numpy()]
        if rule.row:
            found = failing.unstack().reset_index()
            found.columns = ["column", "index", "failure_case"]
        else:
            found = failing.rename("failure_case")
            found.index.name = "index"
            found = found.reset_index().assign(column=name)
        cases.append(found.dropna().assign(**meta)[FAILURE_COLUMNS])
    if scalars:
        cases.append(pd.DataFrame.from_records(scalars))
    if not cases:
        return pd.DataFrame(columns=FAILURE_COLUMNS)
    return pd.concat(cases).reset_index(drop=True).sort_values("schema_context", ascending=False)


def _got(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return f" (got {value})" if str(value) != "" else ""


def _value_problems(table: str, file: str, frame: pd.DataFrame, rules: list[_Rule]) -> Problems:
    """Pass 1 for one table: the failure cases (``_failures``) in the project's words."""
    cases = _failures(table, rules, frame)
    out: Problems = []
    if cases.empty:
        return out
    missing = cases[cases["check"] == "column_in_dataframe"]
    for column in missing["failure_case"]:
        out.append(
            (table, F.Problem(file, 1, str(column), f"the required column {column} is missing"))
        )
    is_rule = cases["check"].astype(str).str.fullmatch(r"\d+").fillna(False).astype(bool)
    ruled = cases[is_rule].copy()
    ruled["rule"] = ruled["check"].astype(int).map(dict(enumerate(rules)))
    # a row rule's failures come once per column: its own column's count; a row rule that
    # raised comes once, at the table's level (no index, the schema's name as its column)
    own = ruled["rule"].map(lambda rule: rule.column) == ruled["column"]
    raised = ruled["index"].isna() & (ruled["schema_context"] == "DataFrameSchema")
    ruled = ruled[own | raised]
    ruled = ruled.drop_duplicates(["check", "index"])
    # a check that could not run at all (no row): say so rather than pass
    for rule, value in zip(
        ruled["rule"][ruled["index"].isna()],
        ruled["failure_case"][ruled["index"].isna()],
        strict=True,
    ):
        out.append(
            (
                table,
                F.Problem(
                    file, None, rule.column, f"{rule.message}: could not be checked ({value})"
                ),
            )
        )
    ruled = ruled.dropna(subset=["index"]).sort_values(["index", "check"], key=_as_int)
    for rule, index, value in zip(
        ruled["rule"], ruled["index"], ruled["failure_case"], strict=True
    ):
        line = int(index) + 2
        out.append((table, F.Problem(file, line, rule.column, rule.message + _got(value))))
    other = cases[
        (cases["check"] != "column_in_dataframe") & ~is_rule
    ]  # anything else
    for check, value in zip(other["check"], other["failure_case"], strict=True):
        out.append((table, F.Problem(file, None, None, f"{check}{_got(value)}")))
    return out


def _as_int(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce")


# --------------------------------------------------------------------------- parsing


def _parse(table: str, text: pd.DataFrame) -> pd.DataFrame:
    """The table with typed columns (NaN/NaT where unreadable) and its source ``_line``."""
    columns = {
        name: _typed(name, _column(text, name))
        for name in REQUIRED_COLUMNS[table] + OPTIONAL_COLUMNS[table]
    }
    if table == "transactions":
        columns["issue_date"] = columns["date"].where(columns["kind"] == V.PURCHASE)
    columns["_line"] = pd.Series(text.index.to_numpy(dtype=np.int64) + 2, index=text.index)
    return pd.DataFrame(columns, index=text.index)


def _typed(name: str, s: pd.Series) -> pd.Series:
    """A text column read as what it holds: dates, numbers or text."""
    if name in DATE_COLUMNS:
        return _parse_dates(s)
    if name in NUMBER_COLUMNS:
        return _parse_numbers(s)
    return s


# --------------------------------------------------------------------------- pass 2: rows together


@dataclass
class _Context:
    """What the row checks share: file names, typed tables, unreadable columns."""

    files: dict[str, str]
    parsed: dict[str, pd.DataFrame]
    bad: set[tuple[str, str]] = field(default_factory=set)
    opening: F.Opening | None = None  # a continuation: the state it continues
    account_rows: np.ndarray | None = None  # each transaction's row in accounts.csv (-1: none)
    sorted_accounts: pyarrow.Array | None = None  # accounts.csv's account ids in text order
    _date_order: np.ndarray | None = field(default=None, repr=False)

    def date_order(self) -> np.ndarray:
        """The transactions' rows in (date, txn_id, line) order (``_date_txn_line_order``),
        found once for the checks that need it."""
        if self._date_order is None:
            self._date_order = _date_txn_line_order(self.parsed["transactions"])
        return self._date_order

    def usable(self, table: str, *columns: str) -> bool:
        """True when every named column of ``table`` was present and readable."""
        return not any((table, c) in self.bad for c in columns)

    def problems(
        self, table: str, rows: pd.DataFrame, column: str, messages: Iterable[str]
    ) -> Problems:
        """One problem per row of ``rows`` (its ``_line``) with its message."""
        file = self.files[table]
        return [
            (table, F.Problem(file, int(line), column, msg))
            for line, msg in zip(rows["_line"], messages, strict=True)
        ]

    def months(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """First day and last day (month end) of the feed's months (a continuation's
        start the day after its state's month end)."""
        dates = pd.concat(
            [self.parsed["transactions"]["date"], self.parsed["nav"]["date"]]
        ).dropna()
        if dates.empty:
            return None
        first = dates.min().replace(day=1)
        if self.opening is not None:
            first = self.opening.month_end + ONE_DAY
        return first, max(dates.max() + pd.offsets.MonthEnd(0), first + pd.offsets.MonthEnd(0))


def _day(ts: pd.Timestamp) -> str:
    """A date as written in the feed (``open`` for no date)."""
    return "open" if pd.isna(ts) else ts.strftime("%Y-%m-%d")


def _amount(x: float) -> str:
    """A number of shares or dollars, with thousands separators and no trailing zeros."""
    return f"{x:,.9f}".rstrip("0").rstrip(".")


def _unique_ids(ctx: _Context) -> Problems:
    """portfolio_id, account_id, txn_id and assignment_id are unique."""
    out: Problems = []
    for table, col in (("portfolios", "portfolio_id"), ("accounts", "account_id"),
                       ("transactions", "txn_id"), ("assignments", "assignment_id")):  # fmt: skip
        if increasing(ctx.parsed[table][col]):  # ids in ascending order (the usual feed) repeat
            continue  # none (an empty one can only come first)
        if table == "accounts" and ctx.sorted_accounts is not None and _repeats_none(ctx.sorted_accounts):
            continue  # sorted once for the transactions' accounts: repeats stand side by side
        df = ctx.parsed[table][[col, "_line"]]
        df = df[df[col] != ""]
        if increasing(df[col]):
            continue
        again = df[df.duplicated(col)]
        if again.empty:
            continue
        first = df.groupby(col)["_line"].transform("min")
        msgs = [
            f"{col} {v} is used more than once (first on line {n})"
            for v, n in zip(again[col], first[again.index], strict=True)
        ]
        out += ctx.problems(table, again, col, msgs)
    return out


def _one_nav_per_day(ctx: _Context) -> Problems:
    """One nav.csv row per portfolio and date."""
    nav = ctx.parsed["nav"].dropna(subset=["date"])
    first = nav.groupby(["portfolio_id", "date"])["_line"].transform("min")
    again = nav[nav.duplicated(["portfolio_id", "date"])]
    msgs = [
        f"portfolio {p} already has a {ctx.files['nav']} row on {_day(d)} (line {n}); one row per portfolio and date"
        for p, d, n in zip(again["portfolio_id"], again["date"], first[again.index], strict=True)
    ]
    return ctx.problems("nav", again, "date", msgs)


def _every_portfolio_has_a_tenure(ctx: _Context) -> Problems:
    """Every portfolio has at least one tenure."""
    if not ctx.usable("tenures", "portfolio_id"):
        return []
    portfolios = ctx.parsed["portfolios"]
    lonely = portfolios[
        (portfolios["portfolio_id"] != "")
        & ~portfolios["portfolio_id"].isin(ctx.parsed["tenures"]["portfolio_id"])
    ]
    msgs = [
        f"portfolio {p} has no tenure in {ctx.files['tenures']}; every portfolio needs at least one"
        for p in lonely["portfolio_id"]
    ]
    return ctx.problems("portfolios", lonely, "portfolio_id", msgs)


def _sorted_tenures(ctx: _Context) -> pd.DataFrame:
    """Tenures by portfolio and start, with the latest end of the tenures before each."""
    tenures = ctx.parsed["tenures"].sort_values(["portfolio_id", "start_date", "end_date", "_line"])
    end = tenures["end_date"].fillna(pd.Timestamp.max)
    tenures["before_end"] = (
        end.groupby(tenures["portfolio_id"]).cummax().groupby(tenures["portfolio_id"]).shift()
    )
    return tenures


def _tenures_chain(ctx: _Context) -> Problems:
    """The tenures of a portfolio neither overlap nor leave a gap."""
    if not ctx.usable("tenures", "portfolio_id", "start_date", "end_date"):
        return []
    t = _sorted_tenures(ctx)
    before = t["before_end"]
    overlap = t[before.notna() & (t["start_date"] <= before)]
    closed = before.where(before < pd.Timestamp.max)
    gap = t[t["start_date"] > closed + ONE_DAY]
    msgs = [
        f"this tenure of portfolio {p} starts on {_day(s)}, {_while_open(b)}; the tenures of a portfolio must not overlap"
        for p, s, b in zip(
            overlap["portfolio_id"], overlap["start_date"], overlap["before_end"], strict=True
        )
    ]
    out = ctx.problems("tenures", overlap, "start_date", msgs)
    msgs = [
        f"this tenure of portfolio {p} starts on {_day(s)} but the one before ends on {_day(b)}; "
        f"the next tenure must start the day after the last ends ({_day(b + ONE_DAY)})"
        for p, s, b in zip(gap["portfolio_id"], gap["start_date"], gap["before_end"], strict=True)
    ]
    return out + ctx.problems("tenures", gap, "start_date", msgs)


def _while_open(before_end: pd.Timestamp) -> str:
    if before_end == pd.Timestamp.max:
        return "while an earlier tenure is still open"
    return f"before an earlier tenure ends ({_day(before_end)})"


def _tenures_cover(ctx: _Context) -> Problems:
    """Every day from a portfolio's first transaction or NAV to the feed's last month end lies in a tenure."""
    needed = (ctx.usable("tenures", "portfolio_id", "start_date", "end_date")
              and ctx.usable("transactions", "portfolio_id", "date") and ctx.usable("nav", "portfolio_id", "date"))  # fmt: skip
    months = ctx.months()
    if not needed or months is None:
        return []
    first_day = _first_days([ctx.parsed[t] for t in ("transactions", "nav")])
    t = ctx.parsed["tenures"].join(first_day, on="portfolio_id", how="inner")
    earliest = t.sort_values(["start_date", "_line"]).drop_duplicates("portfolio_id")
    late = earliest[earliest["start_date"] > earliest["first_day"]]
    msgs = [
        f"portfolio {p} has a transaction or {ctx.files['nav']} row on {_day(d)} but its first tenure starts on {_day(s)}; "
        "every day from then on must lie in a tenure"
        for p, d, s in zip(late["portfolio_id"], late["first_day"], late["start_date"], strict=True)
    ]
    out = ctx.problems("tenures", late, "start_date", msgs)
    t["reach"] = t["end_date"].fillna(pd.Timestamp.max)
    latest = t.sort_values(["reach", "_line"]).drop_duplicates("portfolio_id", keep="last")
    short = latest[latest["reach"] < months[1]]
    msgs = [
        f"the last tenure of portfolio {p} ends on {_day(e)} but the feed runs to {_day(months[1])}; "
        "every day up to the feed's last month end must lie in a tenure"
        for p, e in zip(short["portfolio_id"], short["end_date"], strict=True)
    ]
    return out + ctx.problems("tenures", short, "end_date", msgs)


def _first_days(frames: list[pd.DataFrame]) -> pd.Series:
    """Each portfolio's earliest date in ``frames`` (``first_day``, by portfolio_id in text
    order): ``concat(frames).groupby("portfolio_id")["date"].min()``, each frame's
    ten million rows grouped by Arrow's dictionary codes rather than by their text."""
    parts = []
    for df in frames:
        if df.empty:
            continue
        text = arrow_text(df["portfolio_id"])
        if isinstance(text, pyarrow.ChunkedArray):
            text = text.combine_chunks()
        if text.null_count:
            parts = []
            break
        coded = pc.dictionary_encode(text)
        firsts = df["date"].groupby(coded.indices.to_numpy(zero_copy_only=False)).min()
        names = coded.dictionary.to_pandas().to_numpy(dtype=object)
        parts.append(pd.Series(firsts.to_numpy(), index=names[firsts.index.to_numpy()]))
    if not parts:
        return pd.concat([df[["portfolio_id", "date"]] for df in frames]).groupby("portfolio_id")["date"].min().rename(
            "first_day")
    both = pd.concat(parts)
    return both.groupby(pd.Index(both.index, dtype=frames[0]["portfolio_id"].dtype)).min().rename_axis(
        "portfolio_id").rename("first_day")


def _assignment_rows(ctx: _Context) -> pd.DataFrame:
    """Assignments, one row per portfolio they cover (an all-portfolio one in each)."""
    a = ctx.parsed["assignments"]
    everywhere = a[a["portfolio_id"] == ""].drop(columns="portfolio_id")
    ids = pd.DataFrame({"portfolio_id": ctx.parsed["portfolios"]["portfolio_id"].drop_duplicates()})
    return pd.concat(
        [a[a["portfolio_id"] != ""], everywhere.merge(ids, how="cross")], ignore_index=True
    )


def _assignment_fractions(ctx: _Context) -> Problems:
    """For a rights holder, portfolio and day, the fractions in effect add up to at most 1.

    An event sweep: +fraction on each start, -fraction the day after each end;
    the running sum per rights holder and portfolio is what is in effect from
    that date until the next event.
    """
    if not ctx.usable(
        "assignments", "portfolio_id", "start_date", "end_date", "fee_fraction", "cdsc_fraction"
    ):
        return []
    if ctx.parsed["assignments"].empty:
        return []
    a = _assignment_rows(ctx)
    keys, fractions = ["rights_holder", "portfolio_id"], ["fee_fraction", "cdsc_fraction"]
    ends = a.dropna(subset=["end_date"])
    events = pd.concat(
        [
            a.assign(date=a["start_date"]),
            ends.assign(
                date=ends["end_date"] + ONE_DAY, _line=0, **{c: -ends[c] for c in fractions}
            ),
        ],
        ignore_index=True,
    ).sort_values([*keys, "date"])
    in_effect = events.groupby(keys, sort=False)[fractions].cumsum()
    # report on the line of an assignment starting that day: only a start raises the sum
    events["_line"] = events.groupby([*keys, "date"], sort=False)["_line"].transform("max")
    last_of_day = ~events.duplicated([*keys, "date"], keep="last")
    day, in_effect = events[last_of_day], in_effect[last_of_day]
    same_pair = (day[keys] == day[keys].shift()).all(axis=1)
    out: Problems = []
    for col in fractions:
        over = in_effect[col] > 1 + F.FRACTION_TOLERANCE
        hits = day[over & ~(over.shift(fill_value=False) & same_pair)]
        msgs = [
            f"the {col}s of rights holder {h} in effect in portfolio {p} on {_day(d)} add up to {t:.12g}; they may add up to at most 1"
            for h, p, d, t in zip(
                hits["rights_holder"],
                hits["portfolio_id"],
                hits["date"],
                in_effect.loc[hits.index, col],
                strict=True,
            )
        ]
        out += ctx.problems("assignments", hits, col, msgs)
    return out


def _exchange_legs(ctx: _Context) -> tuple[pd.DataFrame, Problems]:
    """Each exchange_id has exactly one exchange_out and one exchange_in: the pairs, and the problems."""
    tx = ctx.parsed["transactions"]
    legs = tx[tx["kind"].isin(F.EXCHANGE_KINDS) & (tx["exchange_id"] != "")]
    first = legs.groupby(["exchange_id", "kind"])["_line"].transform("min")
    extra = legs[legs.duplicated(["exchange_id", "kind"])]
    msgs = [
        f"exchange {x} has more than one {k} (first on line {n})"
        for x, k, n in zip(extra["exchange_id"], extra["kind"], first[extra.index], strict=True)
    ]
    out = ctx.problems("transactions", extra, "exchange_id", msgs)
    legs = legs.drop(extra.index)
    out_legs = legs[legs["kind"] == V.EXCHANGE_OUT].set_index("exchange_id")
    in_legs = legs[legs["kind"] == V.EXCHANGE_IN].set_index("exchange_id")
    pairs = out_legs.merge(
        in_legs, how="outer", left_index=True, right_index=True, suffixes=("_out", "_in")
    )
    alone = pairs[pairs["_line_out"].isna() | pairs["_line_in"].isna()].reset_index()
    alone["_line"] = alone["_line_out"].fillna(alone["_line_in"])
    msgs = [
        f"exchange {x} has no {'exchange_in' if pd.isna(i) else 'exchange_out'}"
        for x, i in zip(alone["exchange_id"], alone["_line_in"], strict=True)
    ]
    out += ctx.problems("transactions", alone, "exchange_id", msgs)
    return pairs.dropna(subset=["_line_out", "_line_in"]).reset_index(), out


def _exchanges(ctx: _Context) -> Problems:
    """Exchange legs: paired by exchange_id, in order, and of (almost) equal value."""
    if not ctx.usable("transactions", "kind"):
        return []
    if not ctx.parsed["transactions"]["kind"].isin(F.EXCHANGE_KINDS).any():
        return []
    pairs, out = _exchange_legs(ctx)
    pairs["_line"] = pairs["_line_in"]
    if ctx.usable("transactions", "txn_id", "account_id", "date"):
        out += _exchange_pairs(ctx, pairs) + _between_legs(ctx, pairs)
    if ctx.usable("transactions", "shares", "price"):
        out += _exchange_values(ctx, pairs)
    return out


def _exchange_pairs(ctx: _Context, pairs: pd.DataFrame) -> Problems:
    """The legs of an exchange: same account and date, out leg first in txn_id order."""
    out: Problems = []
    for col, what in (("account_id", "account"), ("date", "date")):
        differ = pairs[pairs[f"{col}_out"] != pairs[f"{col}_in"]]
        msgs = [
            f"the exchange_in of exchange {x} has {what} {_text(b)} but its exchange_out (line {int(n)}) has {_text(a)}; both legs must have the same {what}"
            for x, a, b, n in zip(
                differ["exchange_id"],
                differ[f"{col}_out"],
                differ[f"{col}_in"],
                differ["_line_out"],
                strict=True,
            )
        ]
        out += ctx.problems("transactions", differ, col, msgs)
    late = pairs[pairs["txn_id_out"] >= pairs["txn_id_in"]]
    msgs = [
        f"the exchange_out of exchange {x} ({o}, line {int(n)}) must come before its exchange_in in txn_id order (got {i})"
        for x, o, n, i in zip(
            late["exchange_id"],
            late["txn_id_out"],
            late["_line_out"],
            late["txn_id_in"],
            strict=True,
        )
    ]
    return out + ctx.problems("transactions", late, "txn_id", msgs)


def _text(value: object) -> str:
    return _day(value) if isinstance(value, pd.Timestamp) else str(value)


def _between_legs(ctx: _Context, pairs: pd.DataFrame) -> Problems:
    """No other transaction of the account between the two legs, in (date, txn_id) order.

    The accounts with an exchange, their transactions in (account, date, txn_id)
    order: a transaction between the legs stands between them there."""
    tx = ctx.parsed["transactions"]
    good = pairs[(pairs["account_id_out"] == pairs["account_id_in"]) & (pairs["date_out"] == pairs["date_in"])
                 & (pairs["txn_id_out"] < pairs["txn_id_in"])]  # fmt: skip
    if good.empty:
        return []
    account = ctx.account_rows
    if account is None or len(account) != len(tx) or (account < 0).any():
        account = pd.factorize(tx["account_id"])[0]
    at = pd.Index(tx["_line"].to_numpy()).get_indexer
    out_row, in_row = at(good["_line_out"].to_numpy(dtype=np.int64)), at(good["_line_in"].to_numpy(dtype=np.int64))
    exchanging = np.zeros(int(account.max(initial=0)) + 1, dtype=bool)
    exchanging[account[out_row]] = True
    order = ctx.date_order()
    order = order[exchanging[account[order]]]
    order = order[np.argsort(account[order], kind="stable")]
    position = np.full(len(tx), -1, dtype=np.int64)
    position[order] = np.arange(len(order))
    apart = np.flatnonzero(position[in_row] - position[out_row] > 1)
    between = [order[position[out_row[k]] + 1:position[in_row[k]]] for k in apart]
    # the txn_ids of those rows only (not ten million of them as Python strings)
    txn = iter(tx["txn_id"].iloc[np.concatenate(between)].tolist() if between else [])
    rows, found = [], []
    for k, among in zip(apart, between, strict=True):
        pair = good.iloc[k]
        for r in among:
            if pair["txn_id_out"] < next(txn) < pair["txn_id_in"]:
                rows.append(r)
                found.append(k)
    inside = tx.iloc[rows]
    legs = good.iloc[found]
    msgs = [
        f"transaction {t} of account {a} comes between the exchange_out ({o}) and the exchange_in ({i}) of exchange {x}; "
        "no other transaction of the account may come between the two legs"
        for t, a, o, i, x in zip(
            inside["txn_id"],
            inside["account_id"],
            legs["txn_id_out"],
            legs["txn_id_in"],
            legs["exchange_id"],
            strict=True,
        )
    ]
    return ctx.problems("transactions", inside, "txn_id", msgs)


def _exchange_values(ctx: _Context, pairs: pd.DataFrame) -> Problems:
    """The legs' dollar values differ by at most one cent per thousand dollars of the out leg."""
    out_value = pairs["shares_out"] * pairs["price_out"]
    in_value = pairs["shares_in"] * pairs["price_in"]
    limit = out_value * F.EXCHANGE_VALUE_TOLERANCE
    bad = pairs[(in_value - out_value).abs() > limit * (1 + FLOAT_SLACK)]
    msgs = [
        f"the exchange_in of exchange {x} is worth {_amount(i)} dollars (shares x price) against {_amount(o)} for its "
        f"exchange_out (line {int(n)}); they may differ by at most one cent per thousand dollars ({_amount(lim)})"
        for x, i, o, n, lim in zip(
            bad["exchange_id"],
            in_value[bad.index],
            out_value[bad.index],
            bad["_line_out"],
            limit[bad.index],
            strict=True,
        )
    ]
    return ctx.problems("transactions", bad, "shares", msgs)


def _holdings(ctx: _Context) -> Problems:
    """No account ever holds fewer than zero shares of a portfolio (within SHARE_TOLERANCE)."""
    if not ctx.usable("transactions", "kind", "shares", "date", "account_id", "portfolio_id"):
        return []
    cols = ["date", "txn_id", "_line", "kind", "shares", "account_id", "portfolio_id"]
    tx = ctx.parsed["transactions"][cols]
    account = ctx.account_rows
    if ctx.opening is not None and not ctx.opening.holdings.empty:
        held = ctx.opening.holdings
        held = held[held["shares"] > F.SHARE_TOLERANCE]
        held = held[_isin(held["account_id"], tx["account_id"])]  # only the accounts this feed moves
        opening = pd.DataFrame({  # what each account holds at the state's month end, first
            "date": ctx.opening.month_end, "txn_id": "", "_line": 0, "kind": V.PURCHASE,
            "shares": held["shares"].to_numpy(dtype=float),
            "account_id": held["account_id"].to_numpy(dtype=object),
            "portfolio_id": held["portfolio_id"].to_numpy(dtype=object),
        })
        tx = pd.concat([opening, tx], ignore_index=True)
        account = None
    order = ctx.date_order() if account is not None else _date_txn_line_order(tx)
    # labels of accounts and portfolios (any labelling will do: only equality counts)
    if account is None or len(account) != len(tx) or (account < 0).any():
        account = pd.factorize(tx["account_id"])[0]
    portfolio = _labels(tx["portfolio_id"])
    order = order[stable_order(account[order])]  # each account's rows in (date, txn_id) order
    delta = (_mapped(tx["kind"], V.SHARE_SIGN) * tx["shares"]).to_numpy(dtype=float)[order]
    held, entering_at = _running_holdings(account[order].astype(np.int64), portfolio[order].astype(np.int64), delta,
                                          F.SHARE_TOLERANCE, int(portfolio.max(initial=0)) + 1)
    entering = tx.iloc[order[entering_at]]
    msgs = [
        f"this {k} of {_amount(n)} shares leaves account {a} holding {_amount(h)} shares of portfolio {p}; "
        "an account may never hold fewer than zero shares"
        for k, n, a, p, h in zip(
            entering["kind"],
            entering["shares"],
            entering["account_id"],
            entering["portfolio_id"],
            held[entering_at],
            strict=True,
        )
    ]
    return ctx.problems("transactions", entering, "shares", msgs)


def _date_txn_line_order(tx: pd.DataFrame) -> np.ndarray:
    """Row positions in (date, txn_id, _line) order, as ``sort_values`` gives them.

    txn_id sorts by its rank in text order and a missing date sorts last:
    the same order, without sorting ten million rows of text; rows already in
    that order (the usual feed) are not sorted at all.
    """
    dates = tx["date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    dates = np.where(tx["date"].isna().to_numpy(), np.iinfo(np.int64).max, dates)
    lines = tx["_line"].to_numpy()
    if np.all(dates[1:] >= dates[:-1]) and np.all(lines[1:] > lines[:-1]) and increasing(tx["txn_id"]):
        return np.arange(len(tx))
    txn_rank = pd.factorize(tx["txn_id"], sort=True)[0]
    return np.lexsort((lines, txn_rank, dates))


@njit(cache=True)
def _running_holdings(account, portfolio, delta, tolerance, n_portfolios):
    """Each row's holding after it, rows in (account, date, txn_id) order, per account and
    portfolio: a running sum of signed shares that starts again from zero after each
    balance within ``tolerance`` of zero (a balance left that small is gone, RULES.md
    preamble, as in the ledger; the row then holds 0).  Returns the holdings and the
    rows that take a holding below ``-tolerance`` from at or above it.

    The sum is compensated (Kahan) exactly as pandas' grouped ``cumsum`` adds, so a
    holding is the number the vectorised check of before found, to the bit.
    """
    held = np.empty(len(delta))
    entering = np.zeros(len(delta), np.bool_)
    acc = np.zeros(n_portfolios)
    comp = np.zeros(n_portfolios)
    below = np.zeros(n_portfolios, np.bool_)
    seen = np.zeros(n_portfolios, np.bool_)
    touched = np.zeros(n_portfolios, np.int64)
    n_touched = 0
    for i in range(len(delta)):
        if i == 0 or account[i] != account[i - 1]:
            for k in range(n_touched):  # a new account: its portfolios from zero
                q = touched[k]
                acc[q] = 0.0
                comp[q] = 0.0
                below[q] = False
                seen[q] = False
            n_touched = 0
        p = portfolio[i]
        if not seen[p]:
            seen[p] = True
            touched[n_touched] = p
            n_touched += 1
        v = delta[i]
        if v != v:  # not a number: left out of the sum
            held[i] = v
            below[p] = False
            continue
        y = v - comp[p]
        t = acc[p] + y
        comp[p] = t - acc[p] - y
        acc[p] = t
        if abs(t) <= tolerance and t != 0.0:
            held[i] = 0.0
            acc[p] = 0.0
            comp[p] = 0.0
        else:
            held[i] = t
        now = held[i] < -tolerance
        entering[i] = now and not below[p]
        below[p] = now
    return held, np.flatnonzero(entering)


def _inside_feed_months(ctx: _Context) -> Problems:
    """Offsets and plan events fall inside the feed's months."""
    if not (ctx.usable("transactions", "date") and ctx.usable("nav", "date")):
        return []
    months = ctx.months()
    out: Problems = []
    for table in ("offsets", "plan_events"):
        df = ctx.parsed[table].dropna(subset=["date"])
        if ctx.opening is not None:  # earlier ones belong to the months of the state
            df = df[df["date"] > ctx.opening.month_end]
            if months is None:
                continue
        if months is None:
            outside, span = df, "the feed has no transaction or NAV date"
        else:
            outside = df[(df["date"] < months[0]) | (df["date"] > months[1])]
            span = f"the feed's months run from {months[0]:%Y-%m} to {months[1]:%Y-%m}"
        msgs = [
            f"the date {_day(d)} falls outside the feed's months ({span})" for d in outside["date"]
        ]
        out += ctx.problems(table, outside, "date", msgs)
    return out


def _after_opening(ctx: _Context) -> Problems:
    """A continuation holds only what comes after its state's month end, and skips no month.

    Transactions and NAVs dated on or before the state's month end are already in
    the state.  A portfolio priced before the state's month end whose first NAV
    in the continuation falls after the month that follows it has a month
    missing: a NAV is struck every business day.
    """
    if ctx.opening is None:
        return []
    end = ctx.opening.month_end
    out: Problems = []
    why = (f"is dated on or before {_day(end)}, the month end of the state this feed continues; "
           "a continuation holds only transactions and NAVs after it")
    for table in ("transactions", "nav"):
        if not ctx.usable(table, "date"):
            continue
        df = ctx.parsed[table]
        early = df[df["date"] <= end]
        out += ctx.problems(table, early, "date", [f"the date {_day(d)} {why}" for d in early["date"]])
    if ctx.usable("nav", "date", "portfolio_id") and not ctx.opening.last_nav.empty:
        nav = ctx.parsed["nav"]
        nav = nav[nav["date"] > end]
        first = nav.loc[nav.groupby("portfolio_id")["date"].idxmin()] if not nav.empty else nav
        priced = set(ctx.opening.last_nav["portfolio_id"])
        next_month_end = end + pd.offsets.MonthEnd(1)
        late = first[first["portfolio_id"].isin(priced) & (first["date"] > next_month_end)]
        out += ctx.problems("nav", late, "date", [
            f"portfolio {p} has no NAV from {_day(end + ONE_DAY)} to {_day(d - ONE_DAY)}: a month is "
            f"missing between the state ({end:%Y-%m}) and this feed"
            for p, d in zip(late["portfolio_id"], late["date"], strict=True)
        ])
    return out


ROW_CHECKS: tuple[Callable[[_Context], Problems], ...] = (
    _after_opening,
    _unique_ids,
    _one_nav_per_day,
    _every_portfolio_has_a_tenure,
    _tenures_chain,
    _tenures_cover,
    _assignment_fractions,
    _exchanges,
    _holdings,
    _inside_feed_months,
)
# The file a row check that could not run is reported against (its main table).
ROW_CHECK_TABLES: dict[Callable[[_Context], Problems], str] = {
    _after_opening: "transactions", _unique_ids: "transactions", _one_nav_per_day: "nav",
    _every_portfolio_has_a_tenure: "portfolios", _tenures_chain: "tenures", _tenures_cover: "tenures",
    _assignment_fractions: "assignments", _exchanges: "transactions", _holdings: "transactions",
    _inside_feed_months: "offsets",
}  # fmt: skip


def _run_row_check(check: Callable[[_Context], Problems], ctx: _Context) -> Problems:
    """The problems ``check`` finds; a check that raises rejects the feed (docs/feed.md:
    "could not be checked"), never lets it through."""
    try:
        return check(ctx)
    except Exception as err:  # a defect of ours must reject the feed, not pass it or crash
        table = ROW_CHECK_TABLES.get(check, "transactions")
        what = (check.__doc__ or check.__name__).strip().splitlines()[0].rstrip(".")
        rule = f"{what}: could not be checked ({type(err).__name__}: {err})"
        return [(table, F.Problem(ctx.files[table], None, None, rule))]


# --------------------------------------------------------------------------- pass 3: the Feed


def _normalise(parsed: dict[str, pd.DataFrame], account_order: np.ndarray | None = None) -> F.Feed:
    """The contract frames of ``calc.feed`` from the typed tables of a valid feed."""
    frames = {name: df.reset_index(drop=True) for name, df in parsed.items()}
    p = frames["portfolios"]
    p["distribution_fee_rate"] = p["distribution_fee_rate"].fillna(F.DEFAULT_DISTRIBUTION_FEE_RATE)
    p["service_fee_rate"] = p["service_fee_rate"].fillna(F.DEFAULT_SERVICE_FEE_RATE)
    schedule = p["cdsc_schedule"].where(p["cdsc_schedule"] != "", F.DEFAULT_CDSC_SCHEDULE)
    schedules = _cdsc_entries(schedule).groupby(level=0).agg(lambda s: tuple(float(x) for x in s))
    p["cdsc_schedule"] = schedules.reindex(p.index).astype(object)
    years = p["conversion_years"].fillna(F.DEFAULT_CONVERSION_YEARS)
    p["conversion_years"] = years.astype(np.int64)

    t = frames["tenures"]
    t["rights_holder"] = t["rights_holder"].where(t["rights_holder"] != "", t["distributor"])
    frames["tenures"] = t.sort_values(["portfolio_id", "start_date"], kind="stable")

    a = frames["accounts"]
    a["omnibus"] = a["omnibus"].str.lower() == "true"

    x = frames["transactions"]
    legs, redeems = x["kind"].isin(F.EXCHANGE_KINDS), x["kind"] == V.REDEEM
    if ((x["exchange_id"] != "") & ~legs).any():  # ignored on other kinds: emptied
        x["exchange_id"] = x["exchange_id"].where(legs, "")
    if ((x["waiver"] != "") & ~redeems).any():
        x["waiver"] = x["waiver"].where(redeems, "")
    x["line"] = x["_line"]
    tables = {
        name: frames[name][list(CONTRACT_COLUMNS[name])].reset_index(drop=True) for name in F.TABLES
    }
    return F.Feed(**tables, account_order=account_order)


# --------------------------------------------------------------------------- entry point


def _source_names(raw: dict[str, pd.DataFrame], sources: dict[str, str] | None) -> dict[str, str]:
    """Each table's file name: as given, else as read (``attrs['source']``), else NAME.csv."""
    names = {}
    for table in F.TABLES:
        frame = raw.get(table)
        attrs = frame.attrs if frame is not None else {}
        names[table] = (sources or {}).get(table) or attrs.get("source") or f"{table}.csv"
    return names


def _missing_tables(raw: dict[str, pd.DataFrame], files: dict[str, str]) -> Problems:
    """Required tables that were not sent at all."""
    out: Problems = []
    for table in F.TABLES:
        frame = raw.get(table)
        absent = frame is None or (len(frame.columns) == 0 and "source" not in frame.attrs)
        if absent and table not in F.OPTIONAL_TABLES:
            message = f"the required file {files[table]} is missing"
            out.append((table, F.Problem(files[table], None, None, message)))
    return out


def _sorted_ids(ids: pd.Series) -> tuple[np.ndarray | None, pyarrow.Array]:
    """The ids as Arrow strings in text order, with the row of each (None: the column is in
    that order already, the usual feed); a stable sort, so equal ids keep their rows' order."""
    text = arrow_text(ids)
    text = text.combine_chunks() if isinstance(text, pyarrow.ChunkedArray) else text
    if increasing(ids):
        return None, text
    order = pc.sort_indices(text).to_numpy().astype(np.int64)
    return order, text.take(pyarrow.array(order))


def _account_rows(text: dict[str, pd.DataFrame],
                  accounts: tuple[np.ndarray | None, pyarrow.Array] | None = None) -> pd.Series | None:
    """Each transaction's row in accounts.csv (-1 where none; the first row of an id
    given twice), when both columns are there; by a search in the account ids in text
    order (``accounts``: ``_sorted_ids`` of them, made here when not given)."""
    found = _account_codes_and_rows(text, accounts)
    return None if found is None else found[1]


def _account_codes_and_rows(text: dict[str, pd.DataFrame],
                            accounts: tuple[np.ndarray | None, pyarrow.Array] | None = None,
                            ) -> tuple[F.AccountCodes | None, pd.Series] | None:
    """Each transaction's position in the account ids in text order (the engine's account
    codes, as :class:`calc.feed.model.AccountCodes`; None when there are no transactions)
    and its row in accounts.csv (:func:`_account_rows`)."""
    if "account_id" not in text["accounts"].columns or "account_id" not in text["transactions"].columns:
        return None
    tx = text["transactions"]["account_id"]
    if tx.empty:
        return None, pd.Series(np.zeros(0, dtype=np.int64), index=tx.index)
    order, names = _sorted_ids(text["accounts"]["account_id"]) if accounts is None else accounts
    values = arrow_text(tx)
    names = names.cast(pyarrow.large_string())
    found = sorted_codes(values, names)  # the first equal id
    del values
    rows = found.copy() if order is None else np.where(found >= 0, order[np.maximum(found, 0)], -1)
    empty = (tx == "").to_numpy()
    rows[empty] = -1  # an empty account id names no account
    found[empty] = -1
    return F.AccountCodes(names, found.astype(np.int32)), pd.Series(rows, index=tx.index)


def _repeats_none(sorted_ids: pyarrow.Array) -> bool:
    """True when no id other than the empty one stands twice in ids in text order."""
    if len(sorted_ids) < 2:
        return True
    same = pc.equal(sorted_ids.slice(1), sorted_ids.slice(0, len(sorted_ids) - 1))
    return not pc.any(pc.and_(same, pc.not_equal(sorted_ids.slice(1), ""))).as_py()


def _ids(text: pd.DataFrame, column: str) -> set[str] | None:
    return set(text[column]) - {""} if column in text.columns else None


def _report(problems: Problems) -> list[F.Problem]:
    """Problems in file order, then line order, each once."""
    ordered = sorted(problems, key=lambda tp: (F.TABLES.index(tp[0]), tp[1].line or 0))
    return list(dict.fromkeys(p for _, p in ordered))


def validate(
    raw: dict[str, pd.DataFrame],
    sources: dict[str, str] | None = None,
    *,
    consume: bool = False,
    opening: F.Opening | None = None,
) -> F.Feed:
    """Check every rule of RULES.md section 2 and return the normalised Feed.

    ``raw`` maps each table name to its text frame as read (missing optional
    tables as an empty DataFrame); ``sources`` optionally names each table's
    file (``transactions.parquet``...) for the messages.  Raises ``FeedError``
    with every problem found (up to ``MAX_PROBLEMS``).  With ``consume``, each
    table is removed from ``raw`` once its stripped text is made, so the text
    as read (gigabytes for ten million transactions) is not held twice.
    With ``opening``, the feed continues a month-end state: holdings start from
    the state's, and its transactions and NAVs must come after its month end.
    """
    files = _source_names(raw, sources)
    problems = _missing_tables(raw, files)
    oversized = [p for t in F.TABLES for p in _cell_problems(t, files[t], raw.get(t))]
    if oversized:  # nothing more is read of such a feed
        raise F.FeedError(_report(problems + oversized))
    text = {}
    for t in F.TABLES:
        text[t] = _text_frame(raw.pop(t, None) if consume else raw.get(t))
    present = {t for t in F.TABLES if len(text[t].columns) > 0 or t not in F.OPTIONAL_TABLES}
    ids = {"portfolios": _ids(text["portfolios"], "portfolio_id")}
    accounts = _sorted_ids(text["accounts"]["account_id"]) if "account_id" in text["accounts"].columns else None
    found = _account_codes_and_rows(text, accounts)
    account_codes, account_rows = (None, None) if found is None else found
    del found
    ctx = _Context(files, {t: _parse(t, text[t]) for t in F.TABLES}, opening=opening,
                   account_rows=None if account_rows is None else account_rows.to_numpy(),
                   sorted_accounts=None if accounts is None else accounts[1])
    for table in sorted(present - {t for t, _ in problems}, key=F.TABLES.index):
        rules = _value_rules(table, ctx.parsed[table], ids, files, account_rows)
        found = _value_problems(table, files[table], text[table], rules)
        ctx.bad |= {(table, p.column) for _, p in found}
        problems += found
    for table in present:  # a missing column cannot be combined either
        ctx.bad |= {(table, c) for c in REQUIRED_COLUMNS[table] if c not in text[table].columns}
    for check in ROW_CHECKS:
        problems += _run_row_check(check, ctx)
    if problems:
        raise F.FeedError(_report(problems))
    feed = _normalise(ctx.parsed, None if accounts is None else accounts[0])
    if account_codes is not None:  # for these frames only (a Feed made from them by replace() checks)
        feed = dataclasses.replace(feed, account_codes=account_codes.of(feed))
    if opening is None:
        return feed
    return dataclasses.replace(feed, opening_month_end=opening.month_end)
