"""Shares over time: each rights holder's and assignee's part of the Distribution Fee, with the events that change it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from calc.reports.common import ROLE_LABELS
from calc.reports.shares import (
    distribution_fee_shares,
    plan_timeline,
    termination_date,
    twelve_b1_shares,
)
from dashboard import data, theme, ui
from dashboard.plain import plain


def render() -> None:
    f = ui.require_data()
    meta = f.meta
    scope = {} if f.portfolio is None else {"portfolio_id": f.portfolio}
    summary = data.table(f.run_id, "summary", **scope)
    payments = data.table(f.run_id, "payments", **scope)
    allocation = data.table(f.run_id, "allocation", **scope)
    st.title("Shares of the Distribution Fee")
    who = f"{plain(f.party)} only" if f.party else "every rights holder and assignee"
    st.caption(f"Scope: {plain(f.scope_label)} · {who} · rights holders' own Portions and assignees' 12b-1 Portions, "
               "month by month; ↔ marks a change of distributor (tenure), ✕ a Complete Termination of the Plan.")

    events = plan_timeline(meta.tenures, meta.plan_events, f.portfolio_ids)
    ui.termination_notice(f)
    if f.portfolio:
        ended = termination_date(meta.plan_events, f.portfolio)
        if ended is not None and ended > f.month:
            st.info(f"{plain(f.portfolio)}: Complete Termination of the Plan on {theme.fmt_date(ended)} (after the chosen month).")

    shares = distribution_fee_shares(payments, f.portfolio_ids)
    s12 = twelve_b1_shares(allocation, summary, f.portfolio_ids)
    if f.party:
        shares = shares[shares["party"] == f.party]
        s12 = s12[s12["rights_holder"] == f.party]
    if shares.empty and s12.empty:
        st.info(f"Nothing to show for {plain(f.party or 'these parties')} in {plain(f.scope_label)}.")
        return

    _fee_chart(shares, events)

    st.subheader("12b-1 Share of each rights holder")
    st.caption("S_h(m) at each month end (Exhibit A): 100% to the Distributor until another rights holder's tenure "
               "starts, then attributed shares ÷ shares outstanding. It applies to the following month's fee."
               + ("" if f.portfolio else " Over the complex: each portfolio's share weighted by its shares outstanding."))
    if f.party and s12.empty:
        st.info(f"{plain(f.party)} holds no shares of its own (an assignee receives a fraction of a rights holder's "
                "Portions): it has no 12b-1 Share. Its part of the fee is in the chart above.")
    else:
        ui.plot("twelve_b1_chart", s12, events, key="s12_chart")

    m = f.month
    st.subheader(f"{theme.fmt_month(m)}")
    at = shares[shares["month_end"] == m]
    if at.empty or at["distribution_fee"].abs().sum() == 0:
        st.info(f"No Distribution Fee in {theme.fmt_month(m)} for {plain(f.scope_label)}.")
    else:
        shown = at.drop(columns=["month_end"]).assign(role=at["role"].map(lambda r: ROLE_LABELS.get(r, r)))
        ui.table(shown, money=["distribution_fee"], percent=["fee_share"], key="shares_month",
                 file=ui.download_name("distribution-fee-shares", m, f.party, f.portfolio, f"run{f.run_id}"),
                 labels={"party": "Party", "role": "Role", "distribution_fee": "Distribution Fee", "fee_share": "Share of the fee"})
    if not events.empty:
        with st.expander(f"Events ({len(events)})"):
            ui.table(events[["date", "portfolio_id", "kind", "label"]], dates=["date"], wide=["label"], key="events",
                     file=ui.download_name("plan-events", f.portfolio, f"run{f.run_id}"),
                     labels={"date": "Date", "portfolio_id": "Portfolio", "kind": "Kind", "label": "What happened"})


@ui.fragment
def _fee_chart(shares: pd.DataFrame, events: pd.DataFrame) -> None:
    """Percent or dollars: a local switch, redrawn alone."""
    st.subheader("Distribution Fee by party")
    mode = st.segmented_control("Show", ["Percent", "Dollars"], default="Percent", key="shares_mode")
    ui.plot("fee_share_chart", shares, events, mode="dollars" if mode == "Dollars" else "percent", key="fee_share_chart")


ui.guarded(render)
