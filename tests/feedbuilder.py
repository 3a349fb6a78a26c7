"""A tiny DSL that writes a feed folder (RULES.md section 2) from Python and runs it.

    fb = FeedBuilder()
    fb.portfolio("P", cdsc_schedule="4;2")          # optional: defaults otherwise
    fb.tenure("P", "ADI", "2000-01-01", "2020-02-14")
    fb.tenure("P", "OD1", "2020-02-15")
    fb.nav("P", "2020-01-01", 10, 1_000_000)
    fb.buy("2020-01-06", 100, price=10, p="P", a="OR")
    fb.redeem("2020-02-03", 40, price=10, waiver="death")
    calc = fb.run(tmp_path)                          # read_feed + monthly_calculation

Defaults, so a test only writes what its rule needs:

- a portfolio named anywhere (tenure, nav, transaction...) and not declared
  gets a row with schedule A-1 and every optional column empty (the rulebook
  defaults: 0.0075, 0.0025, ``5;4;3;3;2;1``, 8 years);
- a portfolio without a tenure gets one: ADI from 2000-01-01, open;
- an account named in a transaction and not declared is created, omnibus when
  its id starts with ``OM``;
- transaction ids are ``T0001``, ``T0002``, ... in the order written, so that
  their text order is the order of the calls;
- ``assignments``, ``offsets`` and ``plan_events`` files are written only
  when the test adds a row to them.

Lookups on the result: ``one(frame, **filters)`` (exactly one row, as a
Series), ``rows(frame, **filters)`` (every matching row); dates may be given
as ``"YYYY-MM-DD"`` strings.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pandas as pd

from calc.feed import read_feed
from calc.monthly import monthly_calculation
from calc.report import MonthlyCalculation

COLUMNS = {
    "portfolios": ["portfolio_id", "name", "fund", "schedule", "distribution_fee_rate", "service_fee_rate",
                   "cdsc_schedule", "conversion_years"],
    "tenures": ["portfolio_id", "distributor", "start_date", "end_date", "rights_holder"],
    "accounts": ["account_id", "omnibus"],
    "nav": ["portfolio_id", "date", "nav", "shares"],
    "transactions": ["txn_id", "date", "portfolio_id", "account_id", "kind", "shares", "price", "issue_date",
                     "exchange_id", "waiver"],
    "assignments": ["assignment_id", "assignee", "rights_holder", "portfolio_id", "start_date", "end_date",
                    "fee_fraction", "cdsc_fraction"],
    "offsets": ["date", "rights_holder", "portfolio_id", "amount"],
    "plan_events": ["portfolio_id", "date", "kind"],
}
OPTIONAL = ("assignments", "offsets", "plan_events")
DEFAULT_TENURE_START = "2000-01-01"


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):  # plain decimal notation, never 4e-07
        return format(Decimal(repr(value)), "f")
    return str(value)


class FeedBuilder:
    """Collects the rows of a feed; ``write`` lays them out as CSV files, ``run`` computes."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict]] = {name: [] for name in COLUMNS}
        self._next_txn = 0
        self._next_exchange = 0
        self._next_assignment = 0

    # ------------------------------------------------------------------ static tables

    def portfolio(self, pid: str = "P", schedule: str = "A-1", **optional) -> FeedBuilder:
        """A portfolio; ``optional`` may hold distribution_fee_rate, service_fee_rate,
        cdsc_schedule, conversion_years."""
        unknown = set(optional) - set(COLUMNS["portfolios"])
        assert not unknown, f"unknown portfolio columns {unknown}"
        self.tables["portfolios"].append(
            {"portfolio_id": pid, "name": f"Portfolio {pid}", "fund": "FUND", "schedule": schedule, **optional}
        )
        return self

    def tenure(self, pid: str, distributor: str, start: str, end: str = "", rights_holder: str = "") -> FeedBuilder:
        self.tables["tenures"].append(
            {"portfolio_id": pid, "distributor": distributor, "start_date": start, "end_date": end,
             "rights_holder": rights_holder}
        )
        return self

    def account(self, aid: str, omnibus: bool = False) -> FeedBuilder:
        self.tables["accounts"].append({"account_id": aid, "omnibus": omnibus})
        return self

    def nav(self, pid: str, date: str, nav, shares) -> FeedBuilder:
        self.tables["nav"].append({"portfolio_id": pid, "date": date, "nav": nav, "shares": shares})
        return self

    # ------------------------------------------------------------------ transactions

    def txn(self, date: str, kind: str, shares, price=10, p: str = "P", a: str = "OR", **extra) -> str:
        """Any transaction; returns its txn_id."""
        self._next_txn += 1
        txn_id = extra.pop("txn_id", None) or f"T{self._next_txn:04d}"
        self.tables["transactions"].append(
            {"txn_id": txn_id, "date": date, "portfolio_id": p, "account_id": a, "kind": kind, "shares": shares,
             "price": price, **extra}
        )
        return txn_id

    def buy(self, date: str, shares, price=10, p: str = "P", a: str = "OR") -> str:
        """A ``purchase``: Commission Shares."""
        return self.txn(date, "purchase", shares, price, p, a)

    def reinvest(self, date: str, shares, price=10, p: str = "P", a: str = "OR") -> str:
        return self.txn(date, "reinvest", shares, price, p, a)

    def nav_buy(self, date: str, shares, price=10, p: str = "P", a: str = "OR") -> str:
        """A ``nav_purchase``: Free Shares sold at NAV without CDSC."""
        return self.txn(date, "nav_purchase", shares, price, p, a)

    def redeem(self, date: str, shares, price=10, p: str = "P", a: str = "OR", waiver: str = "") -> str:
        return self.txn(date, "redeem", shares, price, p, a, waiver=waiver)

    def exchange(self, date: str, shares_out, from_p: str, to_p: str, a: str = "OR", price_out=10,
                 shares_in=None, price_in=None) -> tuple[str, str]:
        """Both legs of a Free Exchange Transaction (out leg first); by default the
        in leg has the same dollar value at the same price."""
        self._next_exchange += 1
        xid = f"X{self._next_exchange}"
        shares_in = shares_out if shares_in is None else shares_in
        price_in = price_out if price_in is None else price_in
        out_id = self.txn(date, "exchange_out", shares_out, price_out, from_p, a, exchange_id=xid)
        in_id = self.txn(date, "exchange_in", shares_in, price_in, to_p, a, exchange_id=xid)
        return out_id, in_id

    # ------------------------------------------------------------------ optional tables

    def assignment(self, assignee: str, rights_holder: str, start: str, end: str = "", *, fee=0, cdsc=0,
                   p: str = "") -> str:
        """An EIGHTH assignment; ``p`` empty = all portfolios."""
        self._next_assignment += 1
        aid = f"AS{self._next_assignment}"
        self.tables["assignments"].append(
            {"assignment_id": aid, "assignee": assignee, "rights_holder": rights_holder, "portfolio_id": p,
             "start_date": start, "end_date": end, "fee_fraction": fee, "cdsc_fraction": cdsc}
        )
        return aid

    def offset(self, date: str, rights_holder: str, amount, p: str = "P") -> FeedBuilder:
        self.tables["offsets"].append({"date": date, "rights_holder": rights_holder, "portfolio_id": p,
                                       "amount": amount})
        return self

    def complete_termination(self, date: str, p: str = "P") -> FeedBuilder:
        self.tables["plan_events"].append({"portfolio_id": p, "date": date, "kind": "complete_termination"})
        return self

    # ------------------------------------------------------------------ output

    def _with_defaults(self) -> dict[str, list[dict]]:
        tables = {name: [dict(r) for r in rows] for name, rows in self.tables.items()}
        named = []
        for name in ("tenures", "nav", "transactions", "offsets", "plan_events"):
            named += [r["portfolio_id"] for r in tables[name]]
        named += [r["portfolio_id"] for r in tables["assignments"] if r["portfolio_id"]]
        declared = [r["portfolio_id"] for r in tables["portfolios"]]
        for pid in dict.fromkeys(named):
            if pid not in declared:
                tables["portfolios"].append({"portfolio_id": pid, "name": f"Portfolio {pid}", "fund": "FUND",
                                             "schedule": "A-1"})
                declared.append(pid)
        with_tenure = {r["portfolio_id"] for r in tables["tenures"]}
        for pid in declared:
            if pid not in with_tenure:
                tables["tenures"].append({"portfolio_id": pid, "distributor": "ADI",
                                          "start_date": DEFAULT_TENURE_START})
        accounts = [r["account_id"] for r in tables["accounts"]]
        for aid in dict.fromkeys(r["account_id"] for r in tables["transactions"]):
            if aid not in accounts:
                tables["accounts"].append({"account_id": aid, "omnibus": aid.startswith("OM")})
                accounts.append(aid)
        return tables

    def write(self, folder: Path) -> Path:
        """Write the feed's CSV files into ``folder`` (created) and return it."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, rows in self._with_defaults().items():
            if name in OPTIONAL and not rows:
                continue
            with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(COLUMNS[name])
                for row in rows:
                    unknown = set(row) - set(COLUMNS[name])
                    assert not unknown, f"unknown {name} columns {unknown}"
                    writer.writerow([_text(row.get(col)) for col in COLUMNS[name]])
        return folder

    def run(self, tmp_path: Path, name: str = "feed") -> MonthlyCalculation:
        """Write the feed under ``tmp_path`` and compute its Monthly Calculation."""
        return monthly_calculation(read_feed(self.write(Path(tmp_path) / name)))


# ---------------------------------------------------------------------- lookups


def _match(frame: pd.DataFrame, filters: dict) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for col, want in filters.items():
        values = frame[col]
        if pd.api.types.is_datetime64_any_dtype(values):
            mask &= values == pd.Timestamp(want)
        else:
            mask &= values == want
    return frame[mask]


def rows(frame: pd.DataFrame, **filters) -> pd.DataFrame:
    """Every row of ``frame`` whose columns equal ``filters``."""
    return _match(frame, filters)


def one(frame: pd.DataFrame, **filters) -> pd.Series:
    """The single row of ``frame`` matching ``filters`` (fails the test otherwise)."""
    found = _match(frame, filters)
    assert len(found) == 1, f"expected one row for {filters}, found {len(found)}:\n{found}"
    return found.iloc[0]


def day(value) -> str:
    """A date cell as ``YYYY-MM-DD``."""
    return pd.Timestamp(value).strftime("%Y-%m-%d")
