"""The sample AIM/INVESCO fund complex: a valid feed (RULES.md section 2) for the
Funds and Portfolios of Schedules A-1 and A-2 of the Master Distribution
Agreement (Class B Shares), history January 1996 to December 2012.

``generate(out, size, seed)`` writes the eight tables into ``out``; the same
seed gives the same bytes.  ``python -m calc sample --out FEED --size S --seed N``
calls it.

Sizes:

- ``small``: the six portfolios flagged ``small_sample`` in
  ``data/schedule_a.csv`` (both schedules, every asset class, the two
  Complete Terminations), 400 accounts, about 11,000 transactions;
- ``medium`` (default): all 82 portfolios, 14,000 accounts, about 240,000 transactions;
- ``large``: all portfolios, a million accounts, about 11.5 million transactions,
  walked in chunks of accounts.

See ``docs/sample.md`` for the whole story and the measured figures.

Parties (short names, as written in the feed):

- ``ADI``: A I M Distributors, Inc., the Distributor;
- ``IDI``: INVESCO Distributors, Inc., distributor of the Schedule A-2
  portfolios until 2003-08-17, its rights (fees and CDSCs) held by ADI
  (NINETEENTH): its tenures have rights_holder ``ADI``;
- ``LFD``: Lakeshore Fund Distributors, Inc., a fictional Other Distributor
  appointed from 2009-07-01;
- assignees (fictional financing vehicles, ``calc.sample.fund_complex.ASSIGNMENTS``):
  Harbor Lane B-Share Funding Trust I (ADI, all portfolios: 90%/90% from
  1997-01-01 to 2003-08-17, then 80%/75% from 2003-08-18), Cedar Point
  Distribution Finance LLC (ADI, AIM Charter Fund 2005-2010 and INVESCO High
  Yield Fund 2006-2011), Mesa Verde B-Share Receivables LP (LFD, all
  portfolios, from 2009-07-01);
- omnibus accounts of fictional broker-dealers (``BROKERS``).

Key dates: Schedule A-1 portfolios have ADI from their Class B inception;
Schedule A-2 portfolios IDI (rights holder ADI) to 2003-08-17, ADI from
2003-08-18 (the agreement); ADI's services end on 2009-06-30 and LFD serves
from 2009-07-01, except where the Plan ended earlier; Complete Termination of
the Plan for INVESCO Telecommunications Fund (2004-11-19) and AIM Basic
Balanced Fund (2010-09-17).  Conversions to Class A after 8 years are left to
the Monthly Calculation: the generator only never redeems or exchanges shares
that have converted (``calc.sample.ledger``, with the engine's lot rules
``calc.rules.lots``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from calc.feed import TABLES
from calc.sample import accounts as A
from calc.sample import fund_complex as C
from calc.sample import ledger as L
from calc.sample import market as M
from calc.sample import write as W

Progress = Callable[..., None]

BROKERS = (
    "Pemberton Ridge Securities",
    "Calloway & Finch Brokerage",
    "Stonebridge Wealth Partners",
    "Northgate Clearing Corp",
    "Larkspur Investment Services",
    "Bellhaven Capital Markets",
)
PEAK_CALIBRATION = 0.6  # target net assets / the expected peak of the shares sold (NAV growth aside)
SURVIVAL_PER_YEAR = 0.78  # share of a purchase still held a year later (redemptions), for the calibration
OMNIBUS_SHARE = 1 / 3  # of each portfolio's gross sales, through the omnibus accounts
RETAIL_CHUNK = 100_000  # retail accounts per ledger walk
WRITE_CHUNK = 1_000_000  # transactions per CSV batch
TRANSACTION_COLUMNS = ["txn_id", "date", "portfolio_id", "account_id", "kind", "shares", "price",
                       "issue_date", "exchange_id", "waiver"]
NAV_COLUMNS = ["portfolio_id", "date", "nav", "shares"]


@dataclass(frozen=True)
class Size:
    small: bool  # the six small-sample portfolios, else the whole complex
    retail_accounts: int
    brokers: int


SIZES = {
    "small": Size(True, 400, 3),
    "medium": Size(False, 14_000, 6),
    "large": Size(False, 1_000_000, 6),
}


def _quiet(*_args, **_kwargs) -> None:
    return None


def _plan(ports: pd.DataFrame, cal: M.Calendar) -> A.Plan:
    n = cal.n
    inception = cal.session_on_or_after(
        ports["class_b_inception"].to_numpy().astype("datetime64[D]").astype(np.int64)).astype(np.int64)
    term = C.termination_days(ports)
    stop = np.where(term < np.iinfo(np.int32).max, cal.session_on_or_after(term), n).astype(np.int64)
    target = ports["target_net_assets_musd"].to_numpy() * 1e6
    weight = target**A.ACCOUNT_SIZE_EXPONENT
    weight = np.maximum(weight, A.ACCOUNT_WEIGHT_FLOOR * weight.mean())
    keys, rates = [], []
    for p, (cls, name) in enumerate(zip(ports["asset_class"], ports["portfolio"], strict=True)):
        per_year = M.CLASS_RULES[cls].distributions_per_year
        sess = M.distribution_sessions(cal, per_year)
        sess = sess[sess > inception[p]]
        high_yield = "High Yield" in name or "High Income" in name
        rate = np.array([M.year_rate(cls, int(y), high_yield) for y in cal.years[sess]]) / per_year
        keys.append(p * n + sess)
        rates.append(rate)
    return A.Plan(
        inception=inception,
        stop=stop,
        schedule=(ports["schedule"].to_numpy() == "A-2").astype(np.int64),
        flagship=ports["flagship"].to_numpy(dtype=bool),
        gross_sales=target * _sales_multiple(inception, stop, cal),
        account_weight=weight / weight.sum(),
        agreement=int(cal.session_on_or_after(M.epoch_day(C.AGREEMENT_DATE))),
        div_key=np.concatenate(keys).astype(np.int64),
        div_rate=np.concatenate(rates),
        reinvest_share=np.array([
            A.REINVESTING_SHARE_INCOME if M.CLASS_RULES[c].distributions_per_year == 12 else A.REINVESTING_SHARE
            for c in ports["asset_class"]
        ]),
    )


def _sales_multiple(inception: np.ndarray, stop: np.ndarray, cal: M.Calendar) -> np.ndarray:
    """Gross sales per dollar of target net assets, so each portfolio peaks near its target:
    sales over its selling months / the peak of their survivors (redeemed at a steady rate,
    converted after 8 years)."""
    n_months = cal.n_months
    monthly = np.bincount(cal.months, weights=M.sales_weight(cal), minlength=n_months)
    age = np.arange(n_months)
    survival = np.where(age < 12 * C.CONVERSION_YEARS, SURVIVAL_PER_YEAR ** (age / 12), 0.0)
    first = cal.months[inception]
    last = np.where(stop < cal.n, cal.months[np.minimum(stop, cal.n - 1)], n_months)
    out = np.empty(len(inception))
    for p in range(len(inception)):
        w = np.where((age >= first[p]) & (age < last[p]), monthly, 0.0)
        held = np.convolve(w, survival)[:n_months]
        out[p] = PEAK_CALIBRATION * w.sum() / held.max()
    return out


@dataclass
class _Kept:
    """Transactions that made it into the feed, in walk order, compact."""

    acc: list
    sess: list
    minor: list
    port: list
    kind: list
    shares: list
    waiver: list

    def add(self, ev: A.Events, shares: np.ndarray) -> None:
        keep = shares > 0
        self.acc.append(ev.acc[keep].astype(np.int32))
        self.sess.append(ev.sess[keep].astype(np.int16))
        self.minor.append(ev.minor[keep].astype(np.int32))
        self.port.append(ev.port[keep].astype(np.int16))
        self.kind.append(ev.kind[keep].astype(np.int8))
        self.shares.append(shares[keep])
        self.waiver.append(ev.waiver[keep].astype(np.int8))

    def arrays(self) -> dict[str, np.ndarray]:
        return {f: np.concatenate(getattr(self, f)) for f in self.__dataclass_fields__}


def _walk(ev: A.Events, n_accounts: int, acc_offset: int, cal, nav, conv_rec, stats, kept: _Kept) -> None:
    order = A.sort_order(ev)
    acc_sorted = ev.acc[order]
    acc_ptr = np.searchsorted(acc_sorted, np.arange(n_accounts + 1) + acc_offset, side="left")
    shares_sorted = L.run(acc_ptr, ev.sess[order], ev.kind[order], ev.port[order], ev.val[order], cal, nav,
                          conv_rec, stats)
    kept.add(ev.take(order), shares_sorted)


def generate(out: Path, size: str = "medium", seed: int = 2003, progress: Progress | None = None) -> Path:
    """Write the sample complex's feed into ``out`` (created if needed) and return it."""
    say = progress or _quiet
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    spec = SIZES[size]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in TABLES:  # a table may come as CSV or Parquet, never both: drop stale Parquet
        (out / f"{name}.parquet").unlink(missing_ok=True)

    say(f"sample ({size}, seed {seed}): market and portfolios")
    ports = C.select(C.load_schedule_a(), spec.small)
    cal = M.build_calendar()
    rng = np.random.default_rng([seed, 0])
    nav = M.nav_paths(rng, cal, list(ports["asset_class"]))
    plan = _plan(ports, cal)
    n_port = len(ports)
    sales_weight = M.sales_weight(cal)
    conv_rec = np.zeros((n_port, cal.n_months))
    stats = np.zeros(3, dtype=np.int64)
    kept = _Kept([], [], [], [], [], [], [])

    say(f"omnibus accounts of {spec.brokers} broker-dealers")
    omni = A.omnibus_events(np.random.default_rng([seed, 1]), spec.brokers, plan, cal, sales_weight, OMNIBUS_SHARE)
    _walk(omni, spec.brokers, 0, cal, nav, conv_rec, stats, kept)

    say(f"retail accounts: {spec.retail_accounts:,}")
    sk = A.retail_skeleton(rng, spec.retail_accounts, plan, sales_weight)
    sales = A.retail_sales(rng, sk, plan, sales_weight)
    A.scale_sales(sales, sk, plan, 1.0 - OMNIBUS_SHARE)
    sales = sales.take(np.argsort(sales.acc, kind="stable"))
    n = spec.retail_accounts
    for c0 in range(0, n, RETAIL_CHUNK):
        c1 = min(n, c0 + RETAIL_CHUNK)
        idx = np.arange(c0, c1)
        activity = A.retail_activity(np.random.default_rng([seed, 2, c0]), sk, idx, plan, cal.n)
        s0, s1 = np.searchsorted(sales.acc, [c0, c1])
        ev = A.Events.concat([sales.take(np.arange(s0, s1)), activity])
        ev.acc = ev.acc + spec.brokers
        _walk(ev, c1 - c0, spec.brokers + c0, cal, nav, conv_rec, stats, kept)
        say("ledger walk: retail accounts", c1, n)
    if stats[L.STAT_SHORTFALLS]:
        raise RuntimeError(f"sample ledger: {stats[L.STAT_SHORTFALLS]} redemptions exceeded the holding")

    tx = kept.arrays()
    del kept
    say(f"writing {len(tx['acc']):,} transactions into {out}")
    outstanding = _write_transactions(out / "transactions.csv", tx, ports, cal, nav, spec, conv_rec, say)
    _write_nav(out / "nav.csv", ports, cal, nav, plan, outstanding)
    _write_static(out, ports, cal, plan, spec)
    say(f"done: {len(tx['acc']):,} transactions, {int(stats[L.STAT_LOTS_CONVERTED]):,} lots converting to Class A")
    return out


def _account_ids(spec: Size) -> tuple[list[str], list[str], list[bool]]:
    omni = [f"OM{i + 1:02d}" for i in range(spec.brokers)]
    retail = [f"AC{i + 1:07d}" for i in range(spec.retail_accounts)]
    holders = [f"{BROKERS[i]} (omnibus)" for i in range(spec.brokers)] + [f"Investor {i + 1:07d}" for i in range(spec.retail_accounts)]
    return omni + retail, holders, [True] * spec.brokers + [False] * spec.retail_accounts


def _write_transactions(path: Path, tx: dict, ports: pd.DataFrame, cal: M.Calendar, nav: np.ndarray, spec: Size,
                        conv_rec: np.ndarray, say: Progress) -> np.ndarray:
    """transactions.csv in (date, account, walk) order; returns Class B outstanding (ports x sessions)."""
    key = (tx["sess"].astype(np.int64) << 40) | (tx["acc"].astype(np.int64) << 16) | tx["minor"].astype(np.int64)
    order = np.argsort(key, kind="stable")
    del key
    for f in tx:
        tx[f] = tx[f][order]
    del order
    kind = tx["kind"]
    is_out, is_in = kind == L.EXCHANGE_OUT, kind == L.EXCHANGE_IN
    paired = is_out[:-1] & is_in[1:] & (tx["acc"][:-1] == tx["acc"][1:]) & (tx["sess"][:-1] == tx["sess"][1:])
    if is_out.sum() != is_in.sum() or paired.sum() != is_out.sum():
        raise RuntimeError("sample: an exchange leg lost its pair")
    exchange_no = np.cumsum(is_out)

    n_port, n_sess = nav.shape
    sign = np.where((kind == L.REDEEM) | is_out, -1.0, 1.0)
    flows = np.bincount(tx["port"].astype(np.int64) * n_sess + tx["sess"], weights=sign * tx["shares"],
                        minlength=n_port * n_sess).reshape(n_port, n_sess)
    conv_sess = np.minimum(cal.session_on_or_after(cal.month_end[: cal.n_months]), n_sess - 1)
    conv = np.zeros((n_port, n_sess))
    np.add.at(conv, (slice(None), conv_sess), conv_rec)
    outstanding = np.cumsum(flows - conv, axis=1)

    account_ids = pa.array(_account_ids(spec)[0], pa.string())
    port_names = list(ports["portfolio_id"])
    total = len(kind)
    with W.TableWriter(path, TRANSACTION_COLUMNS) as writer:
        for a in range(0, max(total, 1), WRITE_CHUNK):
            b = min(total, a + WRITE_CHUNK)
            if a >= b:
                break
            s, p, k = tx["sess"][a:b].astype(np.int64), tx["port"][a:b].astype(np.int64), kind[a:b]
            legs = (k == L.EXCHANGE_OUT) | (k == L.EXCHANGE_IN)
            writer.write([
                W.ids("T", np.arange(a + 1, b + 1), 9),
                W.dates(cal.days[s]),
                W.pick(port_names, p),
                pc.take(account_ids, pa.array(tx["acc"][a:b].astype(np.int64))),
                W.pick(L.KIND_NAMES, k),
                W.decimals(tx["shares"][a:b], 6),
                W.decimals(nav[p, s], 2, 12),
                W.dates(cal.days[s], mask=k != L.PURCHASE),
                pc.if_else(pa.array(legs), W.ids("X", exchange_no[a:b], 8), pa.scalar(None, pa.string())),
                W.pick(A.WAIVER_CODES, tx["waiver"][a:b], empty=""),
            ])
            say("writing transactions", b, total)
    return outstanding


def _write_nav(path: Path, ports: pd.DataFrame, cal: M.Calendar, nav: np.ndarray, plan: A.Plan,
               outstanding: np.ndarray) -> None:
    """nav.csv: every session from each portfolio's Class B inception, date by date."""
    n_port, n_sess = nav.shape
    sess, port = np.meshgrid(np.arange(n_sess), np.arange(n_port), indexing="ij")
    sess, port = sess.ravel(), port.ravel()
    live = sess >= plan.inception[port]
    sess, port = sess[live], port[live]
    shares = np.maximum(np.round(outstanding[port, sess], 3), 0.0)
    with W.TableWriter(path, NAV_COLUMNS) as writer:
        writer.write([
            W.pick(list(ports["portfolio_id"]), port),
            W.dates(cal.days[sess]),
            W.decimals(nav[port, sess], 2, 12),
            W.decimals(shares, 3, 20),
        ])


def _write_static(out: Path, ports: pd.DataFrame, cal: M.Calendar, plan: A.Plan, spec: Size) -> None:
    ids, holders, omnibus = _account_ids(spec)
    W.write_frame(C.portfolios_table(ports), out / "portfolios.csv")
    first_days = pd.Series(cal.days[plan.inception].astype("datetime64[D]"))
    W.write_frame(C.tenures_table(ports, first_days), out / "tenures.csv")
    W.write_frame(pd.DataFrame({"account_id": ids, "omnibus": np.where(omnibus, "true", "false"), "holder": holders}),
                  out / "accounts.csv")
    W.write_frame(C.assignments_table(ports), out / "assignments.csv")
    W.write_frame(C.offsets_table(ports), out / "offsets.csv")
    W.write_frame(C.plan_events_table(ports), out / "plan_events.csv")
