"""Money (RULES.md section 6): daily accrual of the Distribution Fee (SEVENTH
(B)) and the service fee (TENTH), Complete Termination (FIFTEENTH (B)), CDSCs
(FOURTH (D)), assignments (EIGHTH), offsets (EIGHTH (D)) and rounding.

Totals are exact: net assets and rates are decimal in the feed, so each
month's fee total is computed in ``decimal.Decimal`` and rounded half away from
zero; the parties' amounts (which carry the 12b-1 Share, a ratio of share
counts) are floats split from that total by largest remainder, so the parties'
cents add up exactly to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

import numpy as np
import pandas as pd

from calc.arrays import increasing, names_at
from calc.calendar import days_in_year, month_index
from calc.engine.ledger import LedgerChanges
from calc.engine.parties import Parties, Tenures
from calc.feed import Feed
from calc.rules import assignments as assign
from calc.rules import fees, offsets
from calc.rules.cdsc import cdsc_bases, cdsc_rates, years_held_many
from calc.rules.rounding import PRECISION, Exact, round_cents, split_cents, to_decimal
from calc.vocabulary import (
    CDSC,
    COMPLETE_TERMINATION,
    DISTRIBUTION_FEE,
    ROLE_ASSIGNEE,
    ROLE_DISTRIBUTOR,
    ROLE_RIGHTS_HOLDER,
    SERVICE_FEE,
)

__all__ = ["Accruals", "accrue_fees", "apply_offsets", "cdsc_accruals", "cdsc_parts", "round_cents", "split_cents"]


@dataclass
class Accruals:
    """Unrounded parties' amounts and exact totals, by month and portfolio."""

    parties: pd.DataFrame  # month, portfolio_id, kind, party, role, amount (float)
    totals: pd.DataFrame  # month, portfolio_id, kind, total (Decimal, unrounded)
    average_net_assets: pd.DataFrame  # month, portfolio_id, average_net_assets (Decimal, rounded)


def _days(series) -> np.ndarray:
    return np.asarray(series, dtype="datetime64[D]").astype(np.int64)


def _day_grid(first_day: int, last_day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every day of the feed's months: epoch-day numbers, month indices, year lengths."""
    days = np.arange(first_day, last_day + 1, dtype=np.int64)
    return days, month_index(days), days_in_year(days)


def feed_day_range(months: np.ndarray) -> tuple[int, int]:
    """First day of the first month and last day of the last month, as epoch days."""
    firsts = (np.asarray([months[0], months[-1] + 1]) - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    days = firsts.astype(np.int64)
    return int(days[0]), int(days[1]) - 1


def accrue_fees(
    feed: Feed,
    parties: Parties,
    tenures: Tenures,
    months: np.ndarray,
    share: np.ndarray,
    opening_share: np.ndarray | None = None,
    opening_nav: pd.DataFrame | None = None,
    distribution_fee_rates: dict[tuple[str, int], float] | None = None,
) -> Accruals:
    """Daily accrual of both fees on the latest net assets, split by 12b-1 Share and tenure.

    A continuation passes the 12b-1 Share at its state's month end (``opening_share``
    [P, H]) and each portfolio's latest NAV row then (``opening_nav``: portfolio_id,
    date, nav, shares), on which its first days accrue.  ``distribution_fee_rates``
    {(portfolio, month index): rate} replaces a portfolio's rate in those months (a
    projection's blended rate after a Plan amendment, EIGHTH (E)).
    """
    first_feed_day, last_month_end = feed_day_range(months)
    days_all, mi_all, year_days_all = _day_grid(first_feed_day, last_month_end)
    m0 = months[0]

    rates = feed.portfolios.set_index("portfolio_id")
    termination = (
        feed.plan_events[feed.plan_events["kind"] == COMPLETE_TERMINATION].groupby("portfolio_id")["date"].min()
    )
    # Assignments as plain rows (their days as epoch days), looked at per portfolio.
    a = feed.assignments
    assignment_rows = [
        (pid, holder, assignee, float(fee_fraction), _days([start])[0], None if pd.isna(end) else _days([end])[0])
        for pid, holder, assignee, fee_fraction, start, end in zip(
            a["portfolio_id"], a["rights_holder"], a["assignee"], a["fee_fraction"], a["start_date"], a["end_date"],
            strict=True)
    ]
    out: dict[str, list[np.ndarray]] = {c: [] for c in ("month", "kind", "party", "role", "amount", "portfolio_id")}

    def add(month: np.ndarray, kind: str, party, role: str, amount: np.ndarray, pid: str) -> None:
        n = len(month)
        out["month"].append(month)
        out["kind"].append(np.full(n, kind, dtype=object))
        out["party"].append(party if isinstance(party, np.ndarray) else np.full(n, party, dtype=object))
        out["role"].append(np.full(n, role, dtype=object))
        out["amount"].append(amount)
        out["portfolio_id"].append(np.full(n, pid, dtype=object))

    total_rows: list[tuple] = []
    ana_rows: list[tuple] = []
    holders = np.array(parties.holders, dtype=object)
    n_h = len(parties.holders)

    nav_rows = feed.nav if opening_nav is None or opening_nav.empty else pd.concat(
        [opening_nav[["portfolio_id", "date", "nav", "shares"]], feed.nav[["portfolio_id", "date", "nav", "shares"]]],
        ignore_index=True)
    # every portfolio's NAV rows by date (one a day: the order is the dates'), found once
    nav_code = pd.Index(parties.portfolios).get_indexer(nav_rows["portfolio_id"])
    nav_day_all = _days(nav_rows["date"]) if len(nav_rows) else np.zeros(0, np.int64)
    nav_order = np.lexsort((nav_day_all, nav_code))
    nav_bounds = np.searchsorted(nav_code[nav_order], np.arange(len(parties.portfolios) + 1))
    nav_value_all = nav_rows["nav"].to_numpy(dtype=float)
    nav_shares_all = nav_rows["shares"].to_numpy(dtype=float)
    for pi, pid in enumerate(parties.portfolios):
        at = nav_order[nav_bounds[pi]:nav_bounds[pi + 1]]
        if len(at) == 0:
            continue
        nav_days = nav_day_all[at]
        sel = days_all >= nav_days[0]
        days, mi, year_days = days_all[sel], mi_all[sel], year_days_all[sel]
        if len(days) == 0:
            continue
        row = np.searchsorted(nav_days, days, side="right") - 1
        nav_v = nav_value_all[at]
        sh_v = nav_shares_all[at]
        net_assets = nav_v[row] * sh_v[row]
        term = termination.get(pid)
        accruing = fees.accruing(days, _days([term])[0] if term is not None and not pd.isna(term) else None)
        dist_rate = float(rates.at[pid, "distribution_fee_rate"])
        svc_rate = float(rates.at[pid, "service_fee_rate"])
        t = mi - m0
        month_rate = {tt: dist_rate for tt in np.unique(t).tolist()}
        if distribution_fee_rates:
            month_rate.update({tt: distribution_fee_rates[(pid, int(months[tt]))] for tt in month_rate
                               if (pid, int(months[tt])) in distribution_fee_rates})
            day_rate = np.array([month_rate[tt] for tt in t.tolist()])
        else:
            day_rate = dist_rate
        fee = fees.daily_fee(day_rate, net_assets, year_days, accruing)
        svc = fees.daily_fee(svc_rate, net_assets, year_days, accruing)

        # Exact totals and average daily net assets (section 6), by month.
        all_sum, acc_sum, count = fees.exact_net_asset_sums(nav_v, sh_v, t, row, accruing)
        yd_of = dict(zip(t.tolist(), year_days.tolist(), strict=True))
        with localcontext() as ctx:
            ctx.prec = PRECISION
            for tt in sorted(all_sum):
                m = int(months[tt])
                ana_rows.append((m, pid, round_cents(all_sum[tt] / count[tt])))
                s = acc_sum.get(tt, Decimal(0))
                total_rows.append((m, pid, DISTRIBUTION_FEE, fees.fee_total(month_rate[tt], s, yd_of[tt])))
                total_rows.append((m, pid, SERVICE_FEE, fees.fee_total(svc_rate, s, yd_of[tt])))

        # The 12b-1 Share in force each day: S(m-1); in the feed's first month, the serving
        # tenure (a continuation's first month: the state's S(m-1)).
        serving = tenures.serving_many(pi, days)
        day_share = np.zeros((len(days), n_h))
        later = t > 0
        day_share[later] = share[t[later] - 1, pi, :]
        first = ~later
        if opening_share is None:
            day_share[first, serving[first]] = 1.0
        else:
            day_share[first] = opening_share[pi]
        accrued = day_share * fee[:, None]  # [days, H]: each rights holder's 12b-1 Share of the fee

        # Assignments (EIGHTH): the assignee's fraction of its rights holder's accrual, day by day.
        own_fraction = np.ones((len(days), n_h))
        assigned: dict[str, np.ndarray] = {}
        for a_pid, a_holder, assignee, fee_fraction, start, end in assignment_rows:
            if (a_pid != "" and a_pid != pid) or a_holder not in parties.holder_index:
                continue
            h = parties.holder_index[a_holder]
            window = assign.in_effect(days, start, end)
            frac = np.where(window, fee_fraction, 0.0)
            own_fraction[:, h] -= frac
            assigned[assignee] = assigned.get(assignee, 0.0) + assign.portion(accrued[:, h], fee_fraction, window)
        n_t = len(months)
        own = np.stack([np.bincount(t, weights=accrued[:, h] * own_fraction[:, h], minlength=n_t) for h in range(n_h)], axis=1)
        tt_idx, hh_idx = np.nonzero(own != 0.0)
        add(months[tt_idx], DISTRIBUTION_FEE, holders[hh_idx], ROLE_RIGHTS_HOLDER, own[tt_idx, hh_idx], pid)
        for assignee, weights in assigned.items():
            by_month = np.bincount(t, weights=weights, minlength=n_t)
            nz = np.flatnonzero(by_month != 0.0)
            add(months[nz], DISTRIBUTION_FEE, assignee, ROLE_ASSIGNEE, by_month[nz], pid)
        # Service fee (TENTH, NINETEENTH): to the serving tenure's rights holder, never assigned.
        svc_by = np.zeros((n_t, n_h))
        np.add.at(svc_by, (t, serving), svc)
        tt_idx, hh_idx = np.nonzero(svc_by != 0.0)
        add(months[tt_idx], SERVICE_FEE, holders[hh_idx], ROLE_DISTRIBUTOR, svc_by[tt_idx, hh_idx], pid)

    parties_frame = pd.DataFrame({
        c: np.concatenate(v) if v else np.zeros(0, dtype=np.int64 if c == "month" else float if c == "amount"
                                                 else object)
        for c, v in out.items()})
    totals = pd.DataFrame(total_rows, columns=["month", "portfolio_id", "kind", "total"])
    ana = pd.DataFrame(ana_rows, columns=["month", "portfolio_id", "average_net_assets"])
    return Accruals(parties_frame, totals, ana)


CDSC_PART_COLUMNS = ["txn_id", "date", "portfolio_id", "account_id", "issue_date", "shares", "year_held", "rate",
                     "base", "cdsc", "waived", "rights_holder", "portfolio", "holder", "cdsc_exact", "cost", "value",
                     "month", "row", "is_waived", "exact", "exact_exponent"]


def cdsc_parts(changes: LedgerChanges, parties: Parties, schedules: dict[str, tuple[float, ...]]) -> pd.DataFrame:
    """FOURTH (D): one row per Commission lot part taken by a redeem, exact to the decimal,
    every part at once (:mod:`calc.rules.cdsc` on arrays).

    ``changes.cdsc`` carries each part's redemption (txn_id, day, price, waiver);
    ``schedules``: each portfolio's CDSC schedule (percents by year held).  Money
    columns are rounded to the cent; ``cdsc_exact`` is the unwaived charge unrounded
    (a float, 0 when waived); ``exact`` the charge itself, exact, as Python-integer
    numerators over ``10 ** -exact_exponent`` (one exponent for every part), before
    any waiver (``is_waived``); ``row``: the redemption's row in the feed.
    """
    c = changes.cdsc
    if not len(c):
        return pd.DataFrame({col: [] for col in CDSC_PART_COLUMNS})
    day = c["day"].to_numpy(dtype=np.int64)
    issue = c["issue"].to_numpy(dtype=np.int64)
    shares = c["shares"].to_numpy(dtype=float)
    price = c["price"].to_numpy(dtype=float)
    cost = c["cost"].to_numpy(dtype=float)
    waived = c["waived"].to_numpy(dtype=bool)
    k = years_held_many(issue, day)
    table = [schedules[pid] for pid in parties.portfolios]
    portfolio = c["portfolio"].to_numpy(dtype=np.int64)
    rate = cdsc_rates(table, portfolio, k)
    # a part's rate is its portfolio's for its year held: as floats, each distinct one once
    low, width = int(k.min()), int(k.max() - k.min()) + 1
    pairs, at = np.unique(portfolio * width + (k - low), return_inverse=True)
    rate_float = cdsc_rates(table, pairs // width, pairs % width + low).to_float()[at]
    base = cdsc_bases(cost, shares, price)
    amount = rate * base
    del rate
    exponent = int(amount.exponent.min())
    cents = amount.cents().astype(np.int64) / 100.0
    base_cents = base.cents().astype(np.int64) / 100.0
    amount_float = amount.to_float()
    exact = amount.at(exponent)
    del base, amount  # Python integers, one per part: not all alive at once while the frame is built
    names = {what: (lambda codes, what=what: names_at(getattr(parties, what), codes))
             for what in ("portfolios", "account_names", "holders")}
    frame = pd.DataFrame({
        "txn_id": c["txn_id"].reset_index(drop=True),
        "date": day.astype("datetime64[D]").astype("datetime64[ns]"),
        "portfolio_id": names["portfolios"](c["portfolio"].to_numpy(dtype=np.int64)),
        "account_id": names["account_names"](c["account"].to_numpy(dtype=np.int64)),
        "issue_date": issue.astype("datetime64[D]").astype("datetime64[ns]"),
        "shares": shares,
        "year_held": k,
        "rate": rate_float,
        "base": base_cents,
        "cdsc": np.where(waived, 0.0, cents),
        "waived": np.where(waived, cents, 0.0),
        "rights_holder": names["holders"](c["holder"].to_numpy(dtype=np.int64)),
        "portfolio": c["portfolio"].to_numpy(dtype=np.int64),  # codes (``parties``)
        "holder": c["holder"].to_numpy(dtype=np.int64),
        "cdsc_exact": np.where(waived, 0.0, amount_float),
        "cost": cost,
        "value": shares * price,
        "month": month_index(day.astype("datetime64[D]")),
        "row": c["row"].to_numpy(dtype=np.int64) if "row" in c else np.zeros(len(c), dtype=np.int64),
        "is_waived": waived,
        "exact": exact,
        "exact_exponent": exponent,
    })
    return frame


def cdsc_in_date_order(parts: pd.DataFrame, feed: Feed, columns: list[str] | None = None) -> pd.DataFrame:
    """The parts by redemption date, then txn_id (as text), each redemption's parts in
    relief order: ``parts.sort_values(["date", "txn_id"], kind="stable")`` without
    sorting text when the feed's txn_ids already run in its row order; only ``columns``
    (default all) are taken."""
    if parts.empty:
        return parts if columns is None else parts[columns]
    txn = feed.transactions["txn_id"]
    rows = parts["row"].to_numpy(dtype=np.int64)
    if len(txn) == len(feed.transactions) and increasing(txn):
        rank = rows  # text order is row order
    else:
        rank = pd.factorize(parts["txn_id"], sort=True)[0]
    order = np.lexsort((np.arange(len(parts)), rank, parts["date"].to_numpy(dtype="datetime64[ns]").view(np.int64)))
    return (parts if columns is None else parts[columns]).iloc[order]


def _exact_sums(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Exact (Python-integer) sums of ``values`` by group code."""
    out = np.zeros(n_groups, dtype=object)
    if len(values) == 0:
        return out
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    starts = np.flatnonzero(np.concatenate([[True], g[1:] != g[:-1]]))
    out[g[starts]] = np.add.reduceat(values[order], starts)
    return out


def _assigned_parts(earned: pd.DataFrame, assignments: pd.DataFrame, portfolios: list[str],
                    holders: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each (part, assignment) pair where the assignment takes a share of the part's CDSC:
    the part's rights holder's, for its portfolio or all, in effect on the redemption
    day; by part, then assignment (as an inner merge on the rights holder orders them)."""
    holder = earned["holder"].to_numpy(dtype=np.int64)
    portfolio = earned["portfolio"].to_numpy(dtype=np.int64)
    day = earned["date"].to_numpy(dtype="datetime64[ns]")
    holder_code = {h: k for k, h in enumerate(holders)}
    portfolio_code = {p: k for k, p in enumerate(portfolios)}
    parts, which = [], []
    for k, a in enumerate(assignments.itertuples(index=False)):
        hit = (holder == holder_code.get(a.rights_holder, -1)) & (day >= np.datetime64(a.start_date, "ns"))
        if a.portfolio_id != "":
            hit &= portfolio == portfolio_code.get(a.portfolio_id, -1)
        if not pd.isna(a.end_date):
            hit &= day <= np.datetime64(a.end_date, "ns")
        found = np.flatnonzero(hit)
        parts.append(found)
        which.append(np.full(len(found), k, dtype=np.int64))
    part = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    assignment = np.concatenate(which) if which else np.zeros(0, dtype=np.int64)
    order = np.lexsort((assignment, part))
    return part[order], assignment[order]


def cdsc_accruals(parts: pd.DataFrame, assignments: pd.DataFrame, portfolios: list[str],
                  holders: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """CDSC by party and exact totals (FOURTH (D), EIGHTH).

    Each part's CDSC belongs to the lot's rights holder; an assignment of that
    holder in effect on the redemption day, for that portfolio or all, takes its
    ``cdsc_fraction`` (the Assignee's CDSC Portion, exact: the charge times the
    fraction as written); the rest is the holder's own.  ``portfolios`` and
    ``holders``: the names of the parts' codes (sorted, as ``Parties`` has them).
    The parties' amounts are added up by (month, portfolio, kind, party, role) as
    ``groupby(...).sum()`` adds them, on codes in the names' order.
    """
    cols = ["month", "portfolio_id", "kind", "party", "role", "amount"]
    totals_cols = ["month", "portfolio_id", "kind", "total", "waived"]
    if parts.empty:
        return pd.DataFrame({c: [] for c in cols}), pd.DataFrame({c: [] for c in totals_cols})
    exponent = int(parts["exact_exponent"].iloc[0])
    exact = parts["exact"].to_numpy(dtype=object)
    is_waived = parts["is_waived"].to_numpy(dtype=bool)
    keep = ~is_waived & np.asarray(exact != 0, dtype=bool)
    earned = parts.loc[keep, ["month", "portfolio", "holder", "date"]].reset_index(drop=True)
    earned_exact = exact[keep]
    a = assignments[["assignee", "rights_holder", "portfolio_id", "start_date", "end_date", "cdsc_fraction"]]
    part, which = _assigned_parts(earned, a, portfolios, holders)
    fraction = Exact.of_floats(a["cdsc_fraction"].to_numpy(dtype=float))[which]
    portions = Exact(earned_exact[part], np.full(len(part), exponent, dtype=np.int64)) * fraction
    low = int(min(exponent, portions.exponent.min())) if len(part) else exponent
    given = _exact_sums(part, portions.at(low), len(earned))
    own_left = Exact(Exact(earned_exact, np.full(len(earned), exponent, dtype=np.int64)).at(low) - given,
                     np.full(len(earned), low, dtype=np.int64))
    amount = np.concatenate([own_left.to_float(), portions.to_float()])
    del fraction, portions, given, own_left  # Python integers, a few per part: freed before the groupby
    # parties and roles as codes in name order: the groups sort as the names do
    party_names = sorted(set(holders) | set(a["assignee"]))
    party_of = {name: k for k, name in enumerate(party_names)}
    role_names = sorted([ROLE_RIGHTS_HOLDER, ROLE_ASSIGNEE])
    holder_party = np.array([party_of[h] for h in holders], dtype=np.int64)
    assignee_party = np.array([party_of[x] for x in a["assignee"]], dtype=np.int64)
    month = earned["month"].to_numpy(dtype=np.int64)
    portfolio = earned["portfolio"].to_numpy(dtype=np.int64)
    coded = pd.DataFrame({
        "month": np.concatenate([month, month[part]]),
        "portfolio": np.concatenate([portfolio, portfolio[part]]),
        "party": np.concatenate([holder_party[earned["holder"].to_numpy(dtype=np.int64)], assignee_party[which]]),
        "role": np.concatenate([np.full(len(earned), role_names.index(ROLE_RIGHTS_HOLDER)),
                                np.full(len(part), role_names.index(ROLE_ASSIGNEE))]),
        "amount": amount,
    })
    summed = coded.groupby(["month", "portfolio", "party", "role"], as_index=False)["amount"].sum()
    frame = pd.DataFrame({
        "month": summed["month"].to_numpy(),
        "portfolio_id": np.asarray(portfolios, dtype=object)[summed["portfolio"].to_numpy()],
        "kind": CDSC,
        "party": np.asarray(party_names, dtype=object)[summed["party"].to_numpy()],
        "role": np.asarray(role_names, dtype=object)[summed["role"].to_numpy()],
        "amount": summed["amount"].to_numpy(),
    })
    # exact totals by month and portfolio, in the order the parts first name them
    month = parts["month"].to_numpy(dtype=np.int64)
    codes, first = pd.factorize(month * (len(portfolios) + 1) + parts["portfolio"].to_numpy(dtype=np.int64))
    charged = _exact_sums(codes, np.where(is_waived, 0, exact), len(first))
    waived = _exact_sums(codes, np.where(is_waived, exact, 0), len(first))
    scale = np.full(len(first), exponent, dtype=np.int64)
    totals = pd.DataFrame({
        "month": first // (len(portfolios) + 1),
        "portfolio_id": np.asarray(portfolios, dtype=object)[first % (len(portfolios) + 1)],
        "kind": CDSC, "total": Exact(charged, scale).to_decimal(), "waived": Exact(waived, scale).to_decimal(),
    }, columns=totals_cols)
    return frame, totals


def apply_offsets(
    own: pd.DataFrame,
    claims: pd.DataFrame,
    months: np.ndarray,
    carried: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """EIGHTH (D) (:func:`calc.rules.offsets.apply_claims`) for every portfolio and rights
    holder with a claim dated in ``months`` or one carried in (``carried``: portfolio_id,
    party, amount as Decimal).

    ``own``: month, portfolio_id, party, distribution_fee_cents, cdsc_cents (role rights_holder).
    Returns (applied: month, portfolio_id, party, offset_cents) and the claims still
    unapplied after the last month (portfolio_id, party, amount as Decimal).
    """
    applied_rows, left_rows = [], []
    claims = claims.assign(month=month_index(claims["date"].to_numpy().astype("datetime64[D]")))
    claims = claims[claims["month"] >= months[0]] if len(months) else claims.iloc[0:0]
    by_pair: dict[tuple[str, str], dict[int, Decimal]] = {}
    for (pid, party), group in claims.groupby(["portfolio_id", "rights_holder"], sort=True):
        by_pair[(pid, party)] = group.groupby("month")["amount"].apply(
            lambda s: sum((to_decimal(v) for v in s), Decimal(0))).to_dict()
    carry_in = {} if carried is None else {
        (pid, party): amount for pid, party, amount in carried[["portfolio_id", "party", "amount"]].itertuples(index=False)
    }
    if not by_pair and not carry_in:
        return (pd.DataFrame(columns=["month", "portfolio_id", "party", "offset_cents"]),
                pd.DataFrame(columns=["portfolio_id", "party", "amount"]))
    pairs = sorted(set(by_pair) | set(carry_in))
    wanted = own[pd.MultiIndex.from_frame(own[["portfolio_id", "party"]]).isin(pairs)]
    room_of = {
        (pid, party, int(m)): offsets.room(fee, cdsc)
        for pid, party, m, fee, cdsc in wanted[["portfolio_id", "party", "month", "distribution_fee_cents",
                                                "cdsc_cents"]].itertuples(index=False)
    }
    for pid, party in pairs:
        by_month = by_pair.get((pid, party), {})
        rooms = [room_of.get((pid, party, int(m)), Decimal(0)) for m in months]
        taken, carry = offsets.apply_claims((by_month.get(m, Decimal(0)) for m in months), rooms,
                                            carry_in.get((pid, party), Decimal(0)))
        applied_rows += [(m, pid, party, cents) for m, cents in zip(months, taken, strict=True) if cents > 0]
        if carry > 0:
            left_rows.append((pid, party, carry))
    return (pd.DataFrame(applied_rows, columns=["month", "portfolio_id", "party", "offset_cents"]),
            pd.DataFrame(left_rows, columns=["portfolio_id", "party", "amount"]))
