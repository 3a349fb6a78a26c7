"""Revenue (executives): this month and year to date against a year earlier, by party, Fund and schedule."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from calc.reports.revenue import (
    monthly_revenue,
    monthly_revenue_by_party,
    revenue_by_group,
    revenue_comparison,
    top_portfolios,
)
from dashboard import charts, data, theme, ui
from dashboard.filters import month_key, month_of, publish, seed


def _period(months: list[pd.Timestamp]) -> tuple[pd.Timestamp, pd.Timestamp]:
    keys = [month_key(m) for m in months]
    default = (keys[max(0, len(keys) - 24)], keys[-1])
    if len(keys) == 1:
        return months[0], months[0]

    def parse(raw: str) -> tuple[str, str] | None:
        a, _, b = raw.partition("..")
        return (a, b) if a in keys and b in keys and a <= b else None

    seed("period", parse)
    if "period" in st.session_state and not parse("..".join(st.session_state["period"])):
        del st.session_state["period"]
    if "period" not in st.session_state:
        st.session_state["period"] = default
    start, end = st.select_slider(
        "Period", options=keys, format_func=lambda k: theme.fmt_month(month_of(k)),
        key="period", help="The months of the charts and tables below (the KPIs follow the Month filter).",
    )
    publish("period", (start, end), default, text=lambda v: f"{v[0]}..{v[1]}")
    return month_of(start), month_of(end)


def render() -> None:
    f = ui.require_data()
    meta = f.meta
    summary, payments = data.table(f.run_id, "summary"), data.table(f.run_id, "payments")
    st.title("Fee revenue")
    st.caption(f"Scope: {f.scope_label} · Distribution Fees, service fees and CDSCs of the Monthly Calculation "
               f"(run {f.run_id})")

    m = f.month
    comp = revenue_comparison(summary, m, f.portfolio_ids)
    prior = (m - pd.DateOffset(years=1) + pd.offsets.MonthEnd(0))
    st.subheader(f"{theme.fmt_month(m)} and year to date")
    if comp.loc["Total", "month"] == 0 and comp.loc["Total", "ytd"] == 0:
        st.info(f"No fees or CDSCs in {theme.fmt_month(m)} or earlier in {m.year} for {f.scope_label}: "
                "net assets may not be reported yet for these months, or the Plan has ended (Complete Termination).")
    ui.termination_notice(f)
    for period, col_now, col_prior, when, prior_when in (
        ("month", "month", "month_prior_year", f"{m:%b %Y}", f"{prior:%b %Y}"),
        ("ytd", "ytd", "ytd_prior_year", f"YTD {m.year}", f"YTD {prior.year}"),
    ):
        total, change = comp.loc["Total", col_now], comp.loc["Total", f"{period}_change"]
        st.markdown(f"**{'This month' if period == 'month' else 'Year to date'}: {theme.fmt_money(total)}** "
                    f"({theme.fmt_change(change)} against {prior_when})")
        cols = st.columns(3)
        for col, label in zip(cols, ["Distribution Fee", "Service fee", "CDSC"], strict=True):
            with col:
                ui.money_metric(f"{label}, {when}", comp.loc[label, col_now], comp.loc[label, col_prior], prior_when)
    with st.expander("Comparison table"):
        shown = comp.reset_index(names="Money")
        ui.table(shown, money=["month", "month_prior_year", "ytd", "ytd_prior_year"], percent=["month_change", "ytd_change"],
                 labels={"month": f"{m:%b %Y}", "month_prior_year": f"{prior:%b %Y}", "month_change": "Change",
                         "ytd": f"YTD {m.year}", "ytd_prior_year": f"YTD {prior.year}", "ytd_change": "YTD change"})

    st.divider()
    start, end = _period(meta.months)
    st.subheader(f"By party, {theme.fmt_month(start)} to {theme.fmt_month(end)}")
    by_party = monthly_revenue_by_party(payments, start, end, f.portfolio_ids)
    if f.party:
        by_party = by_party[by_party["party"] == f.party]
    _party_chart(by_party, summary, start, end, f.portfolio_ids)

    st.subheader("By Fund")
    by_fund = revenue_by_group(summary, meta.portfolios, "fund", start, end, f.portfolio_ids)
    st.plotly_chart(charts.group_bars(by_fund, "fund"), width="stretch", key="fund_chart")

    st.subheader("By schedule")
    by_sched = revenue_by_group(summary, meta.portfolios, "schedule", start, end, f.portfolio_ids)
    st.plotly_chart(charts.group_bars(by_sched, "schedule", height=220), width="stretch", key="schedule_chart")
    ui.table(by_sched, money=["distribution_fee", "service_fee", "cdsc", "total"],
             labels={"schedule": "Schedule", "distribution_fee": "Distribution Fee", "service_fee": "Service fee",
                     "cdsc": "CDSC", "total": "Total", "portfolios": "Portfolios"})

    st.subheader("Top portfolios")
    top = top_portfolios(summary, meta.portfolios, start, end, n=10, portfolio_ids=f.portfolio_ids)
    st.plotly_chart(charts.top_portfolios_bar(top), width="stretch", key="top_chart")
    ui.table(top, money=["distribution_fee", "service_fee", "cdsc", "total"], percent=["share_of_total"],
             labels={"portfolio_id": "Portfolio", "name": "Name", "fund": "Fund", "schedule": "Schedule",
                     "distribution_fee": "Distribution Fee", "service_fee": "Service fee", "cdsc": "CDSC",
                     "total": "Total", "share_of_total": "Share of total"})


@st.fragment
def _party_chart(by_party: pd.DataFrame, summary: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
                 portfolio_ids: list[str] | None) -> None:
    """Bars by party or by kind of money: a local switch, redrawn alone."""
    view = st.segmented_control("Stack by", ["Party", "Kind of money"], default="Party", key="revenue_stack")
    if view == "Kind of money":
        st.plotly_chart(charts.money_kind_bars(monthly_revenue(summary, start, end, portfolio_ids)),
                        width="stretch", key="kind_chart")
    else:
        st.plotly_chart(charts.party_revenue_bars(by_party), width="stretch", key="party_chart")


ui.guarded(render)
