"""Collateral (assignee investors): one assignee's Portions, payback, statement and the shares behind them.

Everything is as of the Month filter: collections, recovery, payback, the
payments and their status, the charts and the runoff stop at that month end.
Only the chosen assignee's rows are read: the store filters them
(``data.assignee_payments`` / ``data.assignee_lots``); no other party's money
is loaded on this page.  The assignee comes from the Party filter when it is
an assignee, else from the link (``?assignee=``) or the selector, which keeps
its choice while the user visits other pages.

Under the figure cards one section is drawn at a time (Portions and payback, Payments and
statement, Portfolios and terms, Net assets and runoff, CDSC carried), chosen with a segmented
control that the link carries (``?section=payments``): the browser draws one section's charts
and tables, not three charts and five tables, and the lots and allocation behind the runoff are
read only when their section is shown.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from calc.access import Principal
from calc.reports.collateral import (
    as_of,
    assignee_by_portfolio,
    assignee_lot_filters,
    assignee_stream,
    assignee_terms,
    assignment_status,
    investor_cdsc,
    investor_statement,
    payback,
    payback_curve,
    payments_schedule,
    purchase_price,
    returns,
    runoff,
    statement_by_month,
    stream_net_assets,
)
from calc.reports.render import document_html, table_csv, workbook
from dashboard import data, filters, theme, ui
from dashboard.filters import publish
from dashboard.plain import plain, plain_list

STATEMENT_LABELS = {"month_end": "Month", "portfolio_id": "Portfolio", "name": "Name", "distribution_fee": "12b-1 Portion",
                    "cdsc": "CDSC Portion", "offset": "Offsets", "payable": "Payable", "due_date": "Due date",
                    "portfolios": "Portfolios"}
STATEMENT_KINDS = {"money": ["12b-1 Portion", "CDSC Portion", "Offsets", "Payable"], "dates": ["Month", "Due date"]}


def _assignees(f: filters.Filters) -> list[str]:
    """The assignees the Party filter leaves: itself, or those of a rights holder, or all."""
    meta = f.meta
    if f.party is None:
        return meta.assignees
    if f.party in meta.assignees:
        return [f.party]
    a = meta.assignments
    return sorted(set(a.loc[a["rights_holder"] == f.party, "assignee"].astype(str)))


def render() -> None:
    f = ui.require_data()
    meta = f.meta
    st.title("Collateral")
    if not meta.assignees:
        st.info("No assignments in this calculation run: no assignee receives a Portion of the fees or CDSCs.")
        return
    options = _assignees(f)
    if not options:
        st.info(f"{plain(f.party)} has assigned none of its Portions in this run: no assignee's collateral to show. "
                "Choose All parties or an assignee in the Party filter.")
        return
    if f.party in meta.assignees:
        st.session_state["assignee"] = f.party  # the Party filter names the assignee
    where = (f"among {f.party}'s assignees" if f.party and f.party not in meta.assignees and f.party in meta.parties
             else "in this calculation run")
    filters.choice("assignee", options, options[0], "assignee", where=where)
    assignee = st.selectbox("Assignee", options, key="assignee", disabled=len(options) == 1,
                            help="The B-share financing vehicle (assignee of EIGHTH). The link carries it: ?assignee=NAME")
    publish("assignee", assignee, None)
    m = f.month
    mine = data.assignee_assignments(f.run_id, assignee)
    terms = assignee_terms(mine, assignee)
    price = purchase_price(mine, assignee)
    all_payments = data.assignee_payments(f.run_id, assignee)
    payments = as_of(all_payments, m)
    stream = assignee_stream(payments, assignee)
    pb = payback(stream, price)
    status = assignment_status(terms, pb, m)
    ret = returns(stream, terms, m)
    holders = plain_list(sorted(set(terms["rights_holder"])))
    party_note = f" (Party filter: {plain(f.party)})" if f.party and f.party not in meta.assignees else ""
    st.caption(f"{plain(assignee)}: 12b-1 Portions and CDSC Portions assigned by {holders}{party_note} · as of "
               f"{theme.fmt_month(m)} · run {f.run_id}. Every portfolio of the assignments (the Portfolio filter does "
               "not apply here: the purchase price covers them all).")

    c = st.columns(4)
    with c[0]:
        ui.metric("Received to date", theme.fmt_money_card(pb.received),
                  help=f"{theme.fmt_money(pb.received)} to {theme.fmt_month(m)}: 12b-1 Portion "
                  f"{theme.fmt_money(pb.distribution_fee)} + CDSC Portion {theme.fmt_money(pb.cdsc)}")
    with c[1]:
        ui.metric("Purchase price", theme.fmt_money_card(price) if price else "not given",
                  help=theme.fmt_money(price) if price else None)
    with c[2]:
        ui.metric("Recovered", theme.fmt_pct(pb.recovered) if pb.recovered is not None else "–",
                  help="Collections to date ÷ purchase price")
    with c[3]:
        ui.metric("Paid back", status.label, help=plain(status.detail))
    c = st.columns(4)
    with c[0]:
        ui.metric("Multiple", theme.fmt_multiple(ret.multiple), help="Collections to date ÷ purchase price")
    with c[1]:
        ui.metric("Cash yield, last 12 months", theme.fmt_pct(ret.cash_yield),
                  help="Collections of the 12 months to the chosen month ÷ purchase price")
    with c[2]:
        ui.metric("IRR to date", theme.fmt_pct(ret.irr),
                  help="A year, from each purchase price paid on its start date and each payment on its due date; "
                  "nothing is counted for collections still to come")
    with c[3]:
        ui.metric("Remaining", theme.fmt_money_card(pb.remaining) if pb.remaining is not None else "–",
                  help="Purchase price less collections to date")
    if status.ended is not None:
        st.info(plain(status.detail))

    this = stream[stream["month_end"] == m]
    if this.empty or this["total"].iloc[0] == 0:
        st.info(f"No Portion for {plain(assignee)} in {theme.fmt_month(m)}.")
    else:
        r = this.iloc[0]
        st.success(f"{theme.fmt_month(m)}: 12b-1 Portion {theme.fmt_money(r['distribution_fee'])}, CDSC Portion "
                   f"{theme.fmt_money(r['cdsc'])}, total {theme.fmt_money(r['total'])}, due {theme.fmt_date(r['due_date'])}.")

    section = _section()
    stamp = ui.download_name(assignee, f"run{f.run_id}", m)
    if section == "portions":
        left, right = st.columns(2)
        with left:
            st.subheader("Portions received by month")
            ui.plot("assignee_portions_chart", stream, assignee, key="portions_chart")
        with right:
            st.subheader("Payback")
            ui.plot("payback_chart", payback_curve(stream, price), price, assignee, key="payback_chart")
    elif section == "payments":
        _payments(payments, meta, assignee, m, stamp)
    elif section == "portfolios":
        _portfolios(payments, meta, terms, assignee, f.run_id, stamp)
    elif section == "runoff":
        _net_assets(f.run_id, meta, terms, assignee, m)
    else:
        _runoff(f.run_id, assignee, m)


# The page's sections, one drawn at a time (the lots and allocation behind the runoff are read only
# when a section needs them); the link carries the choice as ``?section=``.
SECTIONS = {
    "portions": "Portions and payback",
    "payments": "Payments and statement",
    "portfolios": "Portfolios and terms",
    "runoff": "Net assets and runoff",
    "cdsc": "CDSC carried",
}


def _section() -> str:
    """The section to draw: from the link (``?section=payments``), the session or the default."""
    return ui.one_part_at_a_time("section", SECTIONS, "section",
                                 "One part of the assignee's collateral at a time. The link carries it: ?section=payments")


def _payments(payments: pd.DataFrame, meta, assignee: str, m: pd.Timestamp, stamp: str) -> None:
    """The payments and their due dates, and the investor's statement."""
    st.subheader("Payments and due dates")
    schedule = payments_schedule(payments, as_of=m)
    schedule = schedule[(schedule["payable"] != 0) | (schedule["status"] == "due")]
    st.caption(f"As of {theme.fmt_month(m)}: a payment is due until its due date, paid after it.")
    ui.table(schedule, money=["distribution_fee", "cdsc", "payable"], months=["month_end"], dates=["due_date"],
             height=280 if len(schedule) > 8 else "auto", key="schedule", file=f"payments-{stamp}",
             labels={"month_end": "Month", "due_date": "Due date", "distribution_fee": "12b-1 Portion", "cdsc": "CDSC Portion",
                     "payable": "Payable", "status": "Status"})
    _statement(payments, meta, assignee, m, stamp)


def _portfolios(payments: pd.DataFrame, meta, terms: pd.DataFrame, assignee: str, run_id: int, stamp: str) -> None:
    """The portfolios behind the stream and the assignment terms."""
    st.subheader("Portfolios behind the stream")
    ui.table(assignee_by_portfolio(payments, meta.portfolios), money=["distribution_fee", "cdsc", "total"],
             percent=["share_of_total"], months=["first_month", "last_month"], key="by_portfolio",
             file=f"portfolios-{stamp}",
             labels={"portfolio_id": "Portfolio", "name": "Name", "fund": "Fund", "schedule": "Schedule",
                     "distribution_fee": "12b-1 Portion", "cdsc": "CDSC Portion", "total": "Total",
                     "share_of_total": "Share", "first_month": "First month", "last_month": "Last month"})
    st.subheader("Assignment terms")
    ui.table(terms[["assignment_id", "rights_holder", "portfolios", "start_date", "end_date", "fee_fraction",
                    "cdsc_fraction", "purchase_price"]],
             dates=["start_date"], open_dates=["end_date"], percent=["fee_fraction", "cdsc_fraction"],
             money=["purchase_price"], key="terms", file=f"assignments-{ui.download_name(assignee, f'run{run_id}')}",
             labels={"assignment_id": "Assignment", "rights_holder": "Rights holder", "portfolios": "Portfolios",
                     "start_date": "From", "end_date": "To", "fee_fraction": "Fee fraction",
                     "cdsc_fraction": "CDSC fraction", "purchase_price": "Purchase price"})
    st.caption("“open”: the assignment has no end date; it runs on.")


def _statement(payments: pd.DataFrame, meta, assignee: str, m: pd.Timestamp, stamp: str) -> None:
    """The investor's statement of its own Portions: CSV, Excel and a printable page."""
    st.subheader("Statement of Portions")
    rows = investor_statement(payments, meta.portfolios, end=m)
    months = statement_by_month(rows)
    st.caption(f"{plain(assignee)}'s own 12b-1 Portions and CDSC Portions, month by month and portfolio, to "
               f"{theme.fmt_month(m)}, with offsets, what is payable and when.")
    sheets = {"By month": months.rename(columns=STATEMENT_LABELS), "By month and portfolio": rows.rename(columns=STATEMENT_LABELS)}
    title = f"Statement of Portions: {assignee}"
    sub = f"Master Distribution Agreement (Class B Shares), EIGHTH. Months to {m:%B %Y}."
    d = st.container(horizontal=True)  # the buttons side by side, each as wide as its label
    d.download_button("Statement CSV", lambda: table_csv(sheets["By month and portfolio"], STATEMENT_KINDS),
                         file_name=f"statement-{stamp}.csv", mime="text/csv", icon=":material/download:",
                         key="dl_statement_csv", on_click="ignore")
    d.download_button("Statement Excel", lambda: workbook(sheets, STATEMENT_KINDS, title, sub),
                         file_name=f"statement-{stamp}.xlsx",
                         mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         icon=":material/table_view:", key="dl_statement_xlsx", on_click="ignore")
    d.download_button("Printable statement", lambda: document_html(title, sub, sheets, STATEMENT_KINDS),
                         file_name=f"statement-{stamp}.html", mime="text/html", icon=":material/print:",
                         key="dl_statement_html", on_click="ignore")
    ui.table(months, money=["distribution_fee", "cdsc", "offset", "payable"], months=["month_end"], dates=["due_date"],
             labels=STATEMENT_LABELS, height=250 if len(months) > 6 else "auto", key="statement_months",
             file=f"statement-by-month-{stamp}")


@st.cache_data(show_spinner=False, max_entries=32)
def _nav(run_id: int, assignee: str, m: pd.Timestamp, who: Principal) -> pd.DataFrame:
    """The net assets behind the stream to ``m`` (cached per run, assignee, month and principal)."""
    terms = assignee_terms(data.assignee_assignments(run_id, assignee), assignee)
    holders = sorted(set(terms["rights_holder"].astype(str)))
    pids = sorted({str(p) for p in terms["portfolio_id"]})
    filters_ = {"rights_holder": holders} if "" in pids else {"rights_holder": holders, "portfolio_id": pids}
    allocation = data.table(run_id, "allocation", **filters_)
    return stream_net_assets(allocation, data.table(run_id, "summary"), terms, end=m)


@st.cache_data(show_spinner=False, max_entries=32)
def _shares_behind(run_id: int, assignee: str, m: pd.Timestamp,
                   who: Principal) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp | None]:
    """The runoff to ``m`` and the CDSC the shares carry at ``m`` (cached per run, assignee, month and principal)."""
    meta = data.run_meta(run_id)
    mine = data.assignee_assignments(run_id, assignee)
    terms = assignee_terms(mine, assignee)
    pairs = assignee_lot_filters(mine, assignee)
    lots = data.assignee_lots(run_id, pairs)
    run = runoff(lots, meta.portfolios, pairs)
    run = run[run["month_end"] <= m]
    if run.empty:
        return run, pd.DataFrame(), None
    when = m if (run["month_end"] == m).any() else run["month_end"].max()
    return run, investor_cdsc(lots, meta.portfolios, terms, when), when


def _net_assets(run_id: int, meta, terms: pd.DataFrame, assignee: str, m: pd.Timestamp) -> None:
    st.subheader("Net assets behind the stream and their runoff")
    nav = _nav(run_id, assignee, m, data.reader())
    if nav.empty:
        st.info("No net assets behind the stream up to this month (no assignment in effect).")
        _runoff_chart(nav, assignee, _shares_behind(run_id, assignee, m, data.reader())[0])
        return
    at = nav[nav["month_end"] == m]
    now = at.iloc[0] if not at.empty else None
    st.caption("The fee is earned on net assets: the assigning rights holder's 12b-1 Share of each assigned "
               "portfolio's average net assets, while an assignment is in effect; the investor's part weighs it by "
               "the fee fraction.")
    if now is not None:
        c = st.columns(3)
        with c[0]:
            ui.metric(f"Net assets behind the stream, {m:%b %Y}", theme.fmt_money_compact(now["net_assets"]),
                      help=theme.fmt_money(now["net_assets"]))
        with c[1]:
            ui.metric(f"{plain(assignee)}'s part (fee fraction)", theme.fmt_money_compact(now["investor_net_assets"]),
                      help=theme.fmt_money(now["investor_net_assets"]))
        peak = nav["net_assets"].max()
        with c[2]:
            ui.metric("Against the peak", theme.fmt_pct(now["net_assets"] / peak if peak else None),
                      help=f"Peak {theme.fmt_money(peak)}: the runoff so far")
    _runoff_chart(nav, assignee, *(_shares_behind(run_id, assignee, m, data.reader())[:1]))


RUNOFF_VIEWS = ("Net assets", "Commission Shares by issue year")


def _runoff_chart(nav: pd.DataFrame, assignee: str, run: pd.DataFrame) -> None:
    """The runoff, of net assets or of Commission Shares by issue year: one chart at a time."""
    view = st.segmented_control("Runoff of", RUNOFF_VIEWS, default=RUNOFF_VIEWS[0], key="runoff_view") or RUNOFF_VIEWS[0]
    if view == RUNOFF_VIEWS[0]:
        ui.plot("net_assets_chart", nav, assignee, key="nav_chart")
    elif run.empty:
        st.info("No Commission Shares of the assigning rights holders remain in these portfolios.")
    else:
        st.caption("Commission Shares of the assigning rights holders (in the assigned portfolios) still outstanding, "
                   "by year of original issuance. Older shares carry less of the CDSC schedule; at the end of it "
                   "they carry none.")
        ui.plot("runoff_chart", run, key="runoff_chart")


def _runoff(run_id: int, assignee: str, month: pd.Timestamp) -> None:
    st.subheader("The CDSC the shares behind the stream carry")
    run, at, when = _shares_behind(run_id, assignee, month, data.reader())
    if run.empty or at.empty:
        st.info("No Commission Shares of the assigning rights holders remain in these portfolios.")
        return
    low, high = at["investor_low"].sum(), at["investor_high"].sum()
    whole_low, whole_high = at["cdsc_low"].sum(), at["cdsc_high"].sum()
    span = theme.fmt_money(low) if abs(high - low) < 0.005 else f"{theme.fmt_money(low)} to {theme.fmt_money(high)}"
    whole = (theme.fmt_money(whole_low) if abs(whole_high - whole_low) < 0.005
             else f"{theme.fmt_money(whole_low)} to {theme.fmt_money(whole_high)}")
    st.markdown(f"**At {theme.fmt_month(when)}**: {theme.fmt_shares(at['commission_shares'].sum(), 2)} Commission Shares "
                f"(cost {theme.fmt_money(at['cost'].sum())}) carry {whole} of CDSC if redeemed at cost; "
                f"**{plain(assignee)}'s share (its CDSC fraction): {span}**.")
    labels = {"issue_year": "Issue year", "year_held": "Year held", "commission_shares": "Commission Shares",
              "cost": "Cost", "cdsc_fraction": "CDSC fraction"}
    file = f"cdsc-carried-{ui.download_name(assignee, f'run{run_id}', when)}"
    if at["exact"].all():  # years held known exactly: one rate per row
        st.caption("Years held are counted by anniversary of the date of original issuance, as the CDSC statement "
                   "counts them (FOURTH (D)): the shares of an issue year whose anniversary this year has passed by "
                   "the month end are a year older than the rest, so an issue year can have two rows.")
        exact = at.drop(columns=["rate_high", "cdsc_high", "investor_high", "exact"])
        ui.table(exact, shares=["commission_shares"], money=["cost", "cdsc_low", "investor_low"],
                 percent=["rate_low", "cdsc_fraction"], key="runoff_table", file=file,
                 labels={**labels, "rate_low": "Rate", "cdsc_low": "CDSC carried",
                         "investor_low": f"{assignee}'s share"})
        return
    st.caption("Years held are counted by anniversary, as the CDSC statement counts them. This run was stored "
               "before the lots kept the part of each issue year past its anniversary: before December a year's "
               "shares are in one of two years held (\"3 or 4\") depending on the month they were issued, so the "
               "CDSC is given as a range. A new run of the calculation gives the exact years.")
    ui.table(at.drop(columns=["exact"]), shares=["commission_shares"],
             money=["cost", "cdsc_low", "cdsc_high", "investor_low", "investor_high"],
             percent=["rate_low", "rate_high", "cdsc_fraction"], key="runoff_table", file=file,
             labels={**labels, "rate_low": "Rate, anniversary passed", "rate_high": "Rate, anniversary to come",
                     "cdsc_low": "CDSC carried, low", "cdsc_high": "CDSC carried, high",
                     "investor_low": f"{assignee}'s share, low", "investor_high": f"{assignee}'s share, high"})


ui.guarded(render)
