"""The agreement's vocabulary: the one home of every word and tolerance the
calculation compares against (RULES.md sections 1-2, 6; the agreement's
clauses named beside each).

Every other module imports these names; none writes ``"purchase"``,
``"complete_termination"`` or ``1e-6`` itself.
"""

from __future__ import annotations

from collections.abc import Iterable

# --- transaction kinds (RULES.md section 2) ---------------------------------
PURCHASE = "purchase"  # Commission Shares issued at a price (FOURTH (D))
NAV_PURCHASE = "nav_purchase"  # Free Shares sold at net asset value (SECOND (B), Rule 22d-1)
REINVEST = "reinvest"  # Free Shares from reinvested dividends and distributions
REDEEM = "redeem"  # shares redeemed; a waiver code waives the CDSC
EXCHANGE_OUT = "exchange_out"  # the legs of a Free Exchange Transaction (Exhibit A 1)
EXCHANGE_IN = "exchange_in"
TRANSACTION_KINDS = (PURCHASE, NAV_PURCHASE, REINVEST, REDEEM, EXCHANGE_OUT, EXCHANGE_IN)
FREE_SHARE_KINDS = (REINVEST, NAV_PURCHASE)
EXCHANGE_KINDS = (EXCHANGE_OUT, EXCHANGE_IN)
SHARE_SIGN = {PURCHASE: 1, NAV_PURCHASE: 1, REINVEST: 1, EXCHANGE_IN: 1, REDEEM: -1, EXCHANGE_OUT: -1}

# --- plan events (FIFTEENTH (B)) --------------------------------------------
COMPLETE_TERMINATION = "complete_termination"
PLAN_EVENT_KINDS = (COMPLETE_TERMINATION,)

# --- kinds of money (SEVENTH (B), TENTH, FOURTH (D)) -------------------------
DISTRIBUTION_FEE = "distribution_fee"
SERVICE_FEE = "service_fee"
CDSC = "cdsc"
KINDS_OF_MONEY = (DISTRIBUTION_FEE, CDSC, SERVICE_FEE)

# --- roles in payments.csv (RULES.md section 8) ------------------------------
ROLE_RIGHTS_HOLDER = "rights_holder"  # its own Portions
ROLE_ASSIGNEE = "assignee"  # an Assignee's Portions (EIGHTH)
ROLE_DISTRIBUTOR = "distributor"  # the service fee (TENTH)
ROLES = (ROLE_RIGHTS_HOLDER, ROLE_ASSIGNEE, ROLE_DISTRIBUTOR)

# --- exception codes (RULES.md section 8) -----------------------------------
ZERO_DENOMINATOR = "zero_denominator"
NEGATIVE_FREE_SHARES = "negative_free_shares"
OFFSET_UNAPPLIED = "offset_unapplied"

# --- schedules (Schedules) --------------------------------------
SCHEDULES = ("A-1", "A-2")

# --- tolerances (RULES.md preamble and section 2) ----------------------------
SHARE_TOLERANCE = 1e-6  # a share count within this of zero counts as zero
FRACTION_TOLERANCE = 1e-9  # assignment fractions in effect may add up to 1 + this
EXCHANGE_VALUE_TOLERANCE = 0.01 / 1000  # one cent per thousand dollars of the out leg
CENT_REMAINDER_TOLERANCE = 1e-6  # of a cent: float noise never decides a cent (section 6 rounding)

# --- defaults of portfolios.csv (RULES.md section 2) -------------------------
DEFAULT_DISTRIBUTION_FEE_RATE = 0.0075  # SEVENTH (B): 0.75% a year
DEFAULT_SERVICE_FEE_RATE = 0.0025  # TENTH: 0.25% a year
DEFAULT_CDSC_SCHEDULE = "5;4;3;3;2;1"  # FOURTH (D): percent by year held
DEFAULT_CONVERSION_YEARS = 8
CDSC_PERCENT_MAX = 100.0
CDSC_SCHEDULE_SEPARATOR = ";"


def parse_cdsc_schedule(text: str) -> tuple[float, ...]:
    """``"5;4;3;3;2;1"`` -> (5.0, 4.0, ...): percent by year held (empty entries skipped).

    Raises ``ValueError`` on an entry that is not a number.
    """
    return tuple(float(x) for x in text.split(CDSC_SCHEDULE_SEPARATOR) if x.strip() != "")


def format_cdsc_schedule(percents: Iterable[float]) -> str:
    """(5.0, 4.0, ...) -> ``"5.0;4.0;..."``: each entry as the shortest text that reads back
    as the same float, so that ``parse_cdsc_schedule`` returns exactly ``percents``."""
    return CDSC_SCHEDULE_SEPARATOR.join(repr(float(x)) for x in percents)

# --- plausible input (RULES.md section 2; docs/feed.md "Limits") ---------------
# Dates: every date of a feed lies in these years; an end date written OPEN_END_DATE
# (the usual way to write "no end") means open, as an empty one does.  The range
# keeps every date, and a month or a 50-year projection after it, inside pandas'
# nanosecond calendar (1677-09-21 to 2262-04-11).
EARLIEST_DATE = "1900-01-01"
LATEST_DATE = "2199-12-31"
OPEN_END_DATE = "9999-12-31"
# Numbers: far above any real fund, far below where exact cents (Decimal) or float
# products lose their meaning.
MAX_SHARES = 1e12  # shares in one transaction, or a portfolio's shares outstanding
MAX_PRICE = 1e6  # dollars per share: a NAV or a transaction's price
MAX_AMOUNT = 1e12  # dollars: an offset, an assignment's purchase price
MAX_CONVERSION_YEARS = 100  # a portfolio's conversion_years
# Files: validation holds a table in memory, so its size is bounded before it is read.
MAX_FILE_BYTES = 4 * 2**30  # a table's file: 4 GiB (ten million transactions take about 0.7 GiB)
MAX_LINE_BYTES = 1 * 2**20  # one line of a CSV file: 1 MiB
MAX_COLUMNS = 100  # columns of a table (the widest has ten; unknown ones are ignored)
MAX_CELL_CHARS = 1_000  # characters of one value
