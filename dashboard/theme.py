"""One look for every page: party colours and number formats.

Each party keeps one colour on every page and in every run: the parties of the
agreement have fixed colours, any other name gets one from the palette by a
stable hash of its name (never by its position in a list, which would change
with the data).  Money is written as a fund report writes it ($1,234,567.89,
negatives in parentheses), fractions as percents (71.34%).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable

import pandas as pd

# Fixed colours for the parties of the agreement and the sample complex.
FIXED_PARTY_COLOURS: dict[str, str] = {
    "ADI": "#1f4e79",  # A I M Distributors, Inc.: the Distributor, deep blue
    "IDI": "#7f7f7f",  # INVESCO Distributors, Inc.
    "OD1": "#c55a11",
    "OD2": "#2e8540",
    "OD3": "#7030a0",
    "FIN": "#bf9000",
    "FINCO1": "#bf9000",
    "FINCO2": "#00a3a3",
    "FINCO3": "#d6336c",
}

# Palette for any other party (colour-blind friendly, none equal to a fixed one).
PALETTE: tuple[str, ...] = (
    "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6",
    "#9d755d", "#eeca3b", "#8c6d31", "#637939", "#843c39", "#7b4173",
    "#17becf", "#a05d56", "#6b6ecf", "#bcbd22",
)

# The three kinds of money, the same on every chart.
MONEY_COLOURS: dict[str, str] = {
    "Distribution Fee": "#1f4e79",
    "Service fee": "#9dc3e6",
    "CDSC": "#c55a11",
}

TERMINATION_COLOUR = "#c00000"
TENURE_COLOUR = "#595959"


def party_colour(party: str) -> str:
    """The colour of ``party``: fixed for known parties, else a stable hash into the palette."""
    if party in FIXED_PARTY_COLOURS:
        return FIXED_PARTY_COLOURS[party]
    digest = hashlib.sha256(str(party).encode("utf-8")).digest()
    return PALETTE[int.from_bytes(digest[:4], "big") % len(PALETTE)]


def party_colours(parties: Iterable[str]) -> dict[str, str]:
    """A ``{party: colour}`` map for plotly's ``color_discrete_map``."""
    return {p: party_colour(p) for p in parties}


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt_money(value: float | None, parentheses: bool = True) -> str:
    """Dollars to the cent: ``$1,234,567.89``; negatives ``($1,234.56)``; missing as an en dash."""
    if _missing(value):
        return "–"
    v = round(float(value), 2)
    if v == 0:
        v = 0.0
    text = f"${abs(v):,.2f}"
    if v < 0:
        return f"({text})" if parentheses else f"-{text}"
    return text


def fmt_pct(fraction: float | None, places: int = 2) -> str:
    """A fraction as a percent: ``0.7134`` -> ``71.34%``; missing as an en dash."""
    if _missing(fraction) or (isinstance(fraction, float) and math.isinf(fraction)):
        return "–"
    v = round(float(fraction) * 100, places)
    if v == 0:
        v = 0.0
    return f"{v:,.{places}f}%"


def fmt_change(fraction: float | None) -> str:
    """A change as a signed percent (``+12.50%``), or ``n/a`` where there is nothing to compare."""
    if _missing(fraction) or (isinstance(fraction, float) and math.isinf(fraction)):
        return "n/a"
    return f"{float(fraction) * 100:+,.2f}%"


def fmt_shares(value: float | None, places: int = 6) -> str:
    """A share count with separators, six decimals by default."""
    if _missing(value):
        return "–"
    v = round(float(value), places)
    if v == 0:
        v = 0.0
    return f"{v:,.{places}f}"


def fmt_month(month_end: object) -> str:
    """A month end as a reader names it: ``June 2020``."""
    if _missing(month_end):
        return "–"
    return pd.Timestamp(month_end).strftime("%B %Y")


def fmt_date(day: object) -> str:
    """A date as ``2020-07-15``."""
    if _missing(day):
        return "–"
    return pd.Timestamp(day).strftime("%Y-%m-%d")


# Column formats for st.dataframe (column_config.NumberColumn ``format``).
MONEY_FORMAT = "dollar"
PERCENT_FORMAT = "percent"
SHARES_FORMAT = "%,.6f"
