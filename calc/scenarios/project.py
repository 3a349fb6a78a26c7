"""The deterministic projection: the Monthly Calculation continued from a month-end state,
with the model's flows written as synthetic transactions and NAVs and run through the same
engine (``calc.monthly.compute(feed, opening=state)``), so that a projection and the
actuals can never disagree on a rule.

Each projected month ``t`` (after the state's month end):

- a NAV row per portfolio on the 1st: the NAV grows by the drift (a market shock
  multiplies it from its date, on a row of its own), the shares are the projected shares
  outstanding at the month end before (net assets = shares outstanding x NAV), times the
  ratio of fund accounting's shares to the feed's at the start (1 when the feed holds
  every share, as the sample does);
- Commission Share sales on the 10th: the month's sales dollars at the NAV, into an
  account of their own per portfolio and issue month (``SCN-<portfolio>-<YYYYMM>``), a
  cohort whose shares the engine traces like any other; NAV purchases into
  ``SCN-<portfolio>-NAV``; none after a sales suspension;
- redemptions on the 20th: each account redeems, of each portfolio, its Commission lots
  times the monthly rate of their year held plus its Free Shares times the Free Share rate
  (the redemption curve by asset class, scaled, shocked); a stable draw waives the CDSC
  of a ``waiver_rate`` share of the redemptions; the engine relieves them by its rules;
- reinvested dividends on the 25th of each quarter's last month: the yield over four,
  of every holding.

Conversions to Class A happen in the engine at month ends; the model's own tracking of
holdings (to size the redemptions and the NAV rows) uses the same lot kernels
(``calc.rules.lots``).  Events change the reference tables: a distributor termination
ends the serving tenure and opens the successor's; a Complete Termination is a plan
event; a Plan amendment (EIGHTH (E)) blends the portfolio's Distribution Fee rate each
month by the shares issued before and after its date.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calc.calendar import month_end_of_index, month_index
from calc.engine.state import MonthEndState
from calc.feed import Feed
from calc.monthly import compute
from calc.report import MonthlyCalculation
from calc.rules import lots as L
from calc.rules.cdsc import years_held
from calc.scenarios.calibrate import ALL, Calibration
from calc.scenarios.spec import Event, Scenario
from calc.vocabulary import (
    COMPLETE_TERMINATION,
    NAV_PURCHASE,
    PURCHASE,
    REDEEM,
    REINVEST,
    SHARE_TOLERANCE,
)

MIN_SHARES = 0.001  # smaller flows are left out
PURCHASE_DAY, REDEEM_DAY, DIVIDEND_DAY = 10, 20, 25
WAIVER_CODE = "model"
Progress = Callable[..., None]


@dataclass(frozen=True)
class Flows:
    """The assumptions resolved per portfolio: calibrated defaults, then the scenario's values."""

    sales: dict[str, float]  # dollars a month
    nav_sales: dict[str, float]
    dividend_yield: dict[str, float]  # a year
    redemption_by_year: dict[str, np.ndarray]  # per portfolio: annual rate by year held 1..
    free_redemption: dict[str, float]  # per portfolio, annual
    waiver_rate: float
    drift: dict[str, float]  # per portfolio, a year
    volatility: dict[str, float]
    asset_class: dict[str, str]


def resolve(calibration: Calibration, scenario: Scenario) -> Flows:
    """Each assumption: the scenario's value where it sets one, else the calibrated default."""
    a = scenario.assumptions
    ports = sorted(calibration.asset_class)
    cls = calibration.asset_class

    def market(p: str, key: str) -> float:
        by_class = a.by_asset_class.get(cls[p])
        if by_class is not None and getattr(by_class, key) is not None:
            return float(getattr(by_class, key))
        if getattr(a, key) is not None:
            return float(getattr(a, key))
        return float(getattr(calibration, key)[cls[p]])

    return Flows(
        sales={p: a.sales_scale * calibration.sales.get(p, 0.0) for p in ports},
        nav_sales={p: a.nav_sales_scale * calibration.nav_sales.get(p, 0.0) for p in ports},
        dividend_yield={p: (a.dividend_yield if a.dividend_yield is not None else calibration.dividend_yield.get(p, 0.0))
                        for p in ports},
        redemption_by_year={p: a.redemption_scale * calibration.redemption_by_year[cls[p]] for p in ports},
        free_redemption={p: a.redemption_scale * calibration.free_redemption[cls[p]] for p in ports},
        waiver_rate=a.waiver_rate if a.waiver_rate is not None else calibration.waiver_rate,
        drift={p: market(p, "drift") for p in ports},
        volatility={p: market(p, "volatility") for p in ports},
        asset_class=dict(cls),
    )


def monthly_rate(annual: float | np.ndarray) -> float | np.ndarray:
    """A rate a year as the rate a month that compounds to it."""
    return 1.0 - np.power(1.0 - np.minimum(annual, 1.0), 1.0 / 12.0)


def _waived(account: str, month: int, rate: float) -> bool:
    """Whether an account's redemption in a month has its CDSC waived: a stable draw (the same
    account and month always draw alike), true for a ``rate`` share of redemptions."""
    if rate <= 0.0:
        return False
    digest = hashlib.blake2b(f"{account}|{month}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < rate


@functools.lru_cache(maxsize=1 << 20)
def _years_held(issue_day: int, day: int) -> int:
    return years_held(issue_day, day)


def _day(ts: pd.Timestamp) -> int:
    return int(np.datetime64(pd.Timestamp(ts), "D").astype(np.int64))


def _date(year: int, month: int, day: int) -> pd.Timestamp:
    return pd.Timestamp(year=year, month=month, day=min(day, pd.Timestamp(year=year, month=month, day=1).days_in_month))


def apply_events_to_tables(feed: Feed, events: list[Event]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tenures and plan events a scenario's events make (FIFTEENTH (A), (B))."""
    tenures = feed.tenures.copy()
    plan = feed.plan_events.copy()
    for e in sorted(events, key=lambda e: e.date):
        if e.type == "distributor_termination":
            rows = []
            for pid, t in tenures.groupby("portfolio_id", sort=False):
                if not e.covers(pid):
                    rows.append(t)
                    continue
                t = t[t["start_date"] <= e.date].copy()
                last = t["start_date"].idxmax()
                t.loc[last, "end_date"] = e.date if pd.isna(t.loc[last, "end_date"]) else min(t.loc[last, "end_date"], e.date)
                new = pd.DataFrame([{"portfolio_id": pid, "distributor": e.successor,
                                     "start_date": e.date + pd.Timedelta(days=1), "end_date": pd.NaT,
                                     "rights_holder": e.successor}])
                rows.append(pd.concat([t, new.astype(t.dtypes.to_dict(), errors="ignore")], ignore_index=True))
            tenures = pd.concat(rows, ignore_index=True).sort_values(["portfolio_id", "start_date"], kind="stable")
        elif e.type == "complete_termination":
            ids = [p for p in feed.portfolios["portfolio_id"] if e.covers(p)]
            plan = pd.concat([plan, pd.DataFrame({"portfolio_id": ids, "date": e.date, "kind": COMPLETE_TERMINATION})],
                             ignore_index=True)
    return tenures.reset_index(drop=True), plan.reset_index(drop=True)


class _Tracker:
    """The model's own view of every holding, kept with the engine's lot kernels, to size
    redemptions and dividends and to give each month's shares outstanding."""

    def __init__(self, state: MonthEndState, omnibus: set[str]):
        self.positions: dict[tuple[str, str], L.Position] = {}
        self.seq: dict[str, int] = dict(zip(state.accounts["account_id"], state.accounts["next_seq"].astype(int),
                                             strict=True))
        conv = month_index(state.lots["conversion_month_end"].to_numpy().astype("datetime64[D]"))
        issue = state.lots["issue_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
        for k, (a, p, sh, cost, h, seq) in enumerate(state.lots[["account_id", "portfolio_id", "shares", "cost",
                                                                  "rights_holder", "seq"]].itertuples(index=False)):
            self.position(a, p, a in omnibus).lots.append([float(sh), int(issue[k]), float(cost), h, int(seq),
                                                           int(conv[k])])
        for a, p, h, sh in state.free_shares[["account_id", "portfolio_id", "rights_holder", "shares"]].itertuples(
                index=False):
            self.position(a, p, False).free[h] = float(sh)
        for a, p, f in state.omnibus_positions[["account_id", "portfolio_id", "free_shares"]].itertuples(index=False):
            self.position(a, p, True).free = float(f)

    def position(self, account: str, portfolio: str, omnibus: bool = False) -> L.Position:
        key = (account, portfolio)
        pos = self.positions.get(key)
        if pos is None:
            pos = self.positions[key] = L.Position(omnibus)
        return pos

    def schedule(self) -> None:
        """Index every position with lots by the month of its next conversion."""
        self.due: dict[int, set[tuple[str, str]]] = {}
        for key, pos in self.positions.items():
            self._schedule(key, pos)

    def _schedule(self, key: tuple[str, str], pos: L.Position) -> None:
        m = L.next_conversion(pos)
        if m is not None:
            self.due.setdefault(m, set()).add(key)

    def add_lot(self, key: tuple[str, str], lot: list) -> None:
        pos = self.position(*key)
        L.insert_lot(pos.lots, lot)
        self.due.setdefault(lot[L.CONVERSION], set()).add(key)

    def convert(self, month: int) -> None:
        """Conversions to Class A at the end of ``month`` (and any month before still due)."""
        for m in sorted(m for m in self.due if m <= month):
            for key in sorted(self.due.pop(m)):
                pos = self.positions.get(key)
                if pos is None:
                    continue
                if pos.lots and L.next_conversion(pos) <= month:
                    L.convert_due(pos, month)
                self._schedule(key, pos)  # its next conversion (lots redeemed since may have moved it)
                self.prune(key, pos)

    def prune(self, key: tuple[str, str], pos: L.Position) -> None:
        """A position left with nothing is dropped: no flow can come from it."""
        if not pos.lots and pos.free_total() <= SHARE_TOLERANCE:
            del self.positions[key]

    def outstanding(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for (_, p), pos in self.positions.items():
            out[p] = out.get(p, 0.0) + pos.commission_total() + pos.free_total()
        return out

    def next_seq(self, account: str) -> int:
        s = self.seq.get(account, 0)
        self.seq[account] = s + 1
        return s


def _issued_around(tracker: _Tracker, day: int) -> tuple[dict[str, float], dict[str, float]]:
    """Per portfolio, the shares issued after ``day`` and those issued on or before it
    (EIGHTH (E)).  Commission Shares by their issue date; Free Shares with their account:
    after, in a projected account that holds only shares issued after (a sales cohort opened
    after the day, or the NAV-sale account opened after an amendment), else before."""
    after: dict[str, float] = {}
    before: dict[str, float] = {}
    for (a, p), pos in tracker.positions.items():
        new = sum(lot[L.SHARES] for lot in pos.lots if lot[L.ISSUE] > day)
        old = pos.commission_total() - new
        if a.startswith("SCN-") and old == 0.0 and (new > 0 or a.endswith("NAV2")):
            new += pos.free_total()
        else:
            old += pos.free_total()
        after[p] = after.get(p, 0.0) + new
        before[p] = before.get(p, 0.0) + old
    return after, before


@dataclass
class Projection:
    """A deterministic projection: the synthetic continuation feed and its calculation."""

    feed: Feed
    calculation: MonthlyCalculation
    state: MonthEndState | None
    months: np.ndarray  # month indices projected
    distribution_fee_rates: dict[tuple[str, int], float]


def project(feed: Feed, state: MonthEndState, scenario: Scenario, flows: Flows,
            progress: Progress | None = None) -> Projection:
    """Write the scenario's months as a continuation feed and compute it from ``state``."""
    say = progress or (lambda *a, **k: None)
    synthetic, rates = synthetic_feed(feed, state, scenario, flows, progress)
    say(f"projection: {len(synthetic.transactions):,} projected transactions through the engine")
    calc, end_state = compute(synthetic, opening=state, through=month_end_of_index(
        month_index(np.array([state.month_end], dtype="datetime64[D]")) + scenario.horizon_months)[0],
        distribution_fee_rates=rates or None)
    first = int(month_index(np.array([state.month_end], dtype="datetime64[D]"))[0]) + 1
    return Projection(synthetic, calc, end_state, np.arange(first, first + scenario.horizon_months), rates)


def synthetic_feed(feed: Feed, state: MonthEndState, scenario: Scenario, flows: Flows,
                   progress: Progress | None = None) -> tuple[Feed, dict[tuple[str, int], float]]:
    """The continuation feed of the projected months, and the blended Distribution Fee rates
    of any Plan amendment."""
    events = scenario.events
    tenures, plan_events = apply_events_to_tables(feed, events)
    ports = sorted(feed.portfolios["portfolio_id"])
    base_rate = dict(zip(feed.portfolios["portfolio_id"], feed.portfolios["distribution_fee_rate"], strict=True))
    conv_years = dict(zip(feed.portfolios["portfolio_id"], feed.portfolios["conversion_years"].astype(int), strict=True))
    omnibus = set(feed.accounts.loc[feed.accounts["omnibus"], "account_id"])
    tracker = _Tracker(state, omnibus)
    tracker.schedule()
    starts: dict[str, list[pd.Timestamp]] = {}
    holders: dict[str, list[str]] = {}
    for pid, t in tenures.sort_values("start_date").groupby("portfolio_id"):
        starts[pid], holders[pid] = list(t["start_date"]), list(t["rights_holder"])

    def serving(p: str, day: pd.Timestamp) -> str:
        """The rights holder of the tenure serving ``day`` (before the first: the first's)."""
        return holders[p][max(bisect.bisect_right(starts[p], day) - 1, 0)]

    nav = state.last_nav.set_index("portfolio_id")["nav"].to_dict()
    # Fund accounting's shares over the feed's accounts' at the start (1 where the feed holds
    # every share, as the sample does): net assets follow the projected shares outstanding.
    held_at_start = tracker.outstanding()
    nav_shares = state.last_nav.set_index("portfolio_id")["shares"].to_dict()
    coverage = {p: (nav_shares[p] / held_at_start[p] if held_at_start.get(p, 0.0) > SHARE_TOLERANCE else 1.0)
                for p in nav_shares}
    start_month = int(month_index(np.array([state.month_end], dtype="datetime64[D]"))[0])
    shocks = [e for e in events if e.type == "market_shock"]
    red_shocks = [e for e in events if e.type == "redemption_shock"]
    suspensions = [e for e in events if e.type == "sales_suspension"]
    amendments = sorted((e for e in events if e.type == "plan_amendment"), key=lambda e: e.date)
    growth = {p: (1.0 + flows.drift[p]) ** (1.0 / 12.0) for p in ports}
    red_monthly = {p: monthly_rate(flows.redemption_by_year[p]) for p in ports}
    free_monthly = {p: float(monthly_rate(flows.free_redemption[p])) for p in ports}
    w = flows.waiver_rate

    tx_rows: list[tuple] = []
    nav_rows: list[tuple] = []
    new_accounts: list[str] = []
    rates: dict[tuple[str, int], float] = {}
    serial = 0

    def txn(date, p, a, kind, n, price, waiver=""):
        nonlocal serial
        serial += 1
        tx_rows.append((f"S{serial:09d}", date, p, a, kind, n, price, waiver))

    for step in range(1, scenario.horizon_months + 1):
        month = start_month + step
        year, mon = divmod(month, 12)
        mon += 1
        first_day = _date(year, mon, 1)
        tracker.convert(month - 1)  # the engine converted them at the month end before
        held = tracker.outstanding()
        for p in ports:
            if p in nav:
                nav[p] *= growth[p]
                nav_rows.append((p, first_day, round(nav[p], 6), round(held.get(p, 0.0) * coverage[p], 6)))
        for e in shocks:
            if e.date.year == year and e.date.month == mon:
                for p in ports:
                    if p in nav and e.covers(p):
                        nav[p] *= 1.0 + float(e.return_)
                        nav_rows.append((p, e.date, round(nav[p], 6), round(held.get(p, 0.0) * coverage[p], 6)))
        nav_on = {p: v for p, v in nav.items()}  # the NAV in force mid-month (after any shock)

        # Plan amendment: the month's rate, blended by shares issued before and after the date
        for e in amendments:
            if first_day > e.date:
                after, before = _issued_around(tracker, _day(e.date))
                for p in ports:
                    if e.covers(p) and after.get(p, 0.0) > 0:
                        b, a = before.get(p, 0.0), after[p]
                        rates[(p, month)] = (base_rate[p] * b + float(e.rate) * a) / (a + b)

        # Sales on the 10th
        buy_day = _date(year, mon, PURCHASE_DAY)
        for p in ports:
            if p not in nav_on or any(e.covers(p) and buy_day >= e.date for e in suspensions):
                continue
            price = round(nav_on[p], 6)
            n = math.floor(flows.sales[p] / price * 1000) / 1000 if price > 0 else 0.0
            if n >= MIN_SHARES:
                a = f"SCN-{p}-{year:04d}{mon:02d}"
                new_accounts.append(a)
                txn(buy_day, p, a, PURCHASE, n, price)
                tracker.add_lot((a, p), [n, _day(buy_day), n * price, serving(p, buy_day), tracker.next_seq(a),
                                         month + 12 * conv_years[p]])
            n = math.floor(flows.nav_sales[p] / price * 1000) / 1000 if price > 0 else 0.0
            if n >= MIN_SHARES:
                amended = any(e.covers(p) and buy_day > e.date for e in amendments)
                a = f"SCN-{p}-NAV2" if amended else f"SCN-{p}-NAV"
                if a not in new_accounts:
                    new_accounts.append(a)
                txn(buy_day, p, a, NAV_PURCHASE, n, price)
                pos = tracker.position(a, p)
                L.add_free(pos.free, L.issue_split(pos, n, serving(p, buy_day)))

        # Redemptions on the 20th
        red_day = _date(year, mon, REDEEM_DAY)
        d = _day(red_day)
        scale = 1.0
        for e in red_shocks:
            first_shock = int(month_index(np.array([e.date], dtype="datetime64[D]"))[0])
            if first_shock <= month < first_shock + int(e.months):
                scale *= float(e.multiplier)
        for (a, p), pos in list(tracker.positions.items()):
            if p not in nav_on:
                continue
            rates_p = red_monthly[p]
            want = pos.free_total() * min(free_monthly[p] * scale, 1.0)
            for lot in pos.lots:
                k = _years_held(lot[L.ISSUE], d)
                want += lot[L.SHARES] * min((rates_p[k - 1] if k <= len(rates_p) else rates_p[-1]) * scale, 1.0)
            held_here = pos.free_total() + pos.commission_total()
            n = min(math.floor(want * 1e6) / 1e6, math.floor(held_here * 1e6) / 1e6)
            if n < MIN_SHARES:
                continue
            price = round(nav_on[p], 6)
            n = round(n, 6)
            txn(red_day, p, a, REDEEM, n, price, WAIVER_CODE if _waived(a, month, w) else "")
            L.relieve(pos, n)
            tracker.prune((a, p), pos)

        # Reinvested dividends on the 25th of a quarter's last month
        if mon % 3 == 0:
            div_day = _date(year, mon, DIVIDEND_DAY)
            for (a, p), pos in list(tracker.positions.items()):
                y = flows.dividend_yield.get(p, 0.0)
                held_here = pos.free_total() + pos.commission_total()
                n = math.floor(held_here * y / 4.0 * 1e6) / 1e6
                if n < MIN_SHARES or p not in nav_on:
                    continue
                txn(div_day, p, a, REINVEST, n, round(nav_on[p], 6))
                if pos.omnibus:
                    pos.free += n
                else:
                    L.add_free(pos.free, L.issue_split(pos, n, serving(p, div_day)))
        if progress is not None and (step % 12 == 0 or step == scenario.horizon_months):
            progress("projection: months written", step, scenario.horizon_months)

    transactions = pd.DataFrame(tx_rows, columns=["txn_id", "date", "portfolio_id", "account_id", "kind", "shares",
                                                  "price", "waiver"])
    transactions["issue_date"] = transactions["date"].where(transactions["kind"] == PURCHASE)
    transactions["exchange_id"] = ""
    transactions["line"] = np.arange(2, len(transactions) + 2, dtype=np.int64)
    transactions = transactions[list(feed.transactions.columns)]
    for col in ("date", "issue_date"):
        transactions[col] = pd.to_datetime(transactions[col]).astype("datetime64[ns]")
    nav_frame = pd.DataFrame(nav_rows, columns=["portfolio_id", "date", "nav", "shares"])
    nav_frame["date"] = pd.to_datetime(nav_frame["date"]).astype("datetime64[ns]")
    accounts = pd.concat([feed.accounts, pd.DataFrame({"account_id": sorted(set(new_accounts)), "omnibus": False,
                                                       "holder": "projected"})], ignore_index=True)
    synthetic = dataclasses.replace(
        feed, tenures=tenures, plan_events=plan_events, accounts=accounts, transactions=transactions.reset_index(drop=True),
        nav=nav_frame, opening_month_end=state.month_end, source=f"projection of {feed.source}",
    )
    return synthetic, rates


__all__ = ["ALL", "Flows", "Projection", "apply_events_to_tables", "monthly_rate", "project", "resolve",
           "synthetic_feed"]
