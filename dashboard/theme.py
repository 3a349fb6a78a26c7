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
    # the sample complex (python -m calc sample): the Other Distributor and its three assignees
    "LFD": "#2e8540",
    "Harbor Lane B-Share Funding Trust I": "#00a3a3",
    "Cedar Point Distribution Finance LLC": "#d6336c",
    "Mesa Verde B-Share Receivables LP": "#7030a0",
}

# Palette for any other party: hues far apart, no two browns (two assignees in nearly the same
# brown could not be told apart), none the CDSC orange of MONEY_COLOURS.
PALETTE: tuple[str, ...] = (
    "#4c78a8", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#eeca3b",
    "#17becf", "#6b6ecf", "#bcbd22", "#ff9da6", "#637939", "#7b4173",
)

# The three kinds of money, the same on every chart.
MONEY_COLOURS: dict[str, str] = {
    "Distribution Fee": "#1f4e79",
    "Service fee": "#9dc3e6",
    "CDSC": "#c55a11",
}

NET_ASSETS_COLOUR = "#7f8c9a"  # a mid grey that reads on the light and the dark theme
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


def fmt_money_card(value: float | None) -> str:
    """A figure card's amount, whole at any width from 1280 px: ``$1,329,528`` (cents on hover, see
    :func:`fmt_money`); from a billion on ``$12.35B``; under $10,000 to the cent."""
    if _missing(value):
        return "–"
    v = float(value)
    if abs(v) >= 1e9:
        text = f"${abs(v) / 1e9:,.2f}B"
    elif abs(v) >= 10_000:
        text = f"${abs(round(v)):,.0f}"
    else:
        return fmt_money(v)
    return f"({text})" if round(v) < 0 else text


def fmt_money_compact(value: float | None) -> str:
    """Large sums in a card: ``$904.19M``, ``$1.02B`` (whole dollars below a million)."""
    if _missing(value):
        return "–"
    v = float(value)
    for scale, suffix in ((1e9, "B"), (1e6, "M")):
        if abs(v) >= scale:
            text = f"${abs(v) / scale:,.2f}{suffix}"
            return f"({text})" if v < 0 else text
    return fmt_money_card(v)


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


def fmt_multiple(value: float | None) -> str:
    """A multiple of a price: ``0.42x``."""
    if _missing(value) or (isinstance(value, float) and math.isinf(value)):
        return "–"
    return f"{float(value):,.2f}x"


# Column formats for st.dataframe (column_config.NumberColumn ``format``).  Percents are shown as
# fmt_pct writes them (71.34%, two places everywhere): the table multiplies the fraction by 100.
MONEY_FORMAT = "dollar"
PERCENT_FORMAT = "%.2f%%"
SHARES_FORMAT = "%,.6f"
