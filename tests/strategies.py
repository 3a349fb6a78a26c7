"""Hypothesis strategies: small random *valid* feeds (RULES.md section 2).

The strategy draws structured parameters only (a :class:`FeedSpec` of small
integers, flags and lists) and :func:`build_tables` turns them into the eight
tables deterministically, as text, exactly as ``read_raw_tables`` would hand
them to ``calc.feed.validate``.  Shrinking therefore works on the
parameters (fewer transactions, earlier days, smaller amounts, default rates)
and every shrunk example is still a valid feed.

Validity is kept by construction:

- tenures start on or before a portfolio's first transaction or ``nav.csv``
  date, follow one another without gap or overlap and reach past the feed's
  last month end (the last one open or ending later);
- redeems and exchanges take at most what the account holds *net of its
  conversions to Class A* (section 4): :class:`_Ledger` follows Free Shares
  and Commission lots, lot relief (Free first, then oldest issue date, ties
  the lot created first), exchanges (lots keep their issue date, the
  conversion month is recomputed in the portfolio received, a lot whose
  conversion month has passed converts at the end of the month it arrives)
  and the month-end conversions with their proportional Free Shares;
- no redemption leaves a remainder between 1e-9 and 1e-5 share, so that
  doubling every share count (a metamorphic test) never moves a holding
  across the 1e-6 tolerance;
- exchange legs are consecutive ids of the same account and day, the in leg
  scaled by a ratio from ``EXCHANGE_RATIOS`` and its price by the inverse, so
  the two dollar values are equal in decimal;
- assignment fractions are hundredths and, for each rights holder, *all* its
  assignments together add up to at most 1 in decimal (a stronger rule than
  section 2's "in effect on a day");
- offsets and plan events fall inside the feed's months.

The same walk gives a :class:`Model` of each month end (Commission Shares by
portfolio and lot rights holder, Free Shares by portfolio): :func:`build_feed`
returns it beside the tables, for a differential test of the engine's ledger.

Helpers for the metamorphic tests: :func:`shuffled`, :func:`scale_columns`,
:func:`renamed_accounts`; :func:`to_csv_text` and :func:`write_feed` show or
write a drawn feed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction

import pandas as pd
from hypothesis import strategies as st

RIGHTS_HOLDERS = ("ADI", "OD1", "OD2")
DISTRIBUTORS = ("IDI", "ADI", "OD1", "OD2", "XYZ")  # a distributor that is not its rights holder
ASSIGNEES = ("FIN", "GHI", "OD2")
OFFSET_HOLDERS = ("ADI", "OD1", "OD2", "ZZZ")  # ZZZ is never a rights holder
WAIVERS = ("", "death", "disability", "swp", "rmd")
# (in shares per out share, as a fraction); the in price is the out price divided by it.
EXCHANGE_RATIOS = (Fraction(1), Fraction(2), Fraction(1, 2), Fraction(5, 4), Fraction(4, 5))
# drawn by index (purchases three times in eight; shrinking goes to index 0, a purchase)
KINDS = ("purchase", "reinvest", "redeem", "purchase", "nav_purchase", "exchange", "redeem", "purchase")
TOL = 1e-6
FIRST_DAY = dt.date(2006, 1, 1)


# --------------------------------------------------------------------------- the parameters


@dataclass(frozen=True)
class PortfolioSpec:
    schedule_a2: bool
    distribution_fee_rate: int | None  # in units of 1e-5 (0.0075 = 750); None: default (column empty)
    service_fee_rate: int | None  # in units of 1e-5
    cdsc_schedule: tuple[int, ...] | None  # percents; None: default
    conversion_years: int | None  # None: default (8)
    years_as_float: bool  # write "3.0" instead of "3"


@dataclass(frozen=True)
class TenureSpec:
    rights_holder: int  # first tenure: index into RIGHTS_HOLDERS; later ones: 0-1 one of the two others, 2 the same again
    distributor: int  # 0: the rights holder itself; else DISTRIBUTORS[distributor - 1]
    explicit: bool  # write rights_holder even when it equals the distributor
    cut: int  # where it starts (ignored for the first): thousandths from the first tenure's start to the feed's last month end
    on_txn: bool  # ...or at the cut-th thousandth of the portfolio's transaction dates (that day, or the next for an odd cut)


@dataclass(frozen=True)
class NavSpec:
    portfolio: int
    day: int  # in thousandths of the transactions' span (from -200: before the first, to 1200: after the last)
    nav_cents: int
    shares: int


@dataclass(frozen=True)
class TxnSpec:
    gap: int  # days after the transaction drawn before
    snap: int  # 0: as drawn; 1: the day, account and portfolio of the transaction drawn before; 2: its month end; 3: 29 February of its year, if any
    account: int
    portfolio: int
    kind: int  # index into KINDS
    whole: int  # purchase / free issue: whole shares; redeem / exchange: thousandths of the holding
    thousandths: int  # purchase / free issue: the fractional part of the shares
    price: int  # in units of 20 cents
    waiver: int  # index into WAIVERS (redeems)
    other: int  # exchanges: which other portfolio
    ratio: int  # exchanges: index into EXCHANGE_RATIOS
    issue_date: bool  # purchases: write issue_date (= date)
    junk: bool  # write values that the kind ignores (issue_date, waiver, exchange_id)


@dataclass(frozen=True)
class AssignmentSpec:
    assignee: int
    rights_holder: int
    portfolio: int | None  # None: all portfolios
    start: int  # thousandths of the feed's months, from a month before their first day
    length: int | None  # days; None: open
    fee: int  # hundredths (capped so that a rights holder's fractions add up to <= 1)
    cdsc: int
    purchase_price: int | None


@dataclass(frozen=True)
class OffsetSpec:
    rights_holder: int
    portfolio: int
    at: int  # thousandths of the feed's months
    cents: int


@dataclass(frozen=True)
class PlanEventSpec:
    portfolio: int
    at: int  # thousandths of the feed's months


@dataclass(frozen=True)
class FeedSpec:
    start: int  # days after FIRST_DAY
    portfolios: tuple[PortfolioSpec, ...]
    tenures: tuple[tuple[TenureSpec, ...], ...]  # per portfolio
    leads: tuple[int, ...]  # per portfolio: days its first tenure starts before its first date
    last_end: tuple[int | None, ...]  # per portfolio: None: open; else days past the feed's end
    accounts: tuple[tuple[bool, int], ...]  # (omnibus, spelling)
    navs: tuple[NavSpec, ...]
    txns: tuple[TxnSpec, ...]
    assignments: tuple[AssignmentSpec, ...] = ()
    offsets: tuple[OffsetSpec, ...] = ()
    plan_events: tuple[PlanEventSpec, ...] = ()
    holder_column: bool = False  # accounts.csv with its optional holder column


# --------------------------------------------------------------------------- strategies


def _portfolio() -> st.SearchStrategy[PortfolioSpec]:
    return st.builds(
        PortfolioSpec,
        schedule_a2=st.booleans(),
        distribution_fee_rate=st.none() | st.integers(0, 1000),
        service_fee_rate=st.none() | st.integers(0, 250),
        cdsc_schedule=st.none() | st.lists(st.integers(0, 6), min_size=1, max_size=7).map(tuple),
        # often short, so that lots convert to Class A within the feed's few years
        conversion_years=st.one_of(st.integers(1, 2), st.integers(1, 2), st.none(), st.integers(1, 8)),
        years_as_float=st.booleans(),
    )


def _tenure() -> st.SearchStrategy[TenureSpec]:
    return st.builds(
        TenureSpec,
        rights_holder=st.integers(0, len(RIGHTS_HOLDERS) - 1),  # 0..2
        distributor=st.integers(0, len(DISTRIBUTORS)),
        explicit=st.booleans(),
        cut=st.integers(1, 1100),
        on_txn=st.booleans(),  # so that shares are bought under both tenures
    )


def _txn() -> st.SearchStrategy[TxnSpec]:
    return st.builds(
        TxnSpec,
        gap=st.integers(0, 300),
        snap=st.integers(0, 3),
        account=st.integers(0, 5),
        portfolio=st.integers(0, 2),
        kind=st.integers(0, len(KINDS) - 1),
        whole=st.integers(1, 1000),
        thousandths=st.integers(0, 999),
        price=st.integers(25, 500),
        waiver=st.integers(0, len(WAIVERS) - 1),
        other=st.integers(0, 1),
        ratio=st.integers(0, len(EXCHANGE_RATIOS) - 1),
        issue_date=st.booleans(),
        junk=st.booleans(),
    )


@st.composite
def feed_specs(draw, min_txns: int = 5, max_txns: int = 60) -> FeedSpec:
    """The parameters of a small valid feed.

    Fixed-size parts first, variable-length lists after, the transactions last: deleting a
    transaction while shrinking then moves nothing else (and a transaction's ``gap`` moves only
    the ones after it, and the nav.csv dates, placed relative to the span).
    """
    n_portfolios = draw(st.integers(1, 3))
    per_portfolio = {"min_size": n_portfolios, "max_size": n_portfolios}
    start = draw(st.integers(0, 16 * 365))
    holder_column = draw(st.booleans())
    portfolios = tuple(draw(st.lists(_portfolio(), **per_portfolio)))
    leads = tuple(draw(st.lists(st.integers(0, 1000), **per_portfolio)))
    last_end = tuple(draw(st.lists(st.none() | st.integers(0, 400), **per_portfolio)))
    terminations = draw(st.lists(st.none() | st.integers(0, 1000), **per_portfolio))
    tenures = tuple(tuple(draw(st.lists(_tenure(), min_size=1, max_size=3))) for _ in range(n_portfolios))
    accounts = tuple(draw(st.lists(st.tuples(st.booleans(), st.integers(0, 2)), min_size=2, max_size=6)))
    navs = tuple(draw(st.lists(st.builds(
        NavSpec,
        portfolio=st.integers(0, n_portfolios - 1),
        day=st.integers(-200, 1200),
        nav_cents=st.integers(100, 10000),
        shares=st.integers(0, 2_000_000),
    ), max_size=3 * n_portfolios)))
    assignments = tuple(draw(st.lists(st.builds(
        AssignmentSpec,
        assignee=st.integers(0, len(ASSIGNEES) - 1),
        rights_holder=st.integers(0, len(RIGHTS_HOLDERS) - 1),
        portfolio=st.none() | st.integers(0, n_portfolios - 1),
        start=st.integers(0, 1000),
        length=st.none() | st.integers(0, 800),
        fee=st.integers(0, 100),
        cdsc=st.integers(0, 100),
        purchase_price=st.none() | st.integers(1, 10**7),
    ), max_size=3)))
    offsets = tuple(draw(st.lists(st.builds(
        OffsetSpec,
        rights_holder=st.integers(0, len(OFFSET_HOLDERS) - 1),
        portfolio=st.integers(0, n_portfolios - 1),
        at=st.integers(0, 1000),
        cents=st.integers(1, 300_000),
    ), max_size=3)))
    txns = tuple(draw(st.lists(_txn(), min_size=min_txns, max_size=max_txns)))
    return FeedSpec(
        start=start,
        portfolios=portfolios,
        tenures=tenures,
        leads=leads,
        last_end=last_end,
        accounts=accounts,
        navs=navs,
        txns=txns,
        assignments=assignments,
        offsets=offsets,
        plan_events=tuple(PlanEventSpec(p, at) for p, at in enumerate(terminations) if at is not None),
        holder_column=holder_column,
    )


def feeds(**kwargs) -> st.SearchStrategy[dict[str, pd.DataFrame]]:
    """Small valid feeds as raw tables (table name -> DataFrame of text)."""
    return feed_specs(**kwargs).map(build_tables)


# --------------------------------------------------------------------------- dates and numbers


def month_end(d: dt.date) -> dt.date:
    nxt = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def add_years(d: dt.date, years: int) -> dt.date:
    """The anniversary (29 February falls on 28 February in a year without one)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def dec(x: Fraction | int) -> str:
    """An exact decimal text of a fraction with a finite decimal expansion."""
    x = Fraction(x)
    d = Decimal(x.numerator) / Decimal(x.denominator)
    assert Fraction(d) == x, x
    text = format(d.normalize(), "f")
    return text


def _money(cents: int) -> str:
    return dec(Fraction(cents, 100))


# --------------------------------------------------------------------------- the holdings walk


class _Lot:
    __slots__ = ("shares", "issue", "seq", "conv", "origin")

    def __init__(self, shares: float, issue: dt.date, seq: int, conv: dt.date, origin: int):
        self.shares, self.issue, self.seq, self.conv, self.origin = shares, issue, seq, conv, origin


class _Holding:
    __slots__ = ("free", "lots")

    def __init__(self) -> None:
        self.free = 0.0
        self.lots: list[_Lot] = []

    def total(self) -> float:
        return self.free + sum(lot.shares for lot in self.lots)


class _Ledger:
    """Holdings per (account, portfolio) as RULES.md sections 3-4 move them."""

    def __init__(self, conversion_years: list[int]):
        self.years = conversion_years
        self.holdings: dict[tuple[int, int], _Holding] = {}
        self.seq = 0
        self.conversions = 0
        self.next_month_end: dt.date | None = None
        # month end -> portfolio -> ("free", total) and (origin portfolio, issue date) -> Commission Shares
        self.snapshots: dict[dt.date, dict[int, dict]] = {}

    def get(self, account: int, portfolio: int) -> _Holding:
        return self.holdings.setdefault((account, portfolio), _Holding())

    def _conversion(self, issue: dt.date, portfolio: int, arrival: dt.date) -> dt.date:
        return max(month_end(add_years(issue, self.years[portfolio])), month_end(arrival))

    def add_lot(self, h: _Holding, portfolio: int, shares: float, issue: dt.date, arrival: dt.date, origin: int) -> None:
        """A lot issued on ``issue`` in portfolio ``origin``, arriving in ``portfolio`` on ``arrival``."""
        self.seq += 1
        h.lots.append(_Lot(shares, issue, self.seq, self._conversion(issue, portfolio, arrival), origin))

    def advance(self, day: dt.date) -> None:
        """Every month end strictly before ``day``: its conversions, then a snapshot."""
        if self.next_month_end is None:
            self.next_month_end = month_end(day)
        while self.next_month_end < day:
            end = self.next_month_end
            for h in self.holdings.values():
                going = [lot for lot in h.lots if lot.conv <= end]
                if going:
                    held = sum(lot.shares for lot in h.lots)
                    leaving = sum(lot.shares for lot in going)
                    if held > TOL:
                        h.free -= h.free * leaving / held
                        if abs(h.free) <= TOL:
                            h.free = 0.0
                    h.lots = [lot for lot in h.lots if lot.conv > end]
                    self.conversions += len(going)
            snap: dict[int, dict] = {}
            for (_, p), h in self.holdings.items():
                mine = snap.setdefault(p, {"free": 0.0})
                mine["free"] += h.free
                for lot in h.lots:
                    key = (lot.origin, lot.issue)
                    mine[key] = mine.get(key, 0.0) + lot.shares
            self.snapshots[end] = snap
            self.next_month_end = month_end(end + dt.timedelta(days=1))

    def take(self, h: _Holding, n: float) -> tuple[float, list[tuple[float, dt.date, int]]]:
        """Lot relief: Free Shares first, then lots oldest issue date first (ties: created first)."""
        free = min(h.free, n)
        h.free -= free
        n -= free
        if abs(h.free) <= TOL:
            h.free = 0.0
        parts = []
        for lot in sorted(h.lots, key=lambda lot: (lot.issue, lot.seq)):
            if n <= TOL:
                break
            t = min(lot.shares, n)
            lot.shares -= t
            n -= t
            parts.append((t, lot.issue, lot.origin))
        h.lots = [lot for lot in h.lots if lot.shares > TOL]
        return free, parts


def _floor_thousandths(x: float) -> Fraction:
    return Fraction(int(x * 1000 + 1e-6), 1000)


def _taken(holding: float, permille: int) -> Fraction | None:
    """Shares to redeem: ``permille`` of the holding, in thousandths of a share, leaving either
    nothing (within float noise) or more than 1e-5 share; None when too little is held."""
    n = _floor_thousandths(holding * min(permille, 1000) / 1000)
    rest = holding - float(n)
    if 1e-9 < rest < 1e-5:
        n -= Fraction(1, 1000)
    return n if n >= Fraction(1, 1000) else None


# --------------------------------------------------------------------------- building the tables


def _txn_days(spec: FeedSpec, start: dt.date) -> list[tuple[dt.date, TxnSpec]]:
    """Each transaction's date: as drawn, or snapped (a burst after the one before, month end, 29 February)."""
    out: list[tuple[dt.date, TxnSpec]] = []
    at = 0
    for k, t in enumerate(spec.txns):
        at += t.gap if k else 0
        day = start + dt.timedelta(days=at)
        if t.snap == 1 and out:  # a burst: the same account and portfolio, the same day
            day = out[-1][0]
            t = replace(t, account=out[-1][1].account, portfolio=out[-1][1].portfolio)
        elif t.snap == 2:
            day = month_end(day)
        elif t.snap == 3 and day.year % 4 == 0:
            day = dt.date(day.year, 2, 29)
        out.append((day, t))
    return out


def _frame(rows: list[dict[str, str]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([[row.get(c, "") for c in columns] for row in rows], columns=columns, dtype=str)


@dataclass(frozen=True)
class Model:
    """What the strategy's own walk of the holdings expects at each month end (after its
    conversions), independently of the engine: Commission Shares by portfolio and lot rights
    holder (the tenure serving the purchase portfolio on the purchase date), Free Shares by
    portfolio (ordinary and omnibus accounts together)."""

    commission: dict[tuple[dt.date, str, str], float]
    free: dict[tuple[dt.date, str], float]
    conversions: int

    def outstanding(self, month: dt.date, portfolio: str) -> float:
        return self.free.get((month, portfolio), 0.0) + sum(
            v for (m, p, _), v in self.commission.items() if m == month and p == portfolio
        )


def build_tables(spec: FeedSpec) -> dict[str, pd.DataFrame]:
    """The feed of ``spec``: table name -> DataFrame of text (as read from CSV)."""
    return build_feed(spec)[0]


def feeds_with_model(**kwargs) -> st.SearchStrategy[tuple[dict[str, pd.DataFrame], Model]]:
    """Small valid feeds with what an independent walk of their lots expects."""
    return feed_specs(**kwargs).map(build_feed)


def build_feed(spec: FeedSpec) -> tuple[dict[str, pd.DataFrame], Model]:
    """The feed of ``spec`` (table name -> DataFrame of text, as read from CSV) and its :class:`Model`."""
    n_p = len(spec.portfolios)
    pids = [f"P{i + 1}" for i in range(n_p)]
    n_a = len(spec.accounts)
    aids = [f"AC{i + 1:02d}" for i in range(n_a)]
    start = FIRST_DAY + dt.timedelta(days=spec.start)
    years = [p.conversion_years or 8 for p in spec.portfolios]

    # portfolios.csv
    rows = []
    for pid, p in zip(pids, spec.portfolios, strict=True):
        rows.append({
            "portfolio_id": pid,
            "name": f"Portfolio {pid}",
            "fund": "AIM FUNDS GROUP" if not p.schedule_a2 else "INVESCO STOCK FUNDS",
            "schedule": "A-2" if p.schedule_a2 else "A-1",
            "distribution_fee_rate": "" if p.distribution_fee_rate is None else dec(Fraction(p.distribution_fee_rate, 100000)),
            "service_fee_rate": "" if p.service_fee_rate is None else dec(Fraction(p.service_fee_rate, 100000)),
            "cdsc_schedule": "" if p.cdsc_schedule is None else ";".join(str(x) for x in p.cdsc_schedule),
            "conversion_years": "" if p.conversion_years is None else f"{p.conversion_years}{'.0' if p.years_as_float else ''}",
        })
    portfolios = _frame(rows, ["portfolio_id", "name", "fund", "schedule", "distribution_fee_rate",
                               "service_fee_rate", "cdsc_schedule", "conversion_years"])

    # accounts.csv
    spell = {True: ("true", "TRUE", "True"), False: ("false", "FALSE", "False")}
    rows = [{"account_id": a, "omnibus": spell[om][s % 3], "holder": f"Holder of {a}"} for a, (om, s) in zip(aids, spec.accounts, strict=True)]
    accounts = _frame(rows, ["account_id", "omnibus"] + (["holder"] if spec.holder_column else []))

    # transactions.csv, walking the holdings
    ledger = _Ledger(years)
    rows = []
    n_ex = 0
    for day, t in sorted(_txn_days(spec, start), key=lambda dt_: dt_[0]):  # stable: ties keep the drawn order
        ledger.advance(day)
        a, p = t.account % n_a, t.portfolio % n_p
        kind = KINDS[t.kind]
        if kind in ("redeem", "exchange") and ledger.get(a, p).total() < 0.002:  # from something held, if anything
            held = sorted(k for k, h in ledger.holdings.items() if h.total() >= 0.002)
            if held:
                a, p = held[(t.account * 3 + t.portfolio) % len(held)]
        h = ledger.get(a, p)
        price_cents = 20 * t.price
        base = {"date": day.isoformat(), "portfolio_id": pids[p], "account_id": aids[a], "price": _money(price_cents)}
        taken = None
        if kind in ("redeem", "exchange"):
            taken = _taken(h.total(), t.whole)
            if taken is None or (kind == "exchange" and n_p < 2):
                kind = "purchase"
        if kind in ("purchase", "reinvest", "nav_purchase"):
            shares = Fraction(t.whole * 1000 + t.thousandths, 1000)
            row = {**base, "kind": kind, "shares": dec(shares)}
            if kind == "purchase":
                ledger.add_lot(h, p, float(row["shares"]), day, day, p)
                if t.issue_date:
                    row["issue_date"] = day.isoformat()
                if t.junk:
                    row["exchange_id"] = "X-IGNORED"
            else:
                h.free += float(row["shares"])
                if t.junk:
                    row["issue_date"] = "not-a-date"
                    row["waiver"] = "death"
            rows.append(row)
        elif kind == "redeem":
            ledger.take(h, float(taken))
            row = {**base, "kind": "redeem", "shares": dec(taken), "waiver": WAIVERS[t.waiver]}
            if t.junk:
                row["issue_date"] = "1999-01-01"
                row["exchange_id"] = "X-IGNORED"
            rows.append(row)
        else:  # an exchange into another portfolio of the same account, the same day
            q = (p + 1 + t.other % (n_p - 1)) % n_p
            ratio = EXCHANGE_RATIOS[t.ratio]
            n_ex += 1
            xid = f"X{n_ex}"
            free, parts = ledger.take(h, float(taken))
            in_shares = taken * ratio
            in_price = Fraction(price_cents, 100) / ratio
            rows.append({**base, "kind": "exchange_out", "shares": dec(taken), "exchange_id": xid,
                         **({"waiver": "swp"} if t.junk else {})})
            rows.append({**base, "portfolio_id": pids[q], "kind": "exchange_in", "shares": dec(in_shares),
                         "price": dec(in_price), "exchange_id": xid})
            g = ledger.get(a, q)
            scale = float(in_shares) / float(taken)
            g.free += free * scale
            for shares, issue, origin in parts:
                ledger.add_lot(g, q, shares * scale, issue, day, origin)
    for i, row in enumerate(rows):
        row["txn_id"] = f"T{i + 1:03d}"
    tx_columns = ["txn_id", "date", "portfolio_id", "account_id", "kind", "shares", "price", "issue_date", "exchange_id", "waiver"]
    transactions = _frame(rows, tx_columns)

    # nav.csv: dates around the transactions' span
    span = max(1, sum(t.gap for t in spec.txns[1:]))
    rows, seen = [], set()
    for n in spec.navs:
        p = n.portfolio % n_p
        day = start + dt.timedelta(days=span * n.day // 1000)
        if (p, day) in seen:
            continue
        seen.add((p, day))
        rows.append({"portfolio_id": pids[p], "date": day.isoformat(), "nav": _money(n.nav_cents), "shares": str(n.shares)})
    nav = _frame(rows, ["portfolio_id", "date", "nav", "shares"])

    # the feed's months
    dates = [dt.date.fromisoformat(d) for d in list(transactions["date"]) + list(nav["date"])]
    first_month = min(dates).replace(day=1)
    last_me = month_end(max(dates))
    months_days = (last_me - first_month).days
    ledger.advance(last_me + dt.timedelta(days=1))
    transactions.attrs["conversions"] = ledger.conversions  # statistics only: lots converted in the feed

    def in_months(at: int) -> dt.date:
        return first_month + dt.timedelta(days=months_days * at // 1000)

    # tenures.csv
    rows = []
    serving: dict[int, list[tuple[dt.date, str]]] = {}
    for p, pid in enumerate(pids):
        mine = [dt.date.fromisoformat(d) for d, q in zip(list(transactions["date"]) + list(nav["date"]),
                                                        list(transactions["portfolio_id"]) + list(nav["portfolio_id"]), strict=True) if q == pid]
        first = min(mine) if mine else start
        t0 = first - dt.timedelta(days=spec.leads[p])
        reach = (last_me - t0).days
        traded = sorted(dt.date.fromisoformat(d) for d, q in zip(transactions["date"], transactions["portfolio_id"], strict=True) if q == pid)
        starts, chosen = [t0], [spec.tenures[p][0]]
        for ten in spec.tenures[p][1:]:
            if ten.on_txn and traded and ten.cut <= 1000:
                s = traded[(len(traded) - 1) * ten.cut // 1000] + dt.timedelta(days=ten.cut % 2)
            else:
                s = t0 + dt.timedelta(days=max(1, reach * ten.cut // 1000))
            if s > starts[-1]:
                starts.append(s)
                chosen.append(ten)
            # else: dropped (the starts are kept increasing)
        previous = None
        for k, (ten, s) in enumerate(zip(chosen, starts, strict=True)):
            if k + 1 < len(starts):
                end = (starts[k + 1] - dt.timedelta(days=1)).isoformat()
            elif spec.last_end[p] is None:
                end = ""
            else:
                end = (max(last_me, s) + dt.timedelta(days=spec.last_end[p])).isoformat()
            if previous is None:
                rh = RIGHTS_HOLDERS[ten.rights_holder]
            elif ten.rights_holder == 2:
                rh = previous
            else:
                others = [h for h in RIGHTS_HOLDERS if h != previous]
                rh = others[ten.rights_holder]
            previous = rh
            serving.setdefault(p, []).append((s, rh))
            if ten.distributor == 0:
                dist, rh_text = rh, (rh if ten.explicit else "")
            else:
                dist = DISTRIBUTORS[ten.distributor - 1]
                dist, rh_text = (dist, rh) if dist != rh else (dist, rh if ten.explicit else "")
            rows.append({"portfolio_id": pid, "distributor": dist, "start_date": s.isoformat(), "end_date": end, "rights_holder": rh_text})
    tenures = _frame(rows, ["portfolio_id", "distributor", "start_date", "end_date", "rights_holder"])

    # assignments.csv: each rights holder's fractions, all assignments together, add up to <= 1
    rows = []
    used: dict[tuple[str, str], int] = {}
    for i, s in enumerate(spec.assignments):
        rh = RIGHTS_HOLDERS[s.rights_holder]
        assignee = ASSIGNEES[s.assignee]
        if assignee == rh:
            assignee = "FIN"
        fee = min(s.fee, 100 - used.get((rh, "fee"), 0))
        cdsc = min(s.cdsc, 100 - used.get((rh, "cdsc"), 0))
        used[(rh, "fee")] = used.get((rh, "fee"), 0) + fee
        used[(rh, "cdsc")] = used.get((rh, "cdsc"), 0) + cdsc
        begin = first_month - dt.timedelta(days=31) + dt.timedelta(days=(months_days + 31) * s.start // 1000)
        rows.append({
            "assignment_id": f"AS{i + 1}",
            "assignee": assignee,
            "rights_holder": rh,
            "portfolio_id": "" if s.portfolio is None else pids[s.portfolio % n_p],
            "start_date": begin.isoformat(),
            "end_date": "" if s.length is None else (begin + dt.timedelta(days=s.length)).isoformat(),
            "fee_fraction": dec(Fraction(fee, 100)),
            "cdsc_fraction": dec(Fraction(cdsc, 100)),
            "purchase_price": "" if s.purchase_price is None else _money(s.purchase_price),
        })
    assignments = (_frame(rows, ["assignment_id", "assignee", "rights_holder", "portfolio_id", "start_date", "end_date",
                                 "fee_fraction", "cdsc_fraction", "purchase_price"]) if rows else pd.DataFrame())

    rows = [{"date": in_months(o.at).isoformat(), "rights_holder": OFFSET_HOLDERS[o.rights_holder],
             "portfolio_id": pids[o.portfolio % n_p], "amount": _money(o.cents)} for o in spec.offsets]
    offsets = _frame(rows, ["date", "rights_holder", "portfolio_id", "amount"]) if rows else pd.DataFrame()

    rows = [{"portfolio_id": pids[e.portfolio % n_p], "date": in_months(e.at).isoformat(), "kind": "complete_termination"}
            for e in spec.plan_events]
    plan_events = _frame(rows, ["portfolio_id", "date", "kind"]) if rows else pd.DataFrame()

    def rights_holder(p: int, day: dt.date) -> str:  # the tenure serving; before the first, the first's
        chain = serving[p]
        return [rh for s, rh in chain if s <= day][-1] if chain[0][0] <= day else chain[0][1]

    commission: dict[tuple[dt.date, str, str], float] = {}
    free: dict[tuple[dt.date, str], float] = {}
    for end, snap in ledger.snapshots.items():
        for p, held in snap.items():
            free[(end, pids[p])] = free.get((end, pids[p]), 0.0) + held["free"]
            for key, shares in held.items():
                if key != "free":
                    origin, issue = key
                    k = (end, pids[p], rights_holder(origin, issue))
                    commission[k] = commission.get(k, 0.0) + shares
    model = Model(commission, free, ledger.conversions)

    return {
        "portfolios": portfolios,
        "tenures": tenures,
        "accounts": accounts,
        "nav": nav,
        "transactions": transactions,
        "assignments": assignments,
        "offsets": offsets,
        "plan_events": plan_events,
    }, model


# --------------------------------------------------------------------------- transformations


def to_csv_text(raw: dict[str, pd.DataFrame]) -> str:
    """The feed as CSV text, one file after another (for reports of failing examples)."""
    out = []
    for name, frame in raw.items():
        if frame is None or len(frame.columns) == 0:
            continue
        out.append(f"--- {name}.csv\n" + frame.to_csv(index=False, lineterminator="\n"))
    return "\n".join(out)


def write_feed(raw: dict[str, pd.DataFrame], folder) -> None:
    """Write the raw tables as a feed folder (missing optional tables left out)."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in raw.items():
        if frame is None or len(frame.columns) == 0:
            continue
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")


def _scale_text(values: pd.Series, factor: int) -> pd.Series:
    return values.map(lambda v: v if v == "" else dec(Fraction(Decimal(v)) * factor))


def scale_columns(raw: dict[str, pd.DataFrame], columns: dict[str, list[str]], factor: int) -> dict[str, pd.DataFrame]:
    """A copy of the feed with the named columns multiplied by ``factor`` (exactly, in decimal)."""
    out = {}
    for name, frame in raw.items():
        frame = frame.copy()
        for col in columns.get(name, []):
            if col in frame.columns:
                frame[col] = _scale_text(frame[col], factor)
        out[name] = frame
    return out


def shuffled(raw: dict[str, pd.DataFrame], rng, columns: bool = True) -> dict[str, pd.DataFrame]:
    """A copy of the feed with the rows (and the column order) of every table shuffled."""
    out = {}
    for name, frame in raw.items():
        if len(frame.columns) == 0:
            out[name] = frame
            continue
        order = list(range(len(frame)))
        rng.shuffle(order)
        frame = frame.iloc[order].reset_index(drop=True)
        if columns:
            cols = list(frame.columns)
            rng.shuffle(cols)
            frame = frame[cols]
        out[name] = frame
    return out


def renamed_accounts(raw: dict[str, pd.DataFrame], mapping: dict[str, str]) -> dict[str, pd.DataFrame]:
    """A copy of the feed with every account_id renamed by ``mapping``."""
    out = {}
    for name, frame in raw.items():
        frame = frame.copy()
        if "account_id" in frame.columns:
            frame["account_id"] = frame["account_id"].map(lambda a: mapping.get(a, a))
        out[name] = frame
    return out
