"""Collateral, for an assignee's investors: its Portions by month, payback, payments and due dates, the runoff behind them.

The Collateral page shows these (the assignee's rows of ``payments`` and the
calculation's ``lots``; ``assignments`` and ``portfolios`` of the feed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calc.report import LOT_COLUMNS
from calc.reports.common import PORTFOLIO_COLUMNS, cents
from calc.vocabulary import (
    CDSC,
    DISTRIBUTION_FEE,
    ROLE_ASSIGNEE,
    SHARE_TOLERANCE,
    parse_cdsc_schedule,
)

PORTIONS = [DISTRIBUTION_FEE, CDSC]  # an assignee's 12b-1 Portion and CDSC Portion
STREAM_COLUMNS = ["month_end", "due_date", *PORTIONS, "total", "cumulative", "portfolios"]
SCHEDULE_COLUMNS = ["month_end", "due_date", *PORTIONS, "payable", "status"]
RUNOFF_KEYS = ["month_end", "issue_year"]
RUNOFF_AMOUNTS = ["commission_shares", "cost", "cdsc_carried", "carrying_shares"]  # the lots; what they carry
# The part of them whose anniversary of issue in the month end's year has passed (NaN for a run stored
# before the lots kept it): the lots' anniversary_shares and anniversary_cost, and what that part carries.
ANNIVERSARY_AMOUNTS = ["anniversary_shares", "anniversary_cost", "anniversary_cdsc", "anniversary_carrying"]
RUNOFF_COLUMNS = [*RUNOFF_KEYS, *RUNOFF_AMOUNTS, *ANNIVERSARY_AMOUNTS]
ANNIVERSARY_COLUMNS = [c for c in LOT_COLUMNS if c.startswith("anniversary_")]


def _assignee_rows(payments: pd.DataFrame) -> pd.DataFrame:
    return payments[payments["role"] == ROLE_ASSIGNEE]


def _with_money(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[(frame[DISTRIBUTION_FEE] != 0) | (frame[CDSC] != 0)]


def assignee_terms(assignments: pd.DataFrame, assignee: str) -> pd.DataFrame:
    """The assignee's assignments, ``portfolio_id`` '' shown as 'all portfolios'."""
    out = assignments[assignments["assignee"] == assignee].copy()
    out["portfolios"] = out["portfolio_id"].replace("", "all portfolios")
    return out.sort_values(["start_date", "assignment_id"]).reset_index(drop=True)


def purchase_price(assignments: pd.DataFrame, assignee: str) -> float | None:
    """What the assignee paid for its assignments (their ``purchase_price`` added); None if none given."""
    prices = assignments.loc[assignments["assignee"] == assignee, "purchase_price"].dropna()
    return None if prices.empty else float(prices.sum())


def assignee_stream(payments: pd.DataFrame, assignee: str | None = None) -> pd.DataFrame:
    """The assignee's Portions by month, with the running total.

    ``payments`` is the assignee's rows (role ``assignee``); with
    ``assignee`` given, other rows are dropped.  Columns: month_end, due_date,
    distribution_fee (12b-1 Portion), cdsc (CDSC Portion), total, cumulative,
    portfolios (count with money).
    """
    frame = _assignee_rows(payments)
    if assignee is not None:
        frame = frame[frame["party"] == assignee]
    if frame.empty:
        return pd.DataFrame(columns=STREAM_COLUMNS)
    with_money = _with_money(frame)
    out = frame.groupby("month_end", as_index=False).agg(
        due_date=("due_date", "first"), distribution_fee=(DISTRIBUTION_FEE, "sum"), cdsc=(CDSC, "sum")
    )
    out[PORTIONS] = out[PORTIONS].round(2)
    out["total"] = (out[DISTRIBUTION_FEE] + out[CDSC]).round(2)
    out["cumulative"] = out["total"].cumsum().round(2)
    out["portfolios"] = out["month_end"].map(with_money.groupby("month_end")["portfolio_id"].nunique()).fillna(0).astype(int)
    return out.sort_values("month_end").reset_index(drop=True)


@dataclass(frozen=True)
class Payback:
    """Collections against the purchase price."""

    received: float
    distribution_fee: float
    cdsc: float
    purchase_price: float | None
    recovered: float | None  # fraction of the price collected
    remaining: float | None
    payback_month: pd.Timestamp | None  # first month end the cumulative reaches the price
    months: int  # months with money
    last_month: pd.Timestamp | None


def payback(stream: pd.DataFrame, price: float | None) -> Payback:
    """Cumulative collections against ``price`` (from :func:`assignee_stream`)."""
    received = cents(stream["total"].sum()) if not stream.empty else 0.0
    fee = cents(stream[DISTRIBUTION_FEE].sum()) if not stream.empty else 0.0
    cdsc = cents(stream[CDSC].sum()) if not stream.empty else 0.0
    months = int((stream["total"] != 0).sum()) if not stream.empty else 0
    last = pd.Timestamp(stream["month_end"].max()) if not stream.empty else None
    if price is None or price <= 0:
        return Payback(received, fee, cdsc, price, None, None, None, months, last)
    reached = stream[stream["cumulative"] >= price - 0.005]
    month = pd.Timestamp(reached["month_end"].iloc[0]) if not reached.empty else None
    return Payback(received, fee, cdsc, price, received / price, cents(max(price - received, 0.0)), month, months, last)


def payback_curve(stream: pd.DataFrame, price: float | None) -> pd.DataFrame:
    """month_end, cumulative, purchase_price, recovered (fraction) for the payback chart."""
    out = stream[["month_end", "cumulative"]].copy()
    out["purchase_price"] = price if price else np.nan
    out["recovered"] = out["cumulative"] / price if price else np.nan
    return out


def assignee_by_portfolio(payments: pd.DataFrame, portfolios: pd.DataFrame) -> pd.DataFrame:
    """The portfolios behind the assignee's stream, most money first.

    Columns: portfolio_id, name, fund, schedule, distribution_fee, cdsc,
    total, share_of_total, first_month, last_month (months with money).
    """
    frame = _assignee_rows(payments)
    out = frame.groupby("portfolio_id", as_index=False)[PORTIONS].sum()
    out[PORTIONS] = out[PORTIONS].round(2)
    out["total"] = (out[DISTRIBUTION_FEE] + out[CDSC]).round(2)
    grand = out["total"].sum()
    out["share_of_total"] = out["total"] / grand if grand else np.nan
    span = _with_money(frame).groupby("portfolio_id")["month_end"].agg(["min", "max"])
    out["first_month"] = out["portfolio_id"].map(span["min"]) if not span.empty else pd.NaT
    out["last_month"] = out["portfolio_id"].map(span["max"]) if not span.empty else pd.NaT
    out = out.merge(portfolios[PORTFOLIO_COLUMNS], on="portfolio_id", how="left")
    out = out.sort_values(["total", "portfolio_id"], ascending=[False, True]).reset_index(drop=True)
    return out[[*PORTFOLIO_COLUMNS, *PORTIONS, "total", "share_of_total", "first_month", "last_month"]]


def payments_schedule(payments: pd.DataFrame, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """The assignee's payments and their due dates, latest first.

    Columns: month_end, due_date, distribution_fee, cdsc, payable, status:
    ``due`` for a payment falling due after ``as_of`` (a month end: the
    statement month's own payment and any later), ``paid`` before; without
    ``as_of`` the latest month's payment is the one due.
    """
    frame = _assignee_rows(payments)
    if frame.empty:
        return pd.DataFrame(columns=SCHEDULE_COLUMNS)
    out = frame.groupby("month_end", as_index=False).agg(
        due_date=("due_date", "first"),
        distribution_fee=(DISTRIBUTION_FEE, "sum"),
        cdsc=(CDSC, "sum"),
        payable=("payable", "sum"),
    )
    amounts = [*PORTIONS, "payable"]
    out[amounts] = out[amounts].round(2)
    if as_of is None:
        due = out["month_end"] == out["month_end"].max()
    else:
        due = out["due_date"] > pd.Timestamp(as_of)
    out["status"] = np.where(due, "due", "paid")
    return out.sort_values("month_end", ascending=False).reset_index(drop=True)


def as_of(payments: pd.DataFrame, month_end: pd.Timestamp | None) -> pd.DataFrame:
    """The rows of months up to ``month_end`` (all when None): the page as of the chosen month."""
    if month_end is None:
        return payments
    return payments[payments["month_end"] <= pd.Timestamp(month_end)]


@dataclass(frozen=True)
class Status:
    """Where an assignee stands at a month end: paid back, still collecting, or its window ended."""

    label: str  # "2015-03" (the payback month), "not yet", "window ended 2011-06", "–"
    detail: str  # a sentence for the reader
    ended: pd.Timestamp | None  # the last window's end when every assignment has ended


def assignment_status(terms: pd.DataFrame, pb: Payback, month_end: pd.Timestamp) -> Status:
    """The payback status at ``month_end`` of the assignee's assignments (``terms``, one assignee).

    Paid back when collections reached the price; else, when every window has ended by then,
    ``window ended YYYY-MM: final recovery 32.00%``; else not yet.
    """
    m = pd.Timestamp(month_end)
    ends = terms["end_date"]
    ended = pd.Timestamp(ends.max()) if len(ends) and ends.notna().all() and ends.max() < m else None
    recovered = f"{pb.recovered * 100:,.2f}%" if pb.recovered is not None else None
    if pb.payback_month is not None:
        return Status(f"{pb.payback_month:%Y-%m}", f"Collections reached the purchase price at {pb.payback_month:%B %Y}.",
                      ended)
    if ended is not None:
        label = f"window ended {ended:%Y-%m}"
        detail = f"Every assignment window ended by {ended:%Y-%m-%d}" + (
            f": final recovery {recovered} of the purchase price." if recovered else ".")
        return Status(label, detail, ended)
    if pb.purchase_price is None:
        return Status("–", "No purchase price was given for these assignments.", None)
    return Status("not yet", f"{recovered} of the purchase price collected so far.", None)


@dataclass(frozen=True)
class Returns:
    """What the purchase price has returned to date."""

    multiple: float | None  # collections / price
    cash_yield: float | None  # the last 12 months' collections / price
    irr: float | None  # a year, from the purchase dates and the due dates, nothing counted for the future


def _npv(rate: float, years: np.ndarray, flows: np.ndarray) -> float:
    return float((flows / (1.0 + rate) ** years).sum())


def irr(dates: Sequence[pd.Timestamp], flows: Sequence[float]) -> float | None:
    """The yearly rate at which the dated ``flows`` are worth nothing today (bisection); None if none."""
    if not len(flows):
        return None
    t0 = min(pd.Timestamp(d) for d in dates)
    years = np.array([(pd.Timestamp(d) - t0).days / 365.25 for d in dates])
    cash = np.asarray(flows, dtype=float)
    if not ((cash > 0).any() and (cash < 0).any()):
        return None
    lo, hi = -0.9999, 10.0
    f_lo, f_hi = _npv(lo, years, cash), _npv(hi, years, cash)
    if f_lo * f_hi > 0:
        return None
    for _ in range(200):
        mid = (lo + hi) / 2
        f_mid = _npv(mid, years, cash)
        if abs(f_mid) < 1e-6 or hi - lo < 1e-10:
            break
        if f_lo * f_mid < 0:
            hi, f_hi = mid, f_mid
        else:
            lo, f_lo = mid, f_mid
    return (lo + hi) / 2


def returns(stream: pd.DataFrame, terms: pd.DataFrame, month_end: pd.Timestamp) -> Returns:
    """Multiple, cash yield (last 12 months) and IRR to ``month_end`` of the assignee's purchase.

    ``stream`` as of the month (:func:`assignee_stream`); ``terms`` its assignments, each price paid
    on its start date (those without a price are left out: no figure when none has one).
    """
    priced = terms[terms["purchase_price"].notna() & (terms["purchase_price"] > 0)]
    price = float(priced["purchase_price"].sum()) if not priced.empty else 0.0
    if price <= 0:
        return Returns(None, None, None)
    m = pd.Timestamp(month_end)
    received = float(stream["total"].sum()) if not stream.empty else 0.0
    last12 = stream[stream["month_end"] > m - pd.DateOffset(months=12) + pd.offsets.MonthEnd(0)] if not stream.empty else stream
    cash_yield = float(last12["total"].sum()) / price if not stream.empty else 0.0
    dates = list(priced["start_date"]) + list(stream["due_date"].fillna(stream["month_end"]))
    flows = [-float(x) for x in priced["purchase_price"]] + [float(x) for x in stream["total"]]
    return Returns(received / price, cash_yield, irr(dates, flows))


STATEMENT_COLUMNS = ["month_end", "portfolio_id", "name", DISTRIBUTION_FEE, CDSC, "offset", "payable", "due_date"]


def investor_statement(payments: pd.DataFrame, portfolios: pd.DataFrame, start: pd.Timestamp | None = None,
                       end: pd.Timestamp | None = None) -> pd.DataFrame:
    """The assignee's own Portions, month by month and portfolio, for its statement.

    ``payments`` is the assignee's rows.  Columns: month_end, portfolio_id, name, distribution_fee
    (12b-1 Portion), cdsc (CDSC Portion), offset, payable, due_date; rows with money only, latest
    month first.
    """
    frame = _assignee_rows(payments)
    if start is not None:
        frame = frame[frame["month_end"] >= pd.Timestamp(start)]
    if end is not None:
        frame = frame[frame["month_end"] <= pd.Timestamp(end)]
    frame = frame[(frame[DISTRIBUTION_FEE] != 0) | (frame[CDSC] != 0) | (frame["payable"] != 0)]
    out = frame.groupby(["month_end", "portfolio_id"], as_index=False).agg(
        **{c: (c, "sum") for c in (DISTRIBUTION_FEE, CDSC, "offset", "payable")}, due_date=("due_date", "first"))
    money = [DISTRIBUTION_FEE, CDSC, "offset", "payable"]
    out[money] = out[money].round(2)
    out = out.merge(portfolios[["portfolio_id", "name"]], on="portfolio_id", how="left")
    out = out.sort_values(["month_end", "portfolio_id"], ascending=[False, True]).reset_index(drop=True)
    return out[STATEMENT_COLUMNS]


def statement_by_month(rows: pd.DataFrame) -> pd.DataFrame:
    """:func:`investor_statement` added up per month: month_end, the four amounts, due_date, portfolios."""
    if rows.empty:
        return pd.DataFrame(columns=["month_end", DISTRIBUTION_FEE, CDSC, "offset", "payable", "due_date", "portfolios"])
    out = rows.groupby("month_end", as_index=False).agg(
        **{c: (c, "sum") for c in (DISTRIBUTION_FEE, CDSC, "offset", "payable")}, due_date=("due_date", "first"),
        portfolios=("portfolio_id", "nunique"))
    money = [DISTRIBUTION_FEE, CDSC, "offset", "payable"]
    out[money] = out[money].round(2)
    return out.sort_values("month_end", ascending=False).reset_index(drop=True)


def fractions_in_effect(frame: pd.DataFrame, terms: pd.DataFrame, column: str) -> np.ndarray:
    """For rows with month_end, portfolio_id, rights_holder: the assignee's ``column`` (``fee_fraction`` or
    ``cdsc_fraction``) of the assignments in effect at the month end covering the row (0 outside)."""
    out = np.zeros(len(frame))
    if frame.empty or terms.empty:
        return out
    me = pd.to_datetime(frame["month_end"]).to_numpy()
    for t in terms.itertuples(index=False):
        covers = frame["rights_holder"].to_numpy() == t.rights_holder
        if t.portfolio_id:
            covers &= frame["portfolio_id"].to_numpy() == t.portfolio_id
        started = me >= np.datetime64(pd.Timestamp(t.start_date))
        running = np.ones(len(frame), dtype=bool) if pd.isna(t.end_date) else me <= np.datetime64(pd.Timestamp(t.end_date))
        out += np.where(covers & started & running, float(getattr(t, column)), 0.0)
    return out


NET_ASSET_COLUMNS = ["month_end", "net_assets", "investor_net_assets"]


def stream_net_assets(allocation: pd.DataFrame, summary: pd.DataFrame, terms: pd.DataFrame,
                      end: pd.Timestamp | None = None) -> pd.DataFrame:
    """The net asset value of the shares behind the stream, month by month (its runoff).

    The fee accrues on net assets: the assigning rights holder's part of a portfolio's average net
    assets is its 12b-1 Share S_h(m) x the portfolio's average net assets.  ``net_assets`` adds it
    up over the assigned portfolios (while an assignment is in effect); ``investor_net_assets``
    weights it by the assignee's fee fraction, the net assets its 12b-1 Portion is earned on.
    ``allocation`` holds the assigning rights holders' rows.  Columns: ``NET_ASSET_COLUMNS``.
    """
    if allocation.empty or terms.empty:
        return pd.DataFrame(columns=NET_ASSET_COLUMNS)
    frame = allocation[["month_end", "portfolio_id", "rights_holder", "share"]]
    if end is not None:
        frame = frame[frame["month_end"] <= pd.Timestamp(end)]
    frame = frame.merge(summary[["month_end", "portfolio_id", "average_net_assets"]], on=["month_end", "portfolio_id"],
                        how="inner")
    fee = fractions_in_effect(frame, terms, "fee_fraction")
    assigned = fractions_in_effect(frame, terms.assign(fee_fraction=1.0), "fee_fraction") > 0
    value = frame["share"].to_numpy() * frame["average_net_assets"].to_numpy()
    frame = frame.assign(net_assets=np.where(assigned, value, 0.0), investor_net_assets=value * fee)
    out = frame.groupby("month_end", as_index=False)[["net_assets", "investor_net_assets"]].sum()
    out = out[(out["net_assets"] != 0) | (out["investor_net_assets"] != 0)]
    return out.sort_values("month_end").reset_index(drop=True)[NET_ASSET_COLUMNS]


def assignee_lot_filters(assignments: pd.DataFrame, assignee: str) -> list[tuple[str, str]]:
    """(rights_holder, portfolio_id or '') pairs whose lots stand behind the assignee's stream."""
    terms = assignments[assignments["assignee"] == assignee]
    return sorted({(str(t.rights_holder), str(t.portfolio_id)) for t in terms.itertuples(index=False)})


def _rates(portfolio_ids: pd.Series, years_held: pd.Series | np.ndarray, portfolios: pd.DataFrame) -> np.ndarray:
    """The CDSC rate (fraction) of each (portfolio, year held): a lookup of the schedules, 0 beyond them."""
    rows = []
    for pid, schedule in zip(portfolios["portfolio_id"], portfolios["cdsc_schedule"], strict=False):
        if schedule is None or (isinstance(schedule, float) and math.isnan(schedule)):
            continue
        values = parse_cdsc_schedule(schedule) if isinstance(schedule, str) else list(schedule)
        rows += [(str(pid), k + 1, float(v) / 100.0) for k, v in enumerate(values)]
    table = pd.DataFrame(rows, columns=["portfolio_id", "year_held", "rate"])
    keys = pd.DataFrame({"portfolio_id": np.asarray(portfolio_ids, dtype=object).astype(str),
                         "year_held": np.asarray(years_held, dtype=np.int64)})
    table["year_held"] = table["year_held"].astype(np.int64)
    return keys.merge(table, on=["portfolio_id", "year_held"], how="left")["rate"].fillna(0.0).to_numpy()


def by_anniversary(lots: pd.DataFrame | None) -> bool:
    """Whether ``lots`` know the part of each year's shares whose anniversary has passed (the
    ``anniversary_*`` columns, filled for every row): then years held are exact; a run stored before
    they were kept has them empty (None), and years held are known only to within one."""
    return (lots is not None and all(c in lots.columns for c in ANNIVERSARY_COLUMNS)
            and not lots[ANNIVERSARY_COLUMNS].isna().to_numpy().any())


def _lot_rows(lots: pd.DataFrame, pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    mask = np.zeros(len(lots), dtype=bool)
    for holder, pid in pairs:
        mask |= (lots["rights_holder"] == holder).to_numpy() & ((lots["portfolio_id"] == pid).to_numpy() if pid else True)
    return lots[mask].copy()


def runoff(lots: pd.DataFrame, portfolios: pd.DataFrame, pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """The Commission Shares behind an assignee's stream, by month and issue year.

    ``pairs`` are (rights_holder, portfolio_id or '' for all) from
    :func:`assignee_lot_filters`.  Years held by anniversary (FOURTH (D)): at a
    month end of year ``Y``, the part of a year ``y``'s shares whose anniversary
    that year has passed (``anniversary_shares``: issued in a month up to the
    month end's) is in year ``Y - y + 1``, the rest in year ``Y - y``.
    ``cdsc_carried`` is cost x the holding portfolio's schedule rate in that
    year, the CDSC the shares would still bear if redeemed at cost;
    ``carrying_shares`` those with a rate above 0; ``anniversary_cdsc`` and
    ``anniversary_carrying`` the same of the part whose anniversary has passed.
    Lots of a run stored before the anniversary parts were kept count every
    share in year ``Y - y + 1`` (the anniversary columns NaN).
    Columns: ``RUNOFF_COLUMNS``.
    """
    if lots is None or lots.empty or not pairs:
        return pd.DataFrame(columns=RUNOFF_COLUMNS)
    frame = _lot_rows(lots, pairs)
    if frame.empty:
        return pd.DataFrame(columns=RUNOFF_COLUMNS)
    exact = by_anniversary(frame)
    later = pd.to_datetime(frame["month_end"]).dt.year.to_numpy() - frame["issue_year"].astype(int).to_numpy() + 1
    rate = _rates(frame["portfolio_id"], later, portfolios)
    if exact:
        a_shares, a_cost = frame["anniversary_shares"].to_numpy(float), frame["anniversary_cost"].to_numpy(float)
        rate_before = _rates(frame["portfolio_id"], later - 1, portfolios)
    else:
        a_shares, a_cost = frame["commission_shares"].to_numpy(float), frame["cost"].to_numpy(float)
        rate_before = rate
    rest_shares = frame["commission_shares"].to_numpy(float) - a_shares
    rest_cost = frame["cost"].to_numpy(float) - a_cost
    frame["anniversary_shares"], frame["anniversary_cost"] = a_shares, a_cost
    frame["anniversary_cdsc"] = a_cost * rate
    frame["anniversary_carrying"] = np.where(rate > 0, a_shares, 0.0)
    frame["cdsc_carried"] = frame["anniversary_cdsc"] + (rest_cost * rate_before if exact else 0.0)
    frame["carrying_shares"] = frame["anniversary_carrying"] + (np.where(rate_before > 0, rest_shares, 0.0) if exact else 0.0)
    out = frame.groupby(RUNOFF_KEYS, as_index=False)[[*RUNOFF_AMOUNTS, *ANNIVERSARY_AMOUNTS]].sum()
    out = out[out["commission_shares"].abs() > SHARE_TOLERANCE]
    if not exact:
        out[ANNIVERSARY_AMOUNTS] = np.nan
    return out.sort_values(RUNOFF_KEYS).reset_index(drop=True)[RUNOFF_COLUMNS]


INVESTOR_CDSC_COLUMNS = ["issue_year", "year_held", "commission_shares", "cost", "rate_low", "rate_high",
                         "cdsc_low", "cdsc_high", "cdsc_fraction", "investor_low", "investor_high", "exact"]


def _split_by_anniversary(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    """Lot rows (of month ends of ``year``) as their two parts: the anniversary part in year
    ``year - issue_year + 1``, the rest a year earlier; parts with no shares left out."""
    later = year - frame["issue_year"].astype(int) + 1
    passed = frame.assign(year_held=later, commission_shares=frame["anniversary_shares"],
                          cost=frame["anniversary_cost"])
    before = frame.assign(year_held=later - 1, commission_shares=frame["commission_shares"] - frame["anniversary_shares"],
                          cost=frame["cost"] - frame["anniversary_cost"])
    parts = pd.concat([passed, before], ignore_index=True)
    return parts[(parts["commission_shares"].abs() > SHARE_TOLERANCE) & (parts["year_held"] >= 1)]


def investor_cdsc(lots: pd.DataFrame, portfolios: pd.DataFrame, terms: pd.DataFrame,
                  month_end: pd.Timestamp) -> pd.DataFrame:
    """The CDSC the shares behind the stream carry at ``month_end``, and the assignee's own share of it.

    Years held are counted by anniversary, as the CDSC statement counts them (FOURTH (D)): a share
    issued in month ``k`` of year ``y`` is, at a month end of month ``mm`` of year ``Y``, in year
    ``Y - y + 1`` once that year's anniversary of its issue date has passed (``mm >= k``: the month
    end is the month's last day, so the day of issue never matters) and in year ``Y - y`` before.
    The lots say which part of each issue year's shares is past its anniversary
    (``anniversary_shares``, ``anniversary_cost``), so each issue year gives a row per exact year
    held (``exact`` True; ``*_low`` = ``*_high``).  Lots of a run stored before they said so know
    the issue year only: before December both years are possible, ``*_low`` counting every
    anniversary passed (the later year, the lower rate), ``*_high`` none, ``year_held`` "2 or 3" and
    ``exact`` False (at a December month end, and in year 1, they agree).  ``cdsc_*`` = cost x rate
    (what the shares would bear if redeemed at cost); ``investor_*`` = that x the assignee's
    cdsc_fraction of the assignment in effect for the portfolio (0 once its window has ended).
    Columns: ``INVESTOR_CDSC_COLUMNS``.
    """
    m = pd.Timestamp(month_end)
    pairs = sorted({(str(t.rights_holder), str(t.portfolio_id)) for t in terms.itertuples(index=False)})
    if lots is None or lots.empty or not pairs:
        return pd.DataFrame(columns=INVESTOR_CDSC_COLUMNS)
    frame = _lot_rows(lots[lots["month_end"] == m], pairs)
    if frame.empty:
        return pd.DataFrame(columns=INVESTOR_CDSC_COLUMNS)
    exact = by_anniversary(frame)
    if exact:
        frame = _split_by_anniversary(frame, m.year)
        later = earlier = frame["year_held"]
    else:
        later = m.year - frame["issue_year"].astype(int) + 1  # every anniversary this year passed
        earlier = later if m.month == 12 else np.maximum(later - 1, 1)
    frame["rate_low"] = _rates(frame["portfolio_id"], later, portfolios)
    frame["rate_high"] = _rates(frame["portfolio_id"], earlier, portfolios)
    frame["cdsc_low"] = frame["cost"] * frame["rate_low"]
    frame["cdsc_high"] = frame["cost"] * frame["rate_high"]
    fraction = fractions_in_effect(frame, terms, "cdsc_fraction")
    frame["investor_low"] = frame["cdsc_low"] * fraction
    frame["investor_high"] = frame["cdsc_high"] * fraction
    frame["weighted"] = frame["cost"] * fraction
    sums = ["commission_shares", "cost", "cdsc_low", "cdsc_high", "investor_low", "investor_high", "weighted"]
    keys = ["issue_year", "year_held"] if exact else ["issue_year"]
    out = frame.groupby(keys, as_index=False)[sums].sum()
    out = out[out["commission_shares"].abs() > SHARE_TOLERANCE].copy()
    cost = out["cost"].where(out["cost"] > 0, 1.0)
    out["cdsc_fraction"] = np.where(out["cost"] > 0, out["weighted"] / cost, 0.0)
    out["rate_low"] = np.where(out["cost"] > 0, out["cdsc_low"] / cost, 0.0)
    out["rate_high"] = np.where(out["cost"] > 0, out["cdsc_high"] / cost, 0.0)
    if exact:
        out["year_held"] = out["year_held"].astype(int)
        out["exact"] = True
    else:
        year_low = m.year - out["issue_year"].astype(int) + 1
        out["exact"] = [bool(m.month == 12 or k == 1) for k in year_low]
        out["year_held"] = [str(k) if m.month == 12 or k == 1 else f"{k - 1} or {k}" for k in year_low]
    order = ["issue_year", "year_held"] if exact else ["issue_year"]
    return out.sort_values(order, ascending=[True, False][:len(order)]).reset_index(drop=True)[INVESTOR_CDSC_COLUMNS]


def runoff_at(runoff_frame: pd.DataFrame, month_end: pd.Timestamp | None = None) -> pd.DataFrame:
    """The runoff at one month end (the latest by default): a row per issue year and year held.

    Each issue year's shares whose anniversary has passed are in year ``Y - y + 1``, the rest in
    year ``Y - y`` (two rows when both are there); a runoff of lots stored before the anniversary
    parts were kept counts them all in ``Y - y + 1``.  Adds ``year_held`` and ``rate`` (CDSC
    carried / cost).
    """
    if runoff_frame.empty:
        return runoff_frame.assign(year_held=pd.Series(dtype=int), rate=pd.Series(dtype=float))
    m = pd.Timestamp(month_end) if month_end is not None else runoff_frame["month_end"].max()
    at = runoff_frame[runoff_frame["month_end"] == m].copy()
    at["issue_year"] = at["issue_year"].astype(int)
    at["year_held"] = m.year - at["issue_year"] + 1
    if not at.empty and not at[ANNIVERSARY_AMOUNTS].isna().to_numpy().any():
        parts = dict(zip(RUNOFF_AMOUNTS, ANNIVERSARY_AMOUNTS, strict=True))
        passed = at.assign(**{whole: at[part] for whole, part in parts.items()})
        before = at.assign(year_held=at["year_held"] - 1, **{whole: at[whole] - at[part] for whole, part in parts.items()})
        at = pd.concat([passed, before], ignore_index=True)
        at = at[(at["commission_shares"].abs() > SHARE_TOLERANCE) & (at["year_held"] >= 1)]
        at = at.sort_values(["issue_year", "year_held"], ascending=[True, False])
    at = at.drop(columns=ANNIVERSARY_AMOUNTS)
    at["rate"] = np.where(at["cost"] > 0, at["cdsc_carried"] / at["cost"].where(at["cost"] > 0, 1.0), 0.0)
    return at.reset_index(drop=True)


def runoff_totals(at: pd.DataFrame) -> dict[str, float]:
    """Totals of :func:`runoff_at`: commission_shares, cost, cdsc_carried, carrying_shares."""
    return {c: float(at[c].sum()) if not at.empty else 0.0 for c in RUNOFF_AMOUNTS}


__all__ = [
    "Payback", "Returns", "Status", "as_of", "assignee_by_portfolio", "assignee_lot_filters", "assignee_stream",
    "assignee_terms", "assignment_status", "by_anniversary", "fractions_in_effect", "investor_cdsc", "investor_statement", "irr",
    "payback", "payback_curve", "payments_schedule", "purchase_price", "returns", "runoff", "runoff_at",
    "runoff_totals", "statement_by_month", "stream_net_assets", "INVESTOR_CDSC_COLUMNS",
]
