"""Collateral (assignee investors): one assignee's Portions, payback, due dates and the shares behind them.

Only the chosen assignee's rows are read: the store filters them
(``data.assignee_payments`` / ``data.assignee_lots``); no other party's money
is loaded on this page.  The assignee comes from the link (``?assignee=``) or
the selector.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from calc.reports.collateral import (
    assignee_by_portfolio,
    assignee_lot_filters,
    assignee_stream,
    assignee_terms,
    payback,
    payback_curve,
    payments_schedule,
    purchase_price,
    runoff,
    runoff_at,
    runoff_totals,
)
from dashboard import charts, data, theme, ui
from dashboard.filters import publish, seed


def render() -> None:
    f = ui.require_data()
    meta = f.meta
    st.title("Collateral")
    if not meta.assignees:
        st.info("No assignments in this calculation run: no assignee receives a Portion of the fees or CDSCs.")
        return
    seed("assignee", lambda raw: raw if raw in meta.assignees else None)
    if st.session_state.get("assignee") not in meta.assignees:
        st.session_state.pop("assignee", None)
    assignee = st.selectbox("Assignee", meta.assignees, key="assignee",
                            help="The B-share financing vehicle (assignee of EIGHTH). The link carries it: ?assignee=NAME")
    publish("assignee", assignee, None)
    mine = data.assignee_assignments(f.run_id, assignee)
    terms = assignee_terms(mine, assignee)
    price = purchase_price(mine, assignee)
    payments = data.assignee_payments(f.run_id, assignee)
    stream = assignee_stream(payments, assignee)
    pb = payback(stream, price)
    st.caption(f"{assignee}: 12b-1 Portions and CDSC Portions assigned by "
               f"{', '.join(sorted(set(terms['rights_holder'])))} (run {f.run_id}).")

    c = st.columns([1.25, 1.4, 0.8, 1])
    c[0].metric("Received to date", theme.fmt_money(pb.received), border=True,
                help=f"12b-1 Portion {theme.fmt_money(pb.distribution_fee)} + CDSC Portion {theme.fmt_money(pb.cdsc)}")
    c[1].metric("Purchase price", theme.fmt_money(price) if price else "not given", border=True)
    c[2].metric("Recovered", theme.fmt_pct(pb.recovered) if pb.recovered is not None else "–", border=True,
                help="Collections to date ÷ purchase price")
    c[3].metric("Paid back", theme.fmt_month(pb.payback_month) if pb.payback_month is not None
                else ("not yet" if price else "–"), border=True,
                help="The month end at which collections first reached the purchase price")

    m = f.month
    this = stream[stream["month_end"] == m]
    if this.empty or this["total"].iloc[0] == 0:
        st.info(f"No Portion for {assignee} in {theme.fmt_month(m)}.")
    else:
        r = this.iloc[0]
        st.success(f"{theme.fmt_month(m)}: 12b-1 Portion {theme.fmt_money(r['distribution_fee'])}, CDSC Portion "
                   f"{theme.fmt_money(r['cdsc'])}, total {theme.fmt_money(r['total'])}, due {theme.fmt_date(r['due_date'])}.")

    left, right = st.columns(2)
    with left:
        st.subheader("Portions received by month")
        st.plotly_chart(charts.assignee_portions_chart(stream, assignee), width="stretch", key="portions_chart")
    with right:
        st.subheader("Payback")
        st.plotly_chart(charts.payback_chart(payback_curve(stream, price), price, assignee), width="stretch", key="payback_chart")

    st.subheader("Payments and due dates")
    schedule = payments_schedule(payments, as_of=m)
    schedule = schedule[(schedule["payable"] != 0) | (schedule["status"] == "due")]
    ui.table(schedule, money=["distribution_fee", "cdsc", "payable"], months=["month_end"], dates=["due_date"],
             height=280 if len(schedule) > 8 else "auto",
             labels={"month_end": "Month", "due_date": "Due date", "distribution_fee": "12b-1 Portion", "cdsc": "CDSC Portion",
                     "payable": "Payable", "status": "Status"})

    st.subheader("Portfolios behind the stream")
    ui.table(assignee_by_portfolio(payments, meta.portfolios), money=["distribution_fee", "cdsc", "total"],
             percent=["share_of_total"], months=["first_month", "last_month"],
             labels={"portfolio_id": "Portfolio", "name": "Name", "fund": "Fund", "schedule": "Schedule",
                     "distribution_fee": "12b-1 Portion", "cdsc": "CDSC Portion", "total": "Total",
                     "share_of_total": "Share", "first_month": "First month", "last_month": "Last month"})
    with st.expander("Assignment terms"):
        ui.table(terms[["assignment_id", "rights_holder", "portfolios", "start_date", "end_date", "fee_fraction",
                        "cdsc_fraction", "purchase_price"]],
                 dates=["start_date", "end_date"], percent=["fee_fraction", "cdsc_fraction"], money=["purchase_price"],
                 labels={"assignment_id": "Assignment", "rights_holder": "Rights holder", "portfolios": "Portfolios",
                         "start_date": "From", "end_date": "To", "fee_fraction": "Fee fraction",
                         "cdsc_fraction": "CDSC fraction", "purchase_price": "Purchase price"})

    _runoff(f.run_id, meta, mine, assignee, m)


def _runoff(run_id: int, meta: data.RunMeta, mine: pd.DataFrame, assignee: str, month: pd.Timestamp) -> None:
    st.subheader("Runoff of the shares behind the stream")
    pairs = assignee_lot_filters(mine, assignee)
    lots = data.assignee_lots(run_id, pairs)
    run = runoff(lots, meta.portfolios, pairs)
    if run.empty:
        st.info("No Commission Shares of the assigning rights holders remain in these portfolios.")
        return
    st.caption("Commission Shares of the assigning rights holders (in the assigned portfolios) still outstanding, by "
               "year of original issuance. Older shares carry less of the CDSC schedule; at the end of it they carry none.")
    st.plotly_chart(charts.runoff_chart(run), width="stretch", key="runoff_chart")
    at = runoff_at(run, month if (run["month_end"] == month).any() else None)
    when = at["month_end"].iloc[0] if not at.empty else None
    tot = runoff_totals(at)
    st.markdown(f"**At {theme.fmt_month(when)}**: {theme.fmt_shares(tot['commission_shares'], 2)} Commission Shares "
                f"(cost {theme.fmt_money(tot['cost'])}), {theme.fmt_shares(tot['carrying_shares'], 2)} of them still in "
                f"the CDSC schedule, carrying {theme.fmt_money(tot['cdsc_carried'])} of CDSC if redeemed at cost "
                "(year held counted from the issue year).")
    ui.table(at.drop(columns=["month_end"]), shares=["commission_shares", "carrying_shares"], money=["cost", "cdsc_carried"],
             percent=["rate"],
             labels={"issue_year": "Issue year", "commission_shares": "Commission Shares", "cost": "Cost",
                     "cdsc_carried": "CDSC carried", "carrying_shares": "Shares still in the CDSC schedule",
                     "year_held": "Year held", "rate": "CDSC rate"})


ui.guarded(render)
