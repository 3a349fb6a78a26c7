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
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pandas as pd

from calc.calendar import days_in_year, month_index, years_held
from calc.feed import Feed
from calc.ledger import LedgerChanges, Parties, Tenures

CENT = Decimal("0.01")
DISTRIBUTION_FEE = "distribution_fee"
SERVICE_FEE = "service_fee"
CDSC = "cdsc"
KINDS_OF_MONEY = (DISTRIBUTION_FEE, CDSC, SERVICE_FEE)
ROLE_RIGHTS_HOLDER = "rights_holder"
ROLE_ASSIGNEE = "assignee"
ROLE_DISTRIBUTOR = "distributor"
OFFSET_UNAPPLIED = "offset_unapplied"
COMPLETE_TERMINATION = "complete_termination"
_PRECISION = 60


def to_decimal(x: float) -> Decimal:
    """The decimal a float was written as (shortest round-trip repr)."""
    return Decimal(repr(float(x)))


def round_cents(x: Decimal) -> Decimal:
    """Half away from zero, to the cent."""
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


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


def _scaled_integers(values: np.ndarray) -> tuple[list[int], int] | None:
    """``values`` as integers over a power of ten, exactly, when every value is a
    decimal of at most 9 places that fits; else None."""
    for places in (0, 2, 4, 6, 9):
        scale = 10.0**places
        scaled = np.round(values * scale)
        if np.all(np.abs(scaled) < 2**53) and np.array_equal(scaled / scale, values):
            return scaled.astype(np.int64).tolist(), places
    return None


def exact_net_asset_sums(
    nav: np.ndarray, shares: np.ndarray, t: np.ndarray, row: np.ndarray, accruing: np.ndarray
) -> tuple[dict[int, Decimal], dict[int, Decimal], dict[int, int]]:
    """Exact sums of daily net assets (nav x shares of each day's nav row) by month:
    all days, accruing days, and the day counts."""
    n_rows = len(nav)
    key = (t * n_rows + row) * 2 + accruing.astype(np.int64)
    uniq, counts = np.unique(key, return_counts=True)
    tt_u, rest = np.divmod(uniq, n_rows * 2)
    row_u, acc_u = np.divmod(rest, 2)
    a, b = _scaled_integers(nav), _scaled_integers(shares)
    if a is not None and b is not None:
        products = [x * y for x, y in zip(a[0], b[0], strict=True)]
        unit = Decimal(1).scaleb(-(a[1] + b[1]))
    else:
        products = [to_decimal(x) * to_decimal(y) for x, y in zip(nav, shares, strict=True)]
        unit = Decimal(1)
    all_int: dict[int, int | Decimal] = {}
    acc_int: dict[int, int | Decimal] = {}
    count: dict[int, int] = {}
    for tt, r, acc, n in zip(tt_u.tolist(), row_u.tolist(), acc_u.tolist(), counts.tolist(), strict=True):
        amount = products[r] * n
        all_int[tt] = all_int.get(tt, 0) + amount
        count[tt] = count.get(tt, 0) + n
        if acc:
            acc_int[tt] = acc_int.get(tt, 0) + amount
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return (
            {k: Decimal(v) * unit for k, v in all_int.items()},
            {k: Decimal(v) * unit for k, v in acc_int.items()},
            count,
        )


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
) -> Accruals:
    """Daily accrual of both fees on the latest net assets, split by 12b-1 Share and tenure."""
    first_feed_day, last_month_end = feed_day_range(months)
    days_all, mi_all, year_days_all = _day_grid(first_feed_day, last_month_end)
    m0 = months[0]

    rates = feed.portfolios.set_index("portfolio_id")
    termination = (
        feed.plan_events[feed.plan_events["kind"] == COMPLETE_TERMINATION].groupby("portfolio_id")["date"].min()
    )
    assignments = feed.assignments
    party_rows: list[pd.DataFrame] = []
    total_rows: list[tuple] = []
    ana_rows: list[tuple] = []
    holders = np.array(parties.holders, dtype=object)
    n_h = len(parties.holders)

    for pi, pid in enumerate(parties.portfolios):
        nav = feed.nav[feed.nav["portfolio_id"] == pid].sort_values("date")
        if nav.empty:
            continue
        nav_days = _days(nav["date"])
        sel = days_all >= nav_days[0]
        days, mi, year_days = days_all[sel], mi_all[sel], year_days_all[sel]
        if len(days) == 0:
            continue
        row = np.searchsorted(nav_days, days, side="right") - 1
        nav_v = nav["nav"].to_numpy(dtype=float)
        sh_v = nav["shares"].to_numpy(dtype=float)
        net_assets = nav_v[row] * sh_v[row]
        term = termination.get(pid)
        accruing = days < (_days([term])[0] if term is not None and not pd.isna(term) else np.iinfo(np.int64).max)
        dist_rate = float(rates.at[pid, "distribution_fee_rate"])
        svc_rate = float(rates.at[pid, "service_fee_rate"])
        fee = np.where(accruing, dist_rate * net_assets / year_days, 0.0)
        svc = np.where(accruing, svc_rate * net_assets / year_days, 0.0)
        t = mi - m0

        # Exact totals and average daily net assets (section 6), by month.
        all_sum, acc_sum, count = exact_net_asset_sums(nav_v, sh_v, t, row, accruing)
        dist_rate_d = to_decimal(dist_rate)
        svc_rate_d = to_decimal(svc_rate)
        yd_of = dict(zip(t.tolist(), year_days.tolist(), strict=True))
        with localcontext() as ctx:
            ctx.prec = _PRECISION
            for tt in sorted(all_sum):
                m = int(months[tt])
                ana_rows.append((m, pid, round_cents(all_sum[tt] / count[tt])))
                s = acc_sum.get(tt, Decimal(0))
                total_rows.append((m, pid, DISTRIBUTION_FEE, dist_rate_d * s / yd_of[tt]))
                total_rows.append((m, pid, SERVICE_FEE, svc_rate_d * s / yd_of[tt]))

        # The 12b-1 Share in force each day: S(m-1); in the feed's first month, the serving tenure.
        serving = tenures.serving_many(pi, days)
        day_share = np.zeros((len(days), n_h))
        later = t > 0
        day_share[later] = share[t[later] - 1, pi, :]
        first = ~later
        day_share[first, serving[first]] = 1.0
        accrued = day_share * fee[:, None]  # [days, H]: each rights holder's 12b-1 Share of the fee

        # Assignments (EIGHTH): the assignee's fraction of its rights holder's accrual, day by day.
        own_fraction = np.ones((len(days), n_h))
        rel = assignments[(assignments["portfolio_id"] == "") | (assignments["portfolio_id"] == pid)]
        assigned: dict[str, np.ndarray] = {}
        for a in rel.itertuples(index=False):
            if a.rights_holder not in parties.holder_index:
                continue
            h = parties.holder_index[a.rights_holder]
            start = _days([a.start_date])[0]
            end = _days([a.end_date])[0] if not pd.isna(a.end_date) else np.iinfo(np.int64).max
            window = (days >= start) & (days <= end)
            frac = np.where(window, float(a.fee_fraction), 0.0)
            own_fraction[:, h] -= frac
            assigned[a.assignee] = assigned.get(a.assignee, 0.0) + frac * accrued[:, h]
        n_t = len(months)
        own = np.stack([np.bincount(t, weights=accrued[:, h] * own_fraction[:, h], minlength=n_t) for h in range(n_h)], axis=1)
        frames = []
        tt_idx, hh_idx = np.nonzero(own != 0.0)
        frames.append(pd.DataFrame({
            "month": months[tt_idx], "kind": DISTRIBUTION_FEE, "party": holders[hh_idx],
            "role": ROLE_RIGHTS_HOLDER, "amount": own[tt_idx, hh_idx],
        }))
        for assignee, weights in assigned.items():
            by_month = np.bincount(t, weights=weights, minlength=n_t)
            nz = np.flatnonzero(by_month != 0.0)
            frames.append(pd.DataFrame({
                "month": months[nz], "kind": DISTRIBUTION_FEE, "party": assignee,
                "role": ROLE_ASSIGNEE, "amount": by_month[nz],
            }))
        # Service fee (TENTH, NINETEENTH): to the serving tenure's rights holder, never assigned.
        svc_by = np.zeros((n_t, n_h))
        np.add.at(svc_by, (t, serving), svc)
        tt_idx, hh_idx = np.nonzero(svc_by != 0.0)
        frames.append(pd.DataFrame({
            "month": months[tt_idx], "kind": SERVICE_FEE, "party": holders[hh_idx],
            "role": ROLE_DISTRIBUTOR, "amount": svc_by[tt_idx, hh_idx],
        }))
        frame = pd.concat(frames, ignore_index=True)
        frame["portfolio_id"] = pid
        party_rows.append(frame)

    parties_frame = (
        pd.concat(party_rows, ignore_index=True)
        if party_rows
        else pd.DataFrame({c: [] for c in ["month", "kind", "party", "role", "amount", "portfolio_id"]})
    )
    totals = pd.DataFrame(total_rows, columns=["month", "portfolio_id", "kind", "total"])
    ana = pd.DataFrame(ana_rows, columns=["month", "portfolio_id", "average_net_assets"])
    return Accruals(parties_frame, totals, ana)


def cdsc_parts(feed: Feed, parties: Parties, changes: LedgerChanges) -> pd.DataFrame:
    """FOURTH (D): one row per Commission lot part taken by a redeem, exact to the decimal."""
    cols = ["txn_id", "date", "portfolio_id", "account_id", "issue_date", "shares", "year_held", "rate",
            "base", "cdsc", "waived", "rights_holder", "cdsc_exact", "waived_exact", "month"]
    if not changes.cdsc:
        return pd.DataFrame({c: [] for c in cols})
    tx = feed.transactions
    schedules = feed.portfolios.set_index("portfolio_id")["cdsc_schedule"].to_dict()
    raw_schedules = {pid: [Decimal(str(v)) for v in sched] for pid, sched in schedules.items()}
    # the redeems' columns, one item per part (not the whole transactions table)
    redeem = np.fromiter((part[0] for part in changes.cdsc), dtype=np.int64, count=len(changes.cdsc))
    day = tx["date"].to_numpy(dtype="datetime64[D]").astype(np.int64)[redeem].tolist()
    price = tx["price"].to_numpy(dtype=float)[redeem].tolist()
    waiver = tx["waiver"].iloc[redeem].to_numpy(dtype=object)
    txn_ids = tx["txn_id"].iloc[redeem].to_numpy(dtype=object)
    accounts = tx["account_id"].iloc[redeem].to_numpy(dtype=object)
    rows = []
    hundred = Decimal(100)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        for j, (_ti, issue, shares, cost, holder, pi) in enumerate(changes.cdsc):
            pid = parties.portfolios[pi]
            k = years_held(issue, day[j])
            sched = raw_schedules[pid]
            rate = sched[k - 1] / hundred if k <= len(sched) else Decimal(0)
            base = min(to_decimal(cost), to_decimal(shares) * to_decimal(price[j]))
            amount = rate * base
            waived = bool(waiver[j])
            rows.append((
                txn_ids[j], day[j], pid, accounts[j], issue, shares, k, float(rate),
                float(round_cents(base)), float(round_cents(amount)) if not waived else 0.0,
                float(round_cents(amount)) if waived else 0.0, parties.holders[holder],
                Decimal(0) if waived else amount, amount if waived else Decimal(0),
            ))
    frame = pd.DataFrame(rows, columns=cols[:-1])
    frame["month"] = month_index(frame["date"].to_numpy().astype("datetime64[D]"))
    frame["date"] = frame["date"].to_numpy().astype("datetime64[D]").astype("datetime64[ns]")
    frame["issue_date"] = frame["issue_date"].to_numpy().astype("datetime64[D]").astype("datetime64[ns]")
    return frame


def cdsc_accruals(parts: pd.DataFrame, feed: Feed) -> tuple[pd.DataFrame, pd.DataFrame]:
    """CDSC by party and exact totals (FOURTH (D), EIGHTH).

    Each part's CDSC belongs to the lot's rights holder; an assignment of that
    holder in effect on the redemption day, for that portfolio or all, takes its
    ``cdsc_fraction`` (the Assignee's CDSC Portion); the rest is the holder's own.
    """
    cols = ["month", "portfolio_id", "kind", "party", "role", "amount"]
    totals_cols = ["month", "portfolio_id", "kind", "total", "waived"]
    if parts.empty:
        return pd.DataFrame({c: [] for c in cols}), pd.DataFrame({c: [] for c in totals_cols})
    earned = parts[parts["cdsc_exact"] != 0].reset_index(drop=True)
    earned = earned.assign(part=np.arange(len(earned)))
    a = feed.assignments[["assignee", "rights_holder", "portfolio_id", "start_date", "end_date", "cdsc_fraction"]]
    matched = earned[["part", "month", "portfolio_id", "rights_holder", "date", "cdsc_exact"]].merge(
        a.rename(columns={"portfolio_id": "assigned_portfolio"}), on="rights_holder"
    )
    matched = matched[
        ((matched["assigned_portfolio"] == "") | (matched["assigned_portfolio"] == matched["portfolio_id"]))
        & (matched["start_date"] <= matched["date"])
        & (matched["end_date"].isna() | (matched["end_date"] >= matched["date"]))
    ]
    portions = [amount * to_decimal(f) for amount, f in zip(matched["cdsc_exact"], matched["cdsc_fraction"], strict=True)]
    assigned = pd.DataFrame({
        "month": matched["month"].to_numpy(), "portfolio_id": matched["portfolio_id"].to_numpy(),
        "kind": CDSC, "party": matched["assignee"].to_numpy(), "role": ROLE_ASSIGNEE,
        "amount": [float(v) for v in portions],
    })
    given = dict.fromkeys(range(len(earned)), Decimal(0))
    for part, portion in zip(matched["part"], portions, strict=True):
        given[part] += portion
    own = pd.DataFrame({
        "month": earned["month"], "portfolio_id": earned["portfolio_id"], "kind": CDSC,
        "party": earned["rights_holder"], "role": ROLE_RIGHTS_HOLDER,
        "amount": [float(amount - given[i]) for i, amount in enumerate(earned["cdsc_exact"])],
    })
    frame = pd.concat([own, assigned], ignore_index=True)
    frame = frame.groupby(["month", "portfolio_id", "kind", "party", "role"], as_index=False)["amount"].sum()
    sums: dict[tuple[int, str], list[Decimal]] = {}
    for m, pid, amount, waived in zip(parts["month"], parts["portfolio_id"], parts["cdsc_exact"], parts["waived_exact"], strict=True):
        acc = sums.setdefault((int(m), pid), [Decimal(0), Decimal(0)])
        acc[0] += amount
        acc[1] += waived
    totals = pd.DataFrame(
        [(m, pid, CDSC, total, waived) for (m, pid), (total, waived) in sums.items()], columns=totals_cols
    )
    return frame, totals


def split_cents(parties: pd.DataFrame, totals: pd.DataFrame) -> pd.DataFrame:
    """Round each (month, portfolio, kind) total half away from zero and split its cents
    among the parties by largest remainder (ties: party name, then role).

    ``parties``: month, portfolio_id, kind, party, role, amount (float, unrounded);
    ``totals``: month, portfolio_id, kind, total (Decimal, unrounded).
    Returns ``parties`` with ``cents`` (int).
    """
    if parties.empty:
        return parties.assign(cents=pd.Series(dtype=np.int64))
    key = ["month", "portfolio_id", "kind"]
    tot = totals[key + ["total"]].copy()
    tot["total_cents"] = [int(round_cents(v) * 100) for v in tot["total"]]
    frame = parties.merge(tot[key + ["total_cents"]], on=key, how="left")
    frame["total_cents"] = frame["total_cents"].fillna(0).astype(np.int64)
    scaled = frame["amount"].to_numpy(dtype=float) * 100.0
    floor = np.floor(scaled + 1e-6)
    remainder = np.round(scaled - floor, 6)
    frame["cents"] = floor.astype(np.int64)
    frame["_rem"] = remainder
    frame = frame.sort_values(key + ["_rem", "party", "role"], ascending=[True, True, True, False, True, True], kind="stable")
    group = frame.groupby(key, sort=False)
    missing = (frame["total_cents"] - group["cents"].transform("sum")).to_numpy()
    size = group["cents"].transform("size").to_numpy()
    rank = group.cumcount().to_numpy()
    # Cents still missing go one each to the largest remainders; more than one round if ever needed.
    extra = np.where(missing >= 0, missing // size + (rank < missing % size), -((-missing) // size) - (rank >= size - (-missing) % size))
    frame["cents"] = frame["cents"] + extra
    return frame.drop(columns=["_rem", "total_cents"]).sort_index()


def apply_offsets(
    own: pd.DataFrame,
    offsets: pd.DataFrame,
    months: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """EIGHTH (D): claims reduce the rights holder's own rounded Portions, 12b-1 first then CDSC,
    never below zero; what is left carries to the next month.

    ``own``: month, portfolio_id, party, distribution_fee_cents, cdsc_cents (role rights_holder).
    Returns (applied: month, portfolio_id, party, offset_cents) and the unapplied claims after
    the last month (portfolio_id, party, cents).
    """
    applied_rows, left_rows = [], []
    if offsets.empty:
        return (pd.DataFrame(columns=["month", "portfolio_id", "party", "offset_cents"]),
                pd.DataFrame(columns=["portfolio_id", "party", "amount"]))
    claims = offsets.assign(month=month_index(offsets["date"].to_numpy().astype("datetime64[D]")))
    portions = own.set_index(["portfolio_id", "party", "month"])
    for (pid, party), group in claims.groupby(["portfolio_id", "rights_holder"], sort=True):
        by_month = group.groupby("month")["amount"].apply(lambda s: sum((to_decimal(v) for v in s), Decimal(0)))
        carry = Decimal(0)
        for m in months:
            carry += by_month.get(m, Decimal(0))
            if carry <= 0:
                continue
            key = (pid, party, m)
            if key in portions.index:
                row = portions.loc[key]
                room = Decimal(max(int(row["distribution_fee_cents"]), 0) + max(int(row["cdsc_cents"]), 0)) / 100
            else:
                room = Decimal(0)
            take = min(carry, room)
            if take > 0:
                applied_rows.append((m, pid, party, int((take * 100).to_integral_value(rounding=ROUND_FLOOR))))
                carry -= take
        if carry > 0:
            left_rows.append((pid, party, carry))
    return (pd.DataFrame(applied_rows, columns=["month", "portfolio_id", "party", "offset_cents"]),
            pd.DataFrame(left_rows, columns=["portfolio_id", "party", "amount"]))


