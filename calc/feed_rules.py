"""The rules a feed must keep (RULES.md section 2), and its normalisation.

MINIMAL VERSION: normalises the tables; the full rule checks replace this.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calc import feed as F


def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.replace("", None), format="%Y-%m-%d")


def _col(df: pd.DataFrame, name: str, default: str = "") -> pd.Series:
    if name in df.columns:
        return df[name].fillna("").astype(str).str.strip()
    return pd.Series([default] * len(df), index=df.index, dtype=object)


def validate(raw: dict[str, pd.DataFrame]) -> F.Feed:
    p = raw["portfolios"]
    portfolios = pd.DataFrame(
        {
            "portfolio_id": _col(p, "portfolio_id"),
            "name": _col(p, "name"),
            "fund": _col(p, "fund"),
            "schedule": _col(p, "schedule"),
        }
    )
    portfolios["distribution_fee_rate"] = _col(p, "distribution_fee_rate").replace("", str(F.DEFAULT_DISTRIBUTION_FEE_RATE)).astype(float)
    portfolios["service_fee_rate"] = _col(p, "service_fee_rate").replace("", str(F.DEFAULT_SERVICE_FEE_RATE)).astype(float)
    portfolios["cdsc_schedule"] = [
        tuple(float(x) for x in s.split(";") if x.strip() != "") for s in _col(p, "cdsc_schedule").replace("", F.DEFAULT_CDSC_SCHEDULE)
    ]
    portfolios["conversion_years"] = _col(p, "conversion_years").replace("", str(F.DEFAULT_CONVERSION_YEARS)).astype(float).astype(int)

    t = raw["tenures"]
    tenures = pd.DataFrame(
        {
            "portfolio_id": _col(t, "portfolio_id"),
            "distributor": _col(t, "distributor"),
            "start_date": _dates(_col(t, "start_date")),
            "end_date": _dates(_col(t, "end_date")),
        }
    )
    rh = _col(t, "rights_holder")
    tenures["rights_holder"] = np.where(rh == "", tenures["distributor"], rh)
    tenures = tenures.sort_values(["portfolio_id", "start_date"], kind="stable").reset_index(drop=True)

    a = raw["accounts"]
    accounts = pd.DataFrame(
        {
            "account_id": _col(a, "account_id"),
            "omnibus": _col(a, "omnibus").str.lower() == "true",
            "holder": _col(a, "holder"),
        }
    )

    n = raw["nav"]
    nav = pd.DataFrame(
        {
            "portfolio_id": _col(n, "portfolio_id"),
            "date": _dates(_col(n, "date")),
            "nav": _col(n, "nav").astype(float),
            "shares": _col(n, "shares").astype(float),
        }
    )

    x = raw["transactions"]
    kind = _col(x, "kind")
    transactions = pd.DataFrame(
        {
            "txn_id": _col(x, "txn_id"),
            "date": _dates(_col(x, "date")),
            "portfolio_id": _col(x, "portfolio_id"),
            "account_id": _col(x, "account_id"),
            "kind": kind,
            "shares": _col(x, "shares").astype(float),
            "price": _col(x, "price").astype(float),
        }
    )
    transactions["issue_date"] = transactions["date"].where(kind == "purchase")
    transactions["exchange_id"] = _col(x, "exchange_id").where(kind.isin(F.EXCHANGE_KINDS), "")
    transactions["waiver"] = _col(x, "waiver").where(kind == "redeem", "")
    transactions["line"] = np.arange(len(x)) + 2

    s = raw.get("assignments", pd.DataFrame())
    assignments = pd.DataFrame(
        {
            "assignment_id": _col(s, "assignment_id"),
            "assignee": _col(s, "assignee"),
            "rights_holder": _col(s, "rights_holder"),
            "portfolio_id": _col(s, "portfolio_id"),
            "start_date": _dates(_col(s, "start_date")),
            "end_date": _dates(_col(s, "end_date")),
            "fee_fraction": pd.to_numeric(_col(s, "fee_fraction")),
            "cdsc_fraction": pd.to_numeric(_col(s, "cdsc_fraction")),
            "purchase_price": pd.to_numeric(_col(s, "purchase_price").replace("", None)),
        }
    )

    o = raw.get("offsets", pd.DataFrame())
    offsets = pd.DataFrame(
        {
            "date": _dates(_col(o, "date")),
            "rights_holder": _col(o, "rights_holder"),
            "portfolio_id": _col(o, "portfolio_id"),
            "amount": pd.to_numeric(_col(o, "amount")),
        }
    )

    e = raw.get("plan_events", pd.DataFrame())
    plan_events = pd.DataFrame(
        {
            "portfolio_id": _col(e, "portfolio_id"),
            "date": _dates(_col(e, "date")),
            "kind": _col(e, "kind"),
        }
    )
    return F.Feed(
        portfolios=portfolios,
        tenures=tenures,
        accounts=accounts,
        nav=nav,
        transactions=transactions,
        assignments=assignments,
        offsets=offsets,
        plan_events=plan_events,
    )
