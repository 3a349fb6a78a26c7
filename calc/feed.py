"""The feed (RULES.md section 2): transfer-agent records as a folder of tables.

``read_feed`` reads a folder of CSV (or Parquet) files, applies the defaults of
section 2 and returns a :class:`Feed` of normalised frames.  A feed that breaks
any rule raises :class:`FeedError` carrying every problem found.

Normalised columns (the contract every other module relies on):

- ``portfolios``: portfolio_id, name, fund, schedule, distribution_fee_rate,
  service_fee_rate (float), cdsc_schedule (tuple of percents as float),
  conversion_years (int)
- ``tenures``: portfolio_id, distributor, start_date, end_date (NaT = open),
  rights_holder (filled with distributor)
- ``accounts``: account_id, omnibus (bool), holder
- ``nav``: portfolio_id, date, nav, shares (float)
- ``transactions``: txn_id, date, portfolio_id, account_id, kind, shares, price,
  issue_date (NaT unless purchase; a purchase's is its date), exchange_id
  ("" unless an exchange leg), waiver ("" unless redeem), line (source line)
- ``assignments``: assignment_id, assignee, rights_holder, portfolio_id
  ("" = all portfolios), start_date, end_date (NaT = open), fee_fraction,
  cdsc_fraction, purchase_price (float, NaN when absent)
- ``offsets``: date, rights_holder, portfolio_id, amount
- ``plan_events``: portfolio_id, date, kind

Dates are ``datetime64[ns]`` normalised to midnight; ids are ``str``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

TRANSACTION_KINDS = ("purchase", "nav_purchase", "reinvest", "redeem", "exchange_out", "exchange_in")
FREE_SHARE_KINDS = ("reinvest", "nav_purchase")
EXCHANGE_KINDS = ("exchange_out", "exchange_in")
PLAN_EVENT_KINDS = ("complete_termination",)

DEFAULT_DISTRIBUTION_FEE_RATE = 0.0075
DEFAULT_SERVICE_FEE_RATE = 0.0025
DEFAULT_CDSC_SCHEDULE = "5;4;3;3;2;1"
DEFAULT_CONVERSION_YEARS = 8

TABLES = (
    "portfolios",
    "tenures",
    "accounts",
    "nav",
    "transactions",
    "assignments",
    "offsets",
    "plan_events",
)
OPTIONAL_TABLES = ("assignments", "offsets", "plan_events")

MAX_PROBLEMS = 50

SHARE_TOLERANCE = 1e-6  # a share count within this of zero counts as zero (RULES.md preamble)
FRACTION_TOLERANCE = 1e-9  # assignment fractions in effect may add up to 1 + this (section 2)
EXCHANGE_VALUE_TOLERANCE = 0.01 / 1000  # one cent per thousand dollars of the out leg (section 2)


@dataclass(frozen=True)
class Problem:
    """One broken rule: where (file, line, column) and what, in words."""

    file: str
    line: int | None
    column: str | None
    rule: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.rule}"


class FeedError(Exception):
    """A rejected feed: every problem found (up to ``MAX_PROBLEMS``)."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)[:MAX_PROBLEMS]
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Feed:
    """A validated feed, its tables normalised (see the module docstring)."""

    portfolios: pd.DataFrame
    tenures: pd.DataFrame
    accounts: pd.DataFrame
    nav: pd.DataFrame
    transactions: pd.DataFrame
    assignments: pd.DataFrame
    offsets: pd.DataFrame
    plan_events: pd.DataFrame
    source: str = ""
    checksum: str = ""

    def months(self) -> pd.DatetimeIndex:
        """The feed's month ends: from the earliest to the latest transaction or NAV date."""
        dates = pd.concat([self.transactions["date"], self.nav["date"]])
        if dates.empty:
            return pd.DatetimeIndex([])
        first = dates.min() + pd.offsets.MonthEnd(0)
        last = dates.max() + pd.offsets.MonthEnd(0)
        return pd.date_range(first, last, freq="ME")


def _find_table(folder: Path, name: str) -> Path | None:
    csv, parquet = folder / f"{name}.csv", folder / f"{name}.parquet"
    if csv.exists() and parquet.exists():
        raise FeedError([Problem(f"{name}.csv", None, None, f"both {name}.csv and {name}.parquet are present; send only one")])
    if csv.exists():
        return csv
    if parquet.exists():
        return parquet
    return None


def _read_raw(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
            frame = frame.astype(object).where(frame.notna(), "").astype(str)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8", skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    except (ValueError, OSError) as err:  # unreadable: not UTF-8, broken CSV or Parquet
        raise FeedError([Problem(path.name, None, None, f"the file cannot be read: {err}")]) from err
    frame.attrs["source"] = path.name
    return frame


def feed_checksum(folder: Path) -> str:
    """SHA-256 over the feed's table files, in name order."""
    digest = hashlib.sha256()
    for name in TABLES:
        for suffix in (".csv", ".parquet"):
            path = folder / f"{name}{suffix}"
            if path.exists():
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def read_raw_tables(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Every table of the feed as text, as sent (missing optional tables empty)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FeedError([Problem(str(folder), None, None, "the feed folder does not exist")])
    tables: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for name in TABLES:
        tables[name] = pd.DataFrame()
        try:  # a file that cannot be used is reported with the others
            path = _find_table(folder, name)
            if path is not None:
                tables[name] = _read_raw(path)
        except FeedError as err:
            problems += err.problems
            continue
        if path is None and name not in OPTIONAL_TABLES:
            problems.append(Problem(f"{name}.csv", None, None, f"the required file {name}.csv is missing"))
    if problems:
        raise FeedError(problems)
    return tables


def read_feed(folder: str | Path) -> Feed:
    """Read, validate and normalise the feed in ``folder`` (RULES.md section 2)."""
    from calc.feed_rules import validate

    folder = Path(folder)
    feed = validate(read_raw_tables(folder), consume=True)
    return Feed(
        **{name: getattr(feed, name) for name in TABLES},
        source=str(folder),
        checksum=feed_checksum(folder),
    )
