"""The feed's model (RULES.md section 2): the normalised tables and the problems of a rejected feed.

``calc.feed.read_feed`` returns a :class:`Feed` of normalised frames; a feed that
breaks any rule raises :class:`FeedError` carrying every problem found.

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

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from calc.vocabulary import (  # noqa: F401  (re-exported: the feed's words)
    DEFAULT_CDSC_SCHEDULE,
    DEFAULT_CONVERSION_YEARS,
    DEFAULT_DISTRIBUTION_FEE_RATE,
    DEFAULT_SERVICE_FEE_RATE,
    EXCHANGE_KINDS,
    EXCHANGE_VALUE_TOLERANCE,
    FRACTION_TOLERANCE,
    FREE_SHARE_KINDS,
    PLAN_EVENT_KINDS,
    SHARE_TOLERANCE,
    TRANSACTION_KINDS,
)

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
# The tables of reference data: whole in every feed, also in a continuation (calc.engine.state).
REFERENCE_TABLES = ("portfolios", "tenures", "accounts", "assignments", "offsets", "plan_events")

MAX_PROBLEMS = 50


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


class AccountCodes:
    """Each transaction's position in the account ids in text order (``names``, Arrow large
    strings; -1: no account), as the validator found them: the engine's account codes,
    found once.  Good only for the frames they were found in (``of``), and handed on once
    (:meth:`take`): held, they would be 44 MB more through the money tables, where a large
    run peaks."""

    def __init__(self, names: Any, codes: np.ndarray, transactions: pd.DataFrame | None = None,
                 accounts: pd.DataFrame | None = None):
        self.names, self.codes = names, codes  # codes: int32, one per transaction
        self.transactions, self.accounts = transactions, accounts

    def of(self, feed: Feed) -> AccountCodes:
        """These codes, bound to ``feed``'s transactions and accounts (the very frames)."""
        return AccountCodes(self.names, self.codes, feed.transactions, feed.accounts)

    def take(self, feed: Feed, names: Any) -> np.ndarray | None:
        """The codes (int64) when found for ``feed``'s very transactions and accounts and in
        ``names``, let go of here; None otherwise, or when already taken."""
        if self.codes is None or self.transactions is not feed.transactions or self.accounts is not feed.accounts:
            return None
        if len(self.codes) != len(feed.transactions) or len(names) != len(self.names):
            return None
        if not names.equals(self.names):
            return None
        codes = self.codes.astype(np.int64)
        self.codes = self.names = None
        return codes


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
    opening_month_end: pd.Timestamp | None = None  # a continuation: the state's month end
    # the rows of ``accounts`` in account_id text order (a stable sort), when the validator
    # sorted them (None: in that order already, or not known): the engine's account codes
    account_order: np.ndarray | None = field(default=None, compare=False, repr=False)
    # each transaction's account code as the validator found it (see ``known_account_codes``)
    account_codes: AccountCodes | None = field(default=None, compare=False, repr=False)

    def known_account_codes(self, names: Any) -> np.ndarray | None:
        """Each transaction's position in ``names`` (the account ids in text order, Arrow
        large strings; -1: none) as the validator found it, when it found them for these
        very transactions and accounts and in these names, the first time they are asked
        for; None otherwise (look them up)."""
        return None if self.account_codes is None else self.account_codes.take(self, names)

    def months(self) -> pd.DatetimeIndex:
        """The feed's month ends: from the earliest to the latest transaction or NAV date
        (RULES.md section 6); a continuation's start the month after its opening state."""
        dates = pd.concat([self.transactions["date"], self.nav["date"]])
        if dates.empty:
            return pd.DatetimeIndex([])
        first = dates.min() + pd.offsets.MonthEnd(0)
        if self.opening_month_end is not None:
            first = self.opening_month_end + pd.offsets.MonthEnd(1)
        last = dates.max() + pd.offsets.MonthEnd(0)
        return pd.date_range(first, last, freq="ME")


@dataclass(frozen=True)
class Opening:
    """What checking a continuation needs of the month-end state it continues from
    (``calc.engine.state.MonthEndState.opening``): its month end, every account's
    holding of each portfolio then, and each portfolio's latest NAV date."""

    month_end: pd.Timestamp
    holdings: pd.DataFrame  # account_id, portfolio_id, shares
    last_nav: pd.DataFrame  # portfolio_id, date

