"""The sample AIM/INVESCO fund complex (calc.sample) and data/schedule_a.csv.

The generator must write a valid feed: besides ``read_feed``, these tests check
the rules with their own plain implementations (an independent lot ledger with
conversions to Class A, the exchange pairing, tenure coverage, assignment
fractions), so a lenient validator cannot hide a broken sample.
"""

from __future__ import annotations

import importlib.util
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from feedkit import AGREEMENT

from calc.calendar import nyse_sessions
from calc.feed import TABLES, read_feed
from calc.sample import generate
from calc.sample.fund_complex import (
    ADI,
    AGREEMENT_DATE,
    COMPLETE_TERMINATIONS,
    IDI,
    OTHER_DISTRIBUTOR,
    OTHER_DISTRIBUTOR_FIRST_DAY,
    SCHEDULE_A,
)

LAST_MONTH_END = pd.Timestamp("2012-12-31")
TOL = 1e-6
ASSET_CLASSES = {"equity", "balanced", "bond", "municipal", "money_market", "sector"}
SEED = 2003


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("small") / "feed", size="small", seed=SEED)


@pytest.fixture(scope="module")
def tables(small) -> dict[str, pd.DataFrame]:
    return {
        name: pd.read_csv(small / f"{name}.csv", dtype=str, keep_default_na=False)
        for name in TABLES
    }


@pytest.fixture(scope="module")
def tx(tables) -> pd.DataFrame:
    frame = tables["transactions"].copy()
    frame["date"] = pd.to_datetime(frame["date"])
    frame["shares"] = frame["shares"].astype(float)
    frame["price"] = frame["price"].astype(float)
    return frame.sort_values(["date", "txn_id"], kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def reference(tx) -> Reference:
    return Reference(tx)


# ----------------------------------------------------------------------------- an independent ledger


def _month(ts: pd.Timestamp) -> int:
    return ts.year * 12 + ts.month - 1


class Reference:
    """Lots and Free Shares per account and portfolio, RULES.md sections 3 and 4, written plainly.

    Records the largest shortfall of any redeem/exchange_out (shares taken beyond the
    holding after conversions), the conversions and the outstanding shares at each month end.
    """

    def __init__(self, tx: pd.DataFrame, conversion_years: int = 8):
        self.shortfall = 0.0
        self.converted_lots = 0
        self.converted_shares = 0.0
        self.outstanding: dict[int, dict[str, float]] = {}
        self.pos: dict[tuple[str, str], dict] = {}
        self.years = conversion_years
        pending: dict[str, tuple] = {}
        seq = 0
        months = [_month(d) for d in tx["date"]]
        current = months[0]
        for row, mi in zip(tx.itertuples(index=False), months, strict=True):
            while current < mi:
                self._month_end(current)
                current += 1
            key = (row.account_id, row.portfolio_id)
            pos = self.pos.setdefault(key, {"lots": [], "free": 0.0})
            n = row.shares
            if row.kind == "purchase":
                seq += 1
                pos["lots"].append([n, row.date, seq, _month(row.date) + 12 * self.years])
            elif row.kind in ("reinvest", "nav_purchase"):
                pos["free"] += n
            elif row.kind in ("redeem", "exchange_out"):
                taken = self._relieve(pos, n)
                if row.kind == "exchange_out":
                    pending[row.exchange_id] = (n, taken)
            elif row.kind == "exchange_in":
                n_out, (free, parts) = pending.pop(row.exchange_id)
                ratio = n / n_out
                pos["free"] += free * ratio
                for shares, issue, _conv in parts:
                    seq += 1
                    pos["lots"].append([shares * ratio, issue, seq, max(_month(issue) + 12 * self.years, mi)])
            pos["lots"].sort(key=lambda lot: (lot[1], lot[2]))
        while current <= _month(LAST_MONTH_END):
            self._month_end(current)
            current += 1

    def _relieve(self, pos: dict, n: float) -> tuple[float, list]:
        held = pos["free"] + sum(lot[0] for lot in pos["lots"])
        self.shortfall = max(self.shortfall, n - held)
        free = min(n, pos["free"])
        if pos["free"] - free <= TOL:
            free = pos["free"]
        pos["free"] -= free
        rem = n - free
        parts = []
        while rem > TOL and pos["lots"]:
            lot = pos["lots"][0]
            t = min(lot[0], rem)
            if lot[0] - t <= TOL:
                t = lot[0]
                pos["lots"].pop(0)
            else:
                lot[0] -= t
            rem -= t
            parts.append((t, lot[1], lot[3]))
        return free, parts

    def _month_end(self, mi: int) -> None:
        totals: dict[str, float] = defaultdict(float)
        for (_acct, port), pos in self.pos.items():
            due = [lot for lot in pos["lots"] if lot[3] <= mi]
            if due:
                held = sum(lot[0] for lot in pos["lots"])
                converting = sum(lot[0] for lot in due)
                gone = pos["free"] * converting / held if held > 0 else 0.0
                if pos["free"] - gone <= TOL:
                    gone = pos["free"] if held > 0 else 0.0
                pos["free"] -= gone
                pos["lots"] = [lot for lot in pos["lots"] if lot[3] > mi]
                self.converted_lots += len(due)
                self.converted_shares += converting + gone
            totals[port] += pos["free"] + sum(lot[0] for lot in pos["lots"])
        self.outstanding[mi] = dict(totals)


# ----------------------------------------------------------------------------- schedule_a.csv


def _agreement_schedules() -> dict[str, dict[str, str]]:
    """Portfolio name -> fund, per schedule, parsed from the agreement's Schedules A-1 and A-2."""
    text = AGREEMENT.read_text(encoding="utf-8")
    a1 = text.index("SCHEDULE A-1\n                                       TO")
    a2 = text.index("SCHEDULE A-2\n                                       TO")
    end = text.index("EXHIBIT A\n", a2)
    out = {}
    for name, body in (("A-1", text[a1:a2]), ("A-2", text[a2:end])):
        fund, found = None, {}
        for line in body.splitlines():
            line = line.strip()
            if not line or line.startswith(("-", "<PAGE>", "SCHEDULE", "TO", "AMENDED", "MASTER", "PORTFOLIO")) or line.isdigit():
                continue
            if line.upper() == line:
                fund = line
            elif line.endswith("Fund"):
                found[line] = fund
        out[name] = found
    return out


def test_schedule_a_lists_every_fund_and_portfolio_of_the_agreement():
    schedule = pd.read_csv(SCHEDULE_A, dtype=str, keep_default_na=False)
    agreement = _agreement_schedules()
    assert len(agreement["A-1"]) == 54 and len(agreement["A-2"]) == 28
    for sched, names in agreement.items():
        rows = schedule[schedule["schedule"] == sched]
        assert dict(zip(rows["portfolio"], rows["fund"], strict=True)) == names
    assert len(schedule) == 82


def test_schedule_a_names_are_the_agreements_words():
    text = re.sub(r"\s+", " ", AGREEMENT.read_text(encoding="utf-8"))
    schedule = pd.read_csv(SCHEDULE_A, dtype=str, keep_default_na=False)
    for name in ("AIM Global Science and Technology Fund", "INVESCO Gold & Precious Metals Fund",
                 "INVESCO COMBINATION STOCK & BOND FUNDS, INC.", "AIM U.S. Growth Fund",
                 "INVESCO Mid-Cap Growth Fund", "AIM Opportunities III Fund"):
        assert name in text
        assert name in set(schedule["portfolio"]) | set(schedule["fund"])
    for name in list(schedule["portfolio"]) + list(schedule["fund"]):
        assert name in text, name


def test_schedule_a_attributes():
    schedule = pd.read_csv(SCHEDULE_A, dtype=str, keep_default_na=False)
    assert schedule["portfolio_id"].is_unique
    assert schedule["portfolio_id"].str.fullmatch(r"(AIM|INV)-[A-Z]{2,8}").all()
    assert set(schedule["asset_class"]) == ASSET_CLASSES
    assert set(schedule["schedule"]) == {"A-1", "A-2"}
    assert (schedule["portfolio_id"].str.startswith("AIM") == (schedule["schedule"] == "A-1")).all()
    target = schedule["target_net_assets_musd"].astype(float)
    flagship = schedule["flagship"] == "true"
    assert target[flagship].min() >= 150 and target.max() <= 1000 and target.min() <= 5
    assert pd.to_datetime(schedule["class_b_inception"]).between("1996-01-01", "2003-08-17").all()
    small = schedule[schedule["small_sample"] == "true"]
    assert len(small) == 6
    assert set(small["asset_class"]) == ASSET_CLASSES and set(small["schedule"]) == {"A-1", "A-2"}
    assert set(COMPLETE_TERMINATIONS) <= set(small["portfolio_id"])
    assert schedule.loc[schedule["portfolio"] == "AIM Money Market Fund", "asset_class"].item() == "money_market"
    assert schedule.loc[schedule["portfolio"] == "INVESCO Tax-Free Bond Fund", "asset_class"].item() == "municipal"


# ----------------------------------------------------------------------------- determinism, validity


def test_small_sample_is_deterministic_for_a_seed(small, tmp_path):
    again = generate(tmp_path / "again", size="small", seed=SEED)
    for name in TABLES:
        assert (small / f"{name}.csv").read_bytes() == (again / f"{name}.csv").read_bytes(), name


def test_small_sample_differs_across_seeds(small, tmp_path):
    other = generate(tmp_path / "other", size="small", seed=SEED + 1)
    assert (small / "transactions.csv").read_bytes() != (other / "transactions.csv").read_bytes()
    assert (small / "nav.csv").read_bytes() != (other / "nav.csv").read_bytes()


def test_small_sample_passes_the_feed_validation(small):
    feed = read_feed(small)
    assert len(feed.transactions) > 3000
    assert len(feed.portfolios) == 6


def test_retail_accounts_walked_in_chunks_stay_valid(tmp_path, monkeypatch):
    """``large`` walks the retail accounts in chunks: account offsets must line up."""
    import calc.sample

    monkeypatch.setattr(calc.sample, "RETAIL_CHUNK", 37)
    folder = generate(tmp_path / "chunks", size="small", seed=11)
    feed = read_feed(folder)
    frame = feed.transactions.sort_values(["date", "txn_id"], kind="stable").reset_index(drop=True)
    assert Reference(frame).shortfall <= TOL
    assert frame["account_id"].nunique() > 300


_COUNTING_WALK = """
import json, sys
from pathlib import Path
import calc.rules.lots as kernel
calls = {"relieve": 0, "short": 0, "convert": 0, "converted_lots": 0}
relieve, convert = kernel.relieve_position, kernel.convert_position
def counting_relieve(*args):
    r = relieve(*args)
    calls["relieve"] += 1
    calls["short"] += r[1] > 0
    return r
def counting_convert(*args):
    c = convert(*args)
    calls["convert"] += 1
    calls["converted_lots"] += c[0]
    return c
kernel.relieve_position, kernel.convert_position = counting_relieve, counting_convert
from calc.sample import generate
generate(Path(sys.argv[1]), size="small", seed=5)
print(json.dumps(calls))
"""


def test_the_walk_relieves_and_converts_with_the_engines_lot_rules(tmp_path):
    """One implementation of lot relief and conversion: the generator's compiled walk calls
    the compiled kernels of calc.rules.lots for every redeem and exchange_out it writes and
    for its conversions, and never changes a lot or a lot list by hand.  The calls are
    counted with the walk run as plain Python (NUMBA_DISABLE_JIT), and that run writes the
    very bytes the compiled walk writes."""
    import ast
    import json
    import os
    import subprocess
    import sys

    import calc.sample.ledger

    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    run = subprocess.run([sys.executable, "-c", _COUNTING_WALK, str(tmp_path / "plain")], env=env,
                         capture_output=True, text=True, check=True)
    calls = json.loads(run.stdout.strip().splitlines()[-1])
    folder = generate(tmp_path / "compiled", size="small", seed=5)
    kinds = pd.read_csv(folder / "transactions.csv", usecols=["kind"])["kind"]
    assert calls["relieve"] == kinds.isin(["redeem", "exchange_out"]).sum() > 1000
    assert calls["short"] == 0
    assert calls["converted_lots"] > 50
    for name in sorted(p.name for p in folder.iterdir()):
        assert (folder / name).read_bytes() == (tmp_path / "plain" / name).read_bytes(), name

    source = Path(calc.sample.ledger.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert not [f.name for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
                and re.search("reliev|relief|convert_due|insert_lot|take_free", f.name)]
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AugAssign) else []
        for target in targets:  # no lot (a subscript of a subscript or of a lot) written
            if isinstance(target, ast.Subscript):
                assert not isinstance(target.value, ast.Subscript), ast.unparse(target)
                assert "lot" not in ast.unparse(target.value), ast.unparse(target)
            assert not ast.unparse(target).endswith(".lots"), ast.unparse(target)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in {"pop", "remove", "insort", "insort_right"}, ast.unparse(node)
    called = {node.func.attr for node in ast.walk(tree) if isinstance(node, ast.Call)
              and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
              and node.func.value.id == "K"}
    assert {"relieve_position", "convert_position", "insert_slot", "new_lot", "clear_position"} <= called


def test_the_walk_and_the_engine_agree(tmp_path):
    """The engine takes every row the generator wrote (no shortfall) and finds the
    shares outstanding that nav.csv gives (the generator's walk, conversions included)."""
    from calc.monthly import monthly_calculation

    folder = generate(tmp_path / "agree", size="small", seed=7)
    summary = monthly_calculation(read_feed(folder)).summary
    nav = pd.read_csv(folder / "nav.csv", parse_dates=["date"])
    month_ends = nav[nav["date"].dt.is_month_end].set_index(["date", "portfolio_id"])["shares"]
    engine = summary.set_index(["month_end", "portfolio_id"])["shares_outstanding"]
    both = pd.concat([month_ends, engine.rename_axis(["date", "portfolio_id"])], axis=1, join="inner")
    assert len(both) > 500
    assert (both["shares"] - both["shares_outstanding"]).abs().max() <= 0.0005 + 1e-9 * both["shares"].max()


def test_medium_sample_is_the_whole_complex_and_valid(tmp_path):
    folder = generate(tmp_path / "medium", size="medium", seed=SEED)
    feed = read_feed(folder)
    schedule = pd.read_csv(SCHEDULE_A, dtype=str, keep_default_na=False)
    assert set(feed.portfolios["portfolio_id"]) == set(schedule["portfolio_id"])
    assert set(feed.transactions["portfolio_id"]) == set(schedule["portfolio_id"])
    assert 100_000 <= len(feed.transactions) <= 300_000
    assert feed.accounts["omnibus"].sum() == 6


def test_unknown_size_is_refused(tmp_path):
    with pytest.raises(ValueError, match="size"):
        generate(tmp_path / "x", size="huge")


def test_progress_is_reported(tmp_path):
    calls = []
    generate(tmp_path / "p", size="small", seed=5, progress=lambda stage, done=None, total=None: calls.append((stage, done, total)))
    assert calls and all(isinstance(c[0], str) for c in calls)
    assert any(done is not None and done == total for _s, done, total in calls)


# ----------------------------------------------------------------------------- invariants


def test_no_account_ever_holds_fewer_than_zero_shares(tx, reference):
    signed = np.where(tx["kind"].isin(["redeem", "exchange_out"]), -tx["shares"], tx["shares"])
    held = pd.Series(signed).groupby([tx["account_id"], tx["portfolio_id"]]).cumsum()
    assert held.min() >= -TOL  # the rows alone
    assert reference.shortfall <= TOL  # net of conversions to Class A


def test_conversions_are_due(tx, reference):
    old = tx[(tx["kind"] == "purchase") & (tx["date"] <= LAST_MONTH_END - pd.DateOffset(years=8))]
    assert len(old) > 100
    assert reference.converted_lots > 50 and reference.converted_shares > 0


def test_exchange_pairs(tx, tables):
    legs = tx[tx["kind"].isin(["exchange_out", "exchange_in"])]
    assert (legs["exchange_id"] != "").all()
    assert len(legs) > 20
    by_id = legs.groupby("exchange_id")
    assert (by_id.size() == 2).all()
    out = legs[legs["kind"] == "exchange_out"].set_index("exchange_id")
    inn = legs[legs["kind"] == "exchange_in"].set_index("exchange_id").loc[out.index]
    assert (out["account_id"] == inn["account_id"]).all()
    assert (out["date"] == inn["date"]).all()
    assert (out["portfolio_id"] != inn["portfolio_id"]).all()
    assert (out["txn_id"] < inn["txn_id"]).all()
    value_out, value_in = out["shares"] * out["price"], inn["shares"] * inn["price"]
    assert ((value_out - value_in).abs() <= 0.01 * value_out / 1000).all()
    assert (value_out >= 50).all()  # smaller ones could not match to the cent per $1000
    # no other transaction of the account between the legs (txn_id order)
    ordered = tables["transactions"].sort_values("txn_id")
    position = pd.Series(np.arange(len(ordered)), index=ordered["txn_id"].to_numpy())
    for xid in out.index[:500]:
        a, b = position[out.at[xid, "txn_id"]], position[inn.at[xid, "txn_id"]]
        between = ordered.iloc[a + 1 : b]
        assert not (between["account_id"] == out.at[xid, "account_id"]).any()
    # prices are the day's NAVs
    nav = tables["nav"].astype({"nav": float})
    nav_of = dict(zip(zip(nav["portfolio_id"], pd.to_datetime(nav["date"]), strict=True), nav["nav"], strict=True))
    assert all(nav_of[(p, d)] == price for p, d, price in zip(legs["portfolio_id"], legs["date"], legs["price"], strict=True))


def test_ids_sort_as_text(tables):
    t = tables["transactions"]["txn_id"]
    assert t.str.fullmatch(r"T\d{9}").all() and t.is_unique
    assert list(t) == sorted(t)
    accounts = tables["accounts"]["account_id"]
    assert accounts.str.len().groupby(accounts.str[:2]).nunique().eq(1).all()
    assert set(tables["transactions"]["account_id"]) <= set(accounts)


def test_transactions_in_date_order_and_on_sessions(tx, tables):
    assert tx["date"].is_monotonic_increasing
    assert list(tables["transactions"]["txn_id"]) == list(tx["txn_id"])
    sessions = set(nyse_sessions("1996-01-01", "2012-12-31"))
    assert set(tx["date"]) <= sessions
    purchases = tables["transactions"][tables["transactions"]["kind"] == "purchase"]
    assert (purchases["issue_date"] == purchases["date"]).all()
    others = tables["transactions"][tables["transactions"]["kind"] != "purchase"]
    assert (others["issue_date"] == "").all()
    assert (tx["shares"] > 0).all() and (tx["price"] > 0).all()


def test_nav_rows(tables, tx):
    nav = tables["nav"].copy()
    nav["date"] = pd.to_datetime(nav["date"])
    nav["nav"] = nav["nav"].astype(float)
    nav["shares"] = nav["shares"].astype(float)
    assert not nav.duplicated(["portfolio_id", "date"]).any()
    assert (nav["nav"] > 0).all() and (nav["shares"] >= 0).all()
    sessions = nyse_sessions("1996-01-01", "2012-12-31")
    for pid, rows in nav.groupby("portfolio_id"):
        assert list(rows["date"]) == list(sessions[sessions >= rows["date"].min()])
        first_tx = tx.loc[tx["portfolio_id"] == pid, "date"].min()
        assert rows["date"].min() <= first_tx
    classes = tables["portfolios"].set_index("portfolio_id")["asset_class"]
    money_market = nav["portfolio_id"].map(classes) == "money_market"
    assert (nav.loc[money_market, "nav"] == 1.0).all()
    assert nav.loc[~money_market].groupby("portfolio_id")["nav"].std().gt(0).all()


def test_nav_shares_follow_the_ledger(tables, reference):
    """nav.csv shares at a month end that is a session = the outstanding after conversions."""
    nav = tables["nav"].copy()
    nav["date"] = pd.to_datetime(nav["date"])
    month_ends = nav[nav["date"].dt.is_month_end]
    checked = 0
    for pid, day, shares in zip(month_ends["portfolio_id"], month_ends["date"], month_ends["shares"].astype(float), strict=True):
        expected = reference.outstanding.get(_month(day), {}).get(pid, 0.0)
        assert abs(shares - expected) <= 0.002 + 1e-9 * expected, (pid, day)
        checked += 1
    assert checked > 500


def test_tenures_cover_every_day_without_gap_or_overlap(tables, tx):
    tenures = tables["tenures"].copy()
    tenures["start"] = pd.to_datetime(tenures["start_date"])
    tenures["end"] = pd.to_datetime(tenures["end_date"].replace("", None))
    nav = tables["nav"]
    first_nav = pd.to_datetime(nav.groupby("portfolio_id")["date"].min())
    first_tx = tx.groupby("portfolio_id")["date"].min()
    for pid, rows in tenures.groupby("portfolio_id"):
        rows = rows.sort_values("start")
        first = min(first_nav[pid], first_tx.get(pid, first_nav[pid]))
        assert rows["start"].iloc[0] <= first
        assert rows["end"].iloc[:-1].notna().all() and pd.isna(rows["end"].iloc[-1])
        assert (rows["start"].iloc[1:].to_numpy() == (rows["end"].iloc[:-1] + pd.Timedelta(days=1)).to_numpy()).all()
        assert (rows["end"].iloc[:-1] >= rows["start"].iloc[:-1]).all()


def test_distributor_history(tables):
    tenures = tables["tenures"]
    schedule = tables["portfolios"].set_index("portfolio_id")["schedule"]
    idi = tenures[tenures["distributor"] == IDI]
    assert len(idi) > 0 and (idi["rights_holder"] == ADI).all()
    assert (idi["portfolio_id"].map(schedule) == "A-2").all()
    assert (idi["end_date"] == (AGREEMENT_DATE - pd.Timedelta(days=1)).strftime("%Y-%m-%d")).all()
    a1 = tenures[tenures["portfolio_id"].map(schedule) == "A-1"]
    assert (a1.groupby("portfolio_id")["distributor"].first() == ADI).all()
    other = tenures[tenures["distributor"] == OTHER_DISTRIBUTOR]
    assert (other["start_date"] == OTHER_DISTRIBUTOR_FIRST_DAY.strftime("%Y-%m-%d")).all()
    assert other["portfolio_id"].nunique() >= len(schedule) // 2
    assert (tenures["rights_holder"] != IDI).all()


def test_assignment_fractions_add_up_to_at_most_one(tables):
    a = tables["assignments"].copy()
    assert a["assignee"].nunique() == 3
    assert (a.groupby("assignee").size() >= 2).any()  # an assignee with several assignments
    assert (a["purchase_price"].astype(float) > 0).all()
    a["start"] = pd.to_datetime(a["start_date"])
    a["end"] = pd.to_datetime(a["end_date"].replace("", None)).fillna(LAST_MONTH_END)
    ports = list(tables["portfolios"]["portfolio_id"])
    for holder, rows in a.groupby("rights_holder"):
        days = sorted(set(rows["start"]) | set(rows["end"] + pd.Timedelta(days=1)))
        for pid in ports:
            applies = rows[(rows["portfolio_id"] == "") | (rows["portfolio_id"] == pid)]
            for day in days:
                live = applies[(applies["start"] <= day) & (applies["end"] >= day)]
                assert live["fee_fraction"].astype(float).sum() <= 1 + 1e-9, (holder, pid, day)
                assert live["cdsc_fraction"].astype(float).sum() <= 1 + 1e-9, (holder, pid, day)


def test_small_sample_covers_the_rules(tables, tx):
    ports = tables["portfolios"]
    assert set(ports["schedule"]) == {"A-1", "A-2"}
    assert set(ports["asset_class"]) == ASSET_CLASSES
    accounts = tables["accounts"]
    omnibus = set(accounts.loc[accounts["omnibus"] == "true", "account_id"])
    assert 2 <= len(omnibus) <= 6
    kinds = tx["kind"].value_counts()
    for kind in ("purchase", "reinvest", "nav_purchase", "redeem", "exchange_out", "exchange_in"):
        assert kinds.get(kind, 0) > 0, kind
    in_omnibus = tx["account_id"].isin(omnibus)
    assert {"purchase", "reinvest", "redeem", "exchange_out"} <= set(tx.loc[in_omnibus, "kind"])
    assert {"purchase", "reinvest", "redeem", "exchange_out"} <= set(tx.loc[~in_omnibus, "kind"])
    redeems = tx[tx["kind"] == "redeem"]
    waived = redeems["waiver"] != ""
    assert set(redeems.loc[waived, "waiver"]) == {"death", "disability", "swp", "rmd"}
    assert 0.01 < waived.mean() < 0.15
    assert tx.groupby("portfolio_id")["account_id"].nunique().min() >= 10
    events = tables["plan_events"]
    assert len(events) == 2 and (events["kind"] == "complete_termination").all()
    # no sales once the Plan has ended
    for pid, day in zip(events["portfolio_id"], pd.to_datetime(events["date"]), strict=True):
        after = tx[(tx["portfolio_id"] == pid) & (tx["date"] >= day)]
        assert not after["kind"].isin(["purchase", "nav_purchase", "exchange_in"]).any()
    assert len(tables["offsets"]) >= 3 and (tables["offsets"]["amount"].astype(float) > 0).all()
    assert set(tables["offsets"]["portfolio_id"]) <= set(ports["portfolio_id"])


def test_omnibus_accounts_hold_about_a_third(reference, tables):
    accounts = tables["accounts"]
    omnibus = set(accounts.loc[accounts["omnibus"] == "true", "account_id"])
    held = defaultdict(float)
    for (acct, _port), pos in reference.pos.items():
        held[acct in omnibus] += pos["free"] + sum(lot[0] for lot in pos["lots"])
    # at the end of 2012 (after the last conversions): a third or so, well short of all
    share = held[True] / (held[True] + held[False])
    assert 0.15 < share < 0.7


# ----------------------------------------------------------------------------- the Monthly Calculation


def test_small_sample_computes(small, reference):
    if importlib.util.find_spec("calc.monthly") is None:
        pytest.skip("calc.monthly is not there yet")
    from calc.monthly import monthly_calculation

    calc = monthly_calculation(read_feed(small))
    summary, allocation, payments = calc.summary, calc.allocation, calc.payments
    assert summary["month_end"].min() == pd.Timestamp("1996-01-31")
    assert summary["month_end"].max() == LAST_MONTH_END
    # attributed shares add up to the shares outstanding; shares add up to 1
    att = allocation.groupby(["month_end", "portfolio_id"])[["attributed_shares", "share"]].sum()
    joined = summary.set_index(["month_end", "portfolio_id"]).join(att, how="left").fillna(0.0)
    live = joined["shares_outstanding"] > 1e-6
    assert np.allclose(joined.loc[live, "attributed_shares"], joined.loc[live, "shares_outstanding"], rtol=1e-9, atol=1e-4)
    assert np.allclose(joined.loc[live, "share"], 1.0, atol=1e-9)
    # the engine's outstanding = the independent ledger's
    for (month_end, pid), shares in summary.set_index(["month_end", "portfolio_id"])["shares_outstanding"].items():
        expected = reference.outstanding.get(_month(month_end), {}).get(pid, 0.0)
        assert abs(shares - expected) <= 1e-4 + 1e-9 * expected, (month_end, pid)
    # payments add up; LFD earns once it serves; no fee after a Complete Termination
    assert np.allclose(payments["payable"], payments["distribution_fee"] + payments["cdsc"] + payments["service_fee"] - payments["offset"], atol=0.005)
    assert payments.loc[payments["party"] == OTHER_DISTRIBUTOR, "distribution_fee"].sum() > 0
    assert set(payments.loc[payments["role"] == "assignee", "party"]) >= {
        "Harbor Lane B-Share Funding Trust I", "Cedar Point Distribution Finance LLC", "Mesa Verde B-Share Receivables LP"}
    for pid, day in COMPLETE_TERMINATIONS.items():
        after = summary[(summary["portfolio_id"] == pid) & (summary["month_end"] > day + pd.offsets.MonthEnd(0))]
        assert len(after) and (after["distribution_fee"] == 0).all() and (after["service_fee"] == 0).all()
    assert summary["cdsc"].sum() > 0 and summary["cdsc_waived"].sum() > 0
    assert (calc.cdsc["year_held"] > 6).any()  # lots redeemed beyond the schedule
