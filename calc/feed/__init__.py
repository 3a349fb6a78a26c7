"""The feed (RULES.md section 2): transfer-agent records as a folder of tables.

- :mod:`calc.feed.model`: the normalised :class:`Feed`, :class:`Problem`,
  :class:`FeedError`, and the :class:`Opening` a continuation is checked against;
- :mod:`calc.feed.read`: a folder of CSV or Parquet tables read as text, its checksum;
- :mod:`calc.feed.checks`: every rule of section 2, and the normalisation.

``read_feed`` reads a folder, validates it and returns a :class:`Feed` of
normalised frames.  A feed that breaks any rule raises :class:`FeedError`
carrying every problem found.

The normalised columns, the contract every other module relies on, are listed
in :mod:`calc.feed.model`.
"""

from __future__ import annotations

from pathlib import Path

from calc.feed.model import (
    DEFAULT_CDSC_SCHEDULE,
    DEFAULT_CONVERSION_YEARS,
    DEFAULT_DISTRIBUTION_FEE_RATE,
    DEFAULT_SERVICE_FEE_RATE,
    EXCHANGE_KINDS,
    EXCHANGE_VALUE_TOLERANCE,
    FRACTION_TOLERANCE,
    FREE_SHARE_KINDS,
    MAX_PROBLEMS,
    OPTIONAL_TABLES,
    PLAN_EVENT_KINDS,
    REFERENCE_TABLES,
    SHARE_TOLERANCE,
    TABLES,
    TRANSACTION_KINDS,
    AccountCodes,
    Feed,
    FeedError,
    Opening,
    Problem,
)
from calc.feed.read import feed_checksum, read_raw_tables

__all__ = [
    "AccountCodes",
    "DEFAULT_CDSC_SCHEDULE",
    "DEFAULT_CONVERSION_YEARS",
    "DEFAULT_DISTRIBUTION_FEE_RATE",
    "DEFAULT_SERVICE_FEE_RATE",
    "EXCHANGE_KINDS",
    "EXCHANGE_VALUE_TOLERANCE",
    "FRACTION_TOLERANCE",
    "FREE_SHARE_KINDS",
    "MAX_PROBLEMS",
    "OPTIONAL_TABLES",
    "PLAN_EVENT_KINDS",
    "REFERENCE_TABLES",
    "SHARE_TOLERANCE",
    "TABLES",
    "TRANSACTION_KINDS",
    "Feed",
    "FeedError",
    "Opening",
    "Problem",
    "feed_checksum",
    "read_feed",
    "read_raw_tables",
    "validate",
]


def read_feed(folder: str | Path, opening: Opening | None = None) -> Feed:
    """Read, validate and normalise the feed in ``folder`` (RULES.md section 2).

    With ``opening``, the feed continues a month-end state: its transactions and
    NAVs come after the state's month end (``calc.engine.state``).
    """
    from calc.feed.checks import validate

    folder = Path(folder)
    feed = validate(read_raw_tables(folder), consume=True, opening=opening)
    return Feed(
        **{name: getattr(feed, name) for name in TABLES},
        source=str(folder),
        checksum=feed_checksum(folder),
        opening_month_end=feed.opening_month_end,
        account_order=feed.account_order,
        account_codes=feed.account_codes,
    )


def __getattr__(name: str) -> object:
    # ``validate`` (and numba with it) is loaded on first use: reading a stored Feed, as the
    # dashboard does, needs only the model.
    if name == "validate":
        from calc.feed.checks import validate

        return validate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
