"""Properties of the Monthly Calculation on random small valid feeds (``tests/strategies.py``).

Invariants of one run:

1. attributed shares add up to shares outstanding, each month and portfolio;
2. the 12b-1 Shares (``share``) add up to 1, each month and portfolio;
3. the parties' cents add up exactly to the month's totals, for each kind of money;
4. ``payable`` is never negative where no Free Share balance went negative;
9. shares outstanding, Commission Shares by rights holder and Free Shares agree, at every
   month end, with the strategy's own walk of the lots (a differential test of sections 3-4).

Metamorphic relations (two runs):

5. shuffling the rows (and columns) of every file changes nothing;
6. doubling every share count (transactions, ``nav.csv``) and every offset doubles
   every amount of money and every share count and leaves ``share`` alone;
7. doubling every price and NAV (and every offset) doubles the money and leaves the shares;
8. renaming the accounts changes nothing but their names.

Every generated feed must pass ``calc.feed.validate``: a rejection is a
defect of the strategy (or of the validator), not of the engine.

Examples: ``PROPERTY_SCALE=10`` multiplies every test's ``max_examples``; with
``CI`` set the ``ci`` profile is loaded (derandomized, no example database), so
CI runs the same examples every time.
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st

from calc.feed import FeedError, validate
from calc.monthly import monthly_calculation
from calc.report import MONEY_COLUMNS, SHARE_COLUMNS, MonthlyCalculation, format_table
from tests import strategies as S

# No "explain" phase: it traces every call of the engine and makes shrinking three times slower.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
settings.register_profile(
    "ci",
    derandomize=True,
    phases=PHASES,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
if os.environ.get("CI"):
    settings.load_profile("ci")

SCALE = float(os.environ.get("PROPERTY_SCALE", "1"))


def _settings(examples: int) -> settings:
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        phases=PHASES,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


ONE_RUN = _settings(15)  # ~0.3 s per example
TWO_RUNS = _settings(10)  # ~0.7 s per example

SHARE_TOL = 1e-6
FRACTION_TOL = 1e-9
MONTH_KEY = ["month_end", "portfolio_id"]
KEYS = {
    "summary": MONTH_KEY,
    "allocation": [*MONTH_KEY, "rights_holder"],
    "payments": [*MONTH_KEY, "party", "role"],
    "omnibus": [*MONTH_KEY, "account_id", "rights_holder"],
    "cdsc": ["txn_id", "part"],
}
MONEY = MONEY_COLUMNS
SHARES = SHARE_COLUMNS
UNCHANGED = {"allocation": ["share"], "cdsc": ["rate", "year_held"]}
EXACT = {"summary": ["due_date"], "payments": ["due_date"], "cdsc": ["date", "portfolio_id", "account_id", "issue_date", "rights_holder"]}


# --------------------------------------------------------------------------- running the engine


def run(raw: dict[str, pd.DataFrame]) -> MonthlyCalculation:
    """Validate and compute; a rejected feed is a defect of the strategy (or the validator)."""
    try:
        feed = validate(raw)
    except FeedError as err:
        pytest.fail(f"the strategy drew a feed that validate rejects:\n{err}\n\n{S.to_csv_text(raw)}")
    calc = monthly_calculation(feed)
    # statistics (pytest --hypothesis-show-statistics): what the examples exercised
    event(f"lots converted to Class A: {'yes' if raw['transactions'].attrs.get('conversions') else 'no'}")
    event(f"12b-1 Share by attribution: {'yes' if ((calc.allocation['share'] > 0) & (calc.allocation['share'] < 1)).any() else 'no'}")
    for code in sorted(set(calc.exceptions['code'])):
        event(f"exception {code}")
    return calc


def _cents(values: pd.Series) -> pd.Series:
    return (values.astype(float) * 100).round().astype(np.int64)


def _show(raw: dict[str, pd.DataFrame]) -> None:
    note("feed:\n" + S.to_csv_text(raw))


# --------------------------------------------------------------------------- 1-4: one run


def check_attributed_shares(raw, calc: MonthlyCalculation) -> None:
    summary = calc.summary
    assert not summary.duplicated(MONTH_KEY).any(), "one summary row per month and portfolio"
    months = summary["month_end"].nunique()
    assert len(summary) == months * len(raw["portfolios"]), "a summary row for every month and portfolio"
    attributed = calc.allocation.groupby(MONTH_KEY)["attributed_shares"].agg(["sum", lambda s: s.abs().sum()])
    attributed.columns = ["attributed", "magnitude"]
    both = summary.set_index(MONTH_KEY)[["shares_outstanding"]].join(attributed, how="left").fillna(0.0)
    scale = np.maximum(1.0, np.maximum(both["shares_outstanding"].abs(), both["magnitude"]))
    off = both[(both["attributed"] - both["shares_outstanding"]).abs() > SHARE_TOL * scale]
    assert off.empty, f"attributed shares differ from shares outstanding:\n{off}"
    orphan = attributed.index.difference(both.index)
    assert orphan.empty, f"allocation rows without a summary row: {list(orphan)}"


def check_shares_add_up_to_one(calc: MonthlyCalculation) -> None:
    total = calc.allocation.groupby(MONTH_KEY)["share"].sum()
    keys = calc.summary.set_index(MONTH_KEY).index
    total = total.reindex(keys, fill_value=0.0)
    off = total[(total - 1.0).abs() > FRACTION_TOL]
    assert off.empty, f"12b-1 Shares not adding up to 1:\n{off}"


def check_parties_cents(calc: MonthlyCalculation) -> None:
    kinds = ["distribution_fee", "cdsc", "service_fee"]
    pay = calc.payments.assign(**{k: _cents(calc.payments[k]) for k in kinds}).groupby(MONTH_KEY)[kinds].sum()
    summary = calc.summary.set_index(MONTH_KEY)
    tot = summary[kinds].apply(_cents)
    pay = pay.reindex(tot.index, fill_value=0)
    diff = (pay - tot)
    off = diff[(diff != 0).any(axis=1)]
    assert off.empty, f"parties' cents (payments) minus the totals (summary):\n{off}"
    orphan = calc.payments.set_index(MONTH_KEY).index.difference(tot.index)
    assert orphan.empty, f"payments without a summary row: {list(orphan)}"


def check_payable_not_negative(calc: MonthlyCalculation) -> None:
    p = calc.payments
    cents = {c: _cents(p[c]) for c in ("distribution_fee", "cdsc", "service_fee", "offset", "payable")}
    identity = cents["distribution_fee"] + cents["cdsc"] + cents["service_fee"] - cents["offset"] - cents["payable"]
    assert (identity == 0).all(), f"payable != fee + cdsc + service - offset:\n{p[identity != 0]}"
    assert (cents["offset"] >= 0).all(), f"negative offset:\n{p[cents['offset'] < 0]}"
    # Portfolio-months where some Free Share balance or 12b-1 Share went negative, and the
    # month after (the Share of a month end applies to the days of the following month).
    ex = calc.exceptions
    bad = set(map(tuple, ex.loc[ex["code"] == "negative_free_shares", MONTH_KEY].to_numpy().tolist()))
    al = calc.allocation
    neg = al[(al["share"] < -FRACTION_TOL) | (al["attributed_shares"] < -SHARE_TOL) | (al["free_shares"] < -SHARE_TOL)
             | (al["omnibus_free_shares"] < -SHARE_TOL)]
    bad |= set(map(tuple, neg[MONTH_KEY].to_numpy().tolist()))
    bad |= {(m + pd.offsets.MonthEnd(1), pid) for m, pid in bad}
    exempt = pd.Series([(m, pid) in bad for m, pid in zip(p["month_end"], p["portfolio_id"], strict=True)], index=p.index, dtype=bool)
    negative = p[(cents["payable"] < 0) & ~exempt]
    assert negative.empty, f"negative payable with no negative Free Share balance or 12b-1 Share:\n{negative.to_string()}"


@ONE_RUN
@given(raw=S.feeds())
def test_attributed_shares_add_up_to_shares_outstanding(raw):
    _show(raw)
    check_attributed_shares(raw, run(raw))


@ONE_RUN
@given(raw=S.feeds())
def test_shares_add_up_to_one(raw):
    _show(raw)
    check_shares_add_up_to_one(run(raw))


@ONE_RUN
@given(raw=S.feeds())
def test_parties_cents_add_up_to_the_totals(raw):
    _show(raw)
    check_parties_cents(run(raw))


@ONE_RUN
@given(raw=S.feeds())
def test_payable_is_never_negative_without_negative_free_shares(raw):
    _show(raw)
    check_payable_not_negative(run(raw))


@ONE_RUN
@given(feed=S.feeds_with_model())
def test_holdings_match_an_independent_walk_of_the_lots(feed):
    """Shares outstanding, Commission Shares by rights holder and Free Shares at every month end
    agree with the strategy's own walk of lot relief, exchanges and conversions (sections 3-4)."""
    raw, model = feed
    _show(raw)
    calc = run(raw)
    problems = []
    al = calc.allocation.assign(month=calc.allocation["month_end"].dt.date)
    commission = al.groupby(["month", "portfolio_id", "rights_holder"])["commission_shares"].sum().to_dict()
    for key in set(commission) | set(model.commission):
        got, want = commission.get(key, 0.0), model.commission.get(key, 0.0)
        if abs(got - want) > SHARE_TOL * max(1.0, abs(want)):
            problems.append(f"commission_shares at {key}: engine {got!r}, lots walked {want!r}")
    free = (al["free_shares"] + al["omnibus_free_shares"]).groupby([al["month"], al["portfolio_id"]]).sum().to_dict()
    for month, pid in zip(calc.summary["month_end"].dt.date, calc.summary["portfolio_id"], strict=True):
        got, want = free.get((month, pid), 0.0), model.free.get((month, pid), 0.0)
        if abs(got - want) > SHARE_TOL * max(1.0, abs(want)):
            problems.append(f"free + omnibus free shares at {month} {pid}: engine {got!r}, lots walked {want!r}")
    for month, pid, got in zip(calc.summary["month_end"].dt.date, calc.summary["portfolio_id"], calc.summary["shares_outstanding"], strict=True):
        want = model.outstanding(month, pid)
        if abs(got - want) > SHARE_TOL * max(1.0, abs(want)):
            problems.append(f"shares_outstanding at {month} {pid}: engine {got!r}, lots walked {want!r}")
    assert not problems, "\n".join(problems[:30])


# --------------------------------------------------------------------------- 5-8: two runs


def _texts(calc: MonthlyCalculation) -> dict[str, pd.DataFrame]:
    out = {}
    for name, frame in calc.tables().items():
        text = format_table(name, frame).reset_index(drop=True)
        if name == "exceptions":
            text = text.sort_values(list(text.columns), kind="stable").reset_index(drop=True)
        out[name] = text
    return out


def _assert_same_texts(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for name in a:
        x, y = a[name], b[name]
        if x.equals(y):
            continue
        merged = x.merge(y, how="outer", indicator=True)
        diff = merged[merged["_merge"] != "both"]
        raise AssertionError(f"{name}.csv differs ({len(x)} rows vs {len(y)}):\n{diff.to_string()}")


@TWO_RUNS
@given(raw=S.feeds(), rnd=st.randoms(use_true_random=False))
def test_shuffling_rows_changes_nothing(raw, rnd):
    _show(raw)
    shuffled = S.shuffled(raw, rnd)
    note("shuffled feed:\n" + S.to_csv_text(shuffled))
    _assert_same_texts(_texts(run(raw)), _texts(run(shuffled)))


def _numbered(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    if name == "cdsc":  # the parts of one redeem, in order
        frame = frame.assign(part=frame.groupby("txn_id").cumcount())
    return frame


def _month_position(frame: pd.DataFrame, months: list) -> pd.Series:
    pos = {m: i for i, m in enumerate(months)}
    return frame["month_end"].map(pos).astype(float)


def _assert_scaled(a: MonthlyCalculation, b: MonthlyCalculation, money: int, shares: int) -> None:
    """``b`` is ``a`` with money times ``money`` and share counts times ``shares``.

    Tolerances: a rounded total (summary, cdsc parts) within a cent; a party's cents within two
    (each is cut down to the cent and may get one of the missing cents); an offset applied
    within 4 cents per month elapsed (its two Portions' errors, carried with the claim from month
    to month) and ``payable`` within that plus 6 cents.
    """
    months = sorted(a.summary["month_end"].unique())
    for name, key in KEYS.items():
        x, y = _numbered(name, getattr(a, name)), _numbered(name, getattr(b, name))
        numeric = MONEY.get(name, []) + SHARES.get(name, []) + UNCHANGED.get(name, [])
        m = x.merge(y, on=key, how="outer", suffixes=("_a", "_b"), indicator=True)
        for col in numeric:
            m[[f"{col}_a", f"{col}_b"]] = m[[f"{col}_a", f"{col}_b"]].astype(float).fillna(0.0)
        problems = []
        for col in MONEY.get(name, []):  # in whole cents
            tol = pd.Series(1 if name != "payments" else 2, index=m.index)
            if name == "payments" and col in ("offset", "payable"):
                tol = 4 * (_month_position(m, months) + 1) + (6 if col == "payable" else 0)
            bad = (_cents(m[f"{col}_a"]) * money - _cents(m[f"{col}_b"])).abs() > tol
            problems += [f"{col}: {money} x {r[f'{col}_a']} vs {r[f'{col}_b']} at {tuple(r[k] for k in key)}" for _, r in m[bad].iterrows()]
        for col in SHARES.get(name, []):
            scale = np.maximum(1.0, m[f"{col}_b"].abs())
            bad = (m[f"{col}_a"] * shares - m[f"{col}_b"]).abs() > SHARE_TOL * scale
            problems += [f"{col}: {shares} x {r[f'{col}_a']} vs {r[f'{col}_b']} at {tuple(r[k] for k in key)}" for _, r in m[bad].iterrows()]
        for col in UNCHANGED.get(name, []):
            bad = (m[f"{col}_a"] - m[f"{col}_b"]).abs() > FRACTION_TOL
            problems += [f"{col}: {r[f'{col}_a']} vs {r[f'{col}_b']} at {tuple(r[k] for k in key)}" for _, r in m[bad].iterrows()]
        both = m[m["_merge"] == "both"]
        for col in EXACT.get(name, []):
            bad = both[f"{col}_a"].astype(str) != both[f"{col}_b"].astype(str)
            problems += [f"{col}: {r[f'{col}_a']} vs {r[f'{col}_b']} at {tuple(r[k] for k in key)}" for _, r in both[bad].iterrows()]
        if name in ("summary", "cdsc"):  # every row is there whatever its numbers
            alone = m[m["_merge"] != "both"]
            problems += [f"row only in one run ({r['_merge']}): {tuple(r[k] for k in key)}" for _, r in alone.iterrows()]
        assert not problems, f"{name}.csv does not scale ({money}x money, {shares}x shares):\n" + "\n".join(problems[:30])
    ex_key = ["month_end", "portfolio_id", "account_id", "code"]

    def codes(calc):  # offset_unapplied may appear or go with a cent of rounding
        e = calc.exceptions[calc.exceptions["code"] != "offset_unapplied"]
        return Counter(map(tuple, e[ex_key].astype(str).to_numpy().tolist()))

    ca, cb = codes(a), codes(b)
    assert ca == cb, f"exceptions differ: only before {dict(ca - cb)}, only after {dict(cb - ca)}"


@TWO_RUNS
@given(raw=S.feeds())
def test_doubling_every_share_doubles_every_amount(raw):
    _show(raw)
    doubled = S.scale_columns(raw, {"transactions": ["shares"], "nav": ["shares"], "offsets": ["amount"]}, 2)
    _assert_scaled(run(raw), run(doubled), money=2, shares=2)


@TWO_RUNS
@given(raw=S.feeds())
def test_doubling_every_price_doubles_money_not_shares(raw):
    _show(raw)
    doubled = S.scale_columns(raw, {"transactions": ["price"], "nav": ["nav"], "offsets": ["amount"]}, 2)
    _assert_scaled(run(raw), run(doubled), money=2, shares=1)


@TWO_RUNS
@given(raw=S.feeds(), rnd=st.randoms(use_true_random=False))
def test_renaming_accounts_changes_nothing_but_names(raw, rnd):
    _show(raw)
    old = list(raw["accounts"]["account_id"])
    new = [f"Z{n:02d}" for n in range(len(old))]
    rnd.shuffle(new)  # a new name order, so that the sort order of accounts changes
    mapping = dict(zip(old, new, strict=True))
    note(f"renamed: {mapping}")
    a, b = _texts(run(raw)), _texts(run(S.renamed_accounts(raw, mapping)))
    for name in ("omnibus", "exceptions", "cdsc"):
        frame = a[name].copy()
        frame["account_id"] = frame["account_id"].map(lambda x: mapping.get(x, x))
        cols = ["month_end", "portfolio_id", "account_id", "rights_holder"] if name == "omnibus" else list(frame.columns)
        if name == "cdsc":
            cols = None  # the engine orders cdsc.csv by date and txn_id: unchanged
        a[name] = frame if cols is None else frame.sort_values(cols, kind="stable").reset_index(drop=True)
        if cols is not None:
            b[name] = b[name].sort_values(cols, kind="stable").reset_index(drop=True)
    _assert_same_texts(a, b)
