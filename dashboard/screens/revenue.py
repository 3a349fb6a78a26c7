"""Revenue (executives): this month and year to date against a year earlier, per party, by Fund and schedule.

Everything on the page follows the Party filter: with a party chosen, the
figure cards, tables, charts and downloads are that party's own money (a
rights holder's Portions after assignments, a distributor's service fee, an
assignee's Portions); with none, the whole complex's.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from calc.access import Principal
from calc.reports.revenue import (
    BREAKDOWNS,
    BY_FUND,
    BY_SCHEDULE,
    NET_OF_OFFSETS,
    YEAR_MONTHS,
    YEARS,
    breakdown,
    breakdown_scope,
    monthly_revenue,
    monthly_revenue_by_party,
    net_assets_comparison,
    party_revenue,
    revenue_comparison,
)
from calc.reports.shares import plan_timeline
from dashboard import data, theme, ui
from dashboard.filters import Filters, month_key, month_of, publish, seed
from dashboard.plain import plain

MONEY = ["distribution_fee", "service_fee", "cdsc", "total"]
MONEY_LABELS = {"distribution_fee": "Distribution Fee", "service_fee": "Service fee", "cdsc": "CDSC", "total": "Total"}
PERIOD_LABELS = {**MONEY_LABELS, "offset": "Offsets", "payable": "Net of offsets",
                 "average_net_assets": "Average net assets", "fee_rate": "Distribution Fee rate (a year)",
                 "months": "Months", "year": "Year", "month": "Month"}
PARTY_LABELS = {"party": "Party", "role": "Role", "assigned_by": "Assigned by", "distribution_fee": "Distribution Fee",
                "cdsc": "CDSC", "service_fee": "Service fee", "gross": "Gross", "assigned": "Assigned to assignees",
                "offset": "Offsets", "retained": "Retained"}


def _period(months: list[pd.Timestamp]) -> tuple[pd.Timestamp, pd.Timestamp]:
    keys = [month_key(m) for m in months]
    default = (keys[max(0, len(keys) - 24)], keys[-1])
    if len(keys) == 1:
        return months[0], months[0]

    def parse(raw: str) -> tuple[str, str] | None:
        a, _, b = raw.partition("..")
        return (a, b) if a in keys and b in keys and a <= b else None

    def problem(raw: str) -> str:
        a, _, b = raw.partition("..")
        why = ("is reversed (it ends before it starts)" if a in keys and b in keys and a > b
               else f"is not within the run's months ({theme.fmt_month(months[0])} to {theme.fmt_month(months[-1])})")
        return (f"The link's period “{raw}” {why}: showing {theme.fmt_month(month_of(default[0]))} to "
                f"{theme.fmt_month(month_of(default[1]))}.")

    seed("period", parse, problem)
    if "period" in st.session_state and not parse("..".join(st.session_state["period"])):
        del st.session_state["period"]
    if "period" not in st.session_state:
        st.session_state["period"] = default
    start, end = st.select_slider(
        "Period", options=keys, format_func=lambda k: theme.fmt_month(month_of(k)),
        key="period", help="The months of the charts and tables below (the figure cards follow the Month filter).",
    )
    publish("period", (start, end), default, text=lambda v: f"{v[0]}..{v[1]}")
    return month_of(start), month_of(end)


def _who(f: Filters) -> str:
    return plain(f.party) if f.party else "The complex"


def _file(f: Filters, *parts: object) -> str:
    return ui.download_name("revenue", *parts, f.party, f.portfolio, f"run{f.run_id}")


def render() -> None:
    f = ui.require_data()
    money = data.money(f.run_id, f.party)
    st.title("Fee revenue" + (f": {plain(f.party)}" if f.party else ""))
    who = (f"{plain(f.party)}'s own money (its Portions after assignments, any service fee, offsets taken)" if f.party
           else "every party (the whole complex's Distribution Fees, service fees and CDSCs)")
    st.caption(f"Scope: {plain(f.scope_label)} · {who} · run {f.run_id}")

    m = f.month
    comp = revenue_comparison(money, m, f.portfolio_ids)
    assets = net_assets_comparison(money, m, f.portfolio_ids)
    prior = (m - pd.DateOffset(years=1) + pd.offsets.MonthEnd(0))
    if comp.loc["Total", "month"] == 0 and comp.loc["Total", "ytd"] == 0:
        st.info(f"No fees or CDSCs for {plain(f.party_label)} in {theme.fmt_month(m)} or earlier in {m.year} in "
                f"{plain(f.scope_label)}: net assets may not be reported yet for these months, or the Plan has ended "
                "(Complete Termination).")
    ui.termination_notice(f)
    st.markdown(f"### {_who(f)} earned {theme.fmt_money(comp.loc['Total', 'month'])} in {theme.fmt_month(m)}, "
                f"{theme.fmt_money(comp.loc['Total', 'ytd'])} in {m.year} to date")
    st.caption(f"Distribution Fee, service fee and CDSC{' after assignments' if f.party else ''}, before offsets. "
               f"Net of offsets: {theme.fmt_money(comp.loc[NET_OF_OFFSETS, 'month'])} this month, "
               f"{theme.fmt_money(comp.loc[NET_OF_OFFSETS, 'ytd'])} this year. Changes against {prior:%B %Y} "
               f"and {prior.year} to {prior:%B}.")
    for col_now, col_prior, when, prior_when in (
        ("month", "month_prior_year", f"{m:%b %Y}", f"{prior:%b %Y}"),
        ("ytd", "ytd_prior_year", f"YTD {m.year}", f"YTD {prior.year}"),
    ):
        cols = st.columns(4)
        for col, label in zip(cols, ["Distribution Fee", "Service fee", "CDSC", NET_OF_OFFSETS], strict=True):
            with col:
                ui.money_metric(f"{label}, {when}", comp.loc[label, col_now], comp.loc[label, col_prior], prior_when,
                                help="Received: money less the offsets applied." if label == NET_OF_OFFSETS else None)
    cols = st.columns(4)
    whose = (f"that {plain(f.party)}'s Distribution Fee is earned on (each portfolio's, times {plain(f.party)}'s part of its fee)"
             if f.party else "of the portfolios")
    assets_label = f"Net assets behind {plain(f.party)}'s fee" if f.party else "Average net assets"
    for col, key, when, before in ((cols[0], "month", f"{m:%b %Y}", f"{prior:%b %Y}"),
                                   (cols[2], "ytd", f"YTD {m.year}", f"YTD {prior.year}")):
        with col:
            ui.metric(f"{assets_label}, {when}", theme.fmt_money_compact(assets.loc["average_net_assets", key]),
                      help=f"{theme.fmt_money(assets.loc['average_net_assets', key])}: average daily net assets "
                      f"{whose} (the fee is earned on them)",
                      delta=_delta(assets.loc["average_net_assets", f"{key}_change"], before))
    for col, key, when in ((cols[1], "month", f"{m:%b %Y}"), (cols[3], "ytd", f"YTD {m.year}")):
        with col:
            ui.metric(f"Distribution Fee rate, {when}", theme.fmt_pct(assets.loc["fee_rate", key]),
                      help="The Distribution Fee a year on those net assets: fee × days in the year ÷ (net assets × "
                      "days). 0.75% where the whole fee accrues; less where net assets earn no fee (after a "
                      "Complete Termination).")
    with st.expander("Comparison table"):
        shown = comp.reset_index(names="Money")
        ui.table(shown, money=["month", "month_prior_year", "ytd", "ytd_prior_year"], percent=["month_change", "ytd_change"],
                 labels={"month": f"{m:%b %Y}", "month_prior_year": f"{prior:%b %Y}", "month_change": "Change",
                         "ytd": f"YTD {m.year}", "ytd_prior_year": f"YTD {prior.year}", "ytd_change": "YTD change"},
                 file=_file(f, "comparison", m), key="comparison")

    st.divider()
    _by_period(f, money)


@st.cache_data(show_spinner=False, max_entries=32)
def _period_parties(run_id: int, portfolio: str | None, start: pd.Timestamp, end: pd.Timestamp,
                    who: Principal) -> dict[str, pd.DataFrame]:
    """The period's frames of every party (cached without the Party filter: a party change only picks
    its rows out of them, it does not add up the payments again)."""
    meta = data.run_meta(run_id)
    ids = None if portfolio is None else [portfolio]
    payments = data.table(run_id, "payments")
    events = plan_timeline(meta.tenures, meta.plan_events, ids)
    return {
        "events": events[(events["date"] >= start - pd.offsets.MonthBegin(1)) & (events["date"] <= end)],
        "parties": party_revenue(payments, meta.assignments, start, end, ids),
        "by_party": monthly_revenue_by_party(payments, start, end, ids),
    }


@st.cache_data(show_spinner=False, max_entries=32)
def _period_frames(run_id: int, party: str | None, portfolio: str | None, start: pd.Timestamp, end: pd.Timestamp,
                   who: Principal) -> dict[str, pd.DataFrame]:
    """The frames of the period's first sections (cached: a page shown again is drawn, not computed)."""
    ids = None if portfolio is None else [portfolio]
    every = _period_parties(run_id, portfolio, start, end, who)
    parties, by_party = every["parties"], every["by_party"]
    if party is not None:  # as party_revenue(..., party) and the party's rows of the months by party
        parties = parties[parties["party"] == party].reset_index(drop=True)
        by_party = by_party[by_party["party"] == party]
    return {
        "events": every["events"],
        "parties": parties,
        "by_party": by_party,
        "kinds": monthly_revenue(data.money(run_id, party), start, end, ids),
    }


@st.cache_data(show_spinner=False, max_entries=64)
def _breakdown_frame(run_id: int, party: str | None, portfolio: str | None, start: pd.Timestamp | None,
                     end: pd.Timestamp | None, year: int, view: str, who: Principal) -> pd.DataFrame:
    """The frame of one breakdown (only the one shown is computed; cached like :func:`_period_frames`)."""
    ids = None if portfolio is None else [portfolio]
    return breakdown(view, data.money(run_id, party), data.run_meta(run_id).portfolios, year, start, end, ids)


@ui.fragment
def _by_period(f: Filters, money: pd.DataFrame) -> None:
    """The sections over a period: the slider reruns them alone."""
    meta = f.meta
    start, end = _period(meta.months)
    frames = _period_frames(f.run_id, f.party, f.portfolio, start, end, data.reader())
    events = frames["events"]
    span = f"{theme.fmt_month(start)} to {theme.fmt_month(end)}"

    st.subheader(f"Gross and retained, {span}")
    st.caption("A rights holder's gross is the Distribution Fee and CDSC of its shares (its own Portions and "
               "those it assigned) and its service fee as distributor; it retains what is left after its "
               "assignees' Portions and the offsets. An assignee's Portions are part of the gross of the rights "
               "holder that assigned them.")
    ui.table(frames["parties"], money=["distribution_fee", "cdsc", "service_fee", "gross", "assigned", "offset", "retained"],
             labels=PARTY_LABELS, file=_file(f, "gross-and-retained", start, "to", end), key="parties")

    st.subheader(f"By {'month' if f.party else 'party'}, {span}")
    _party_chart(frames["by_party"], frames["kinds"], events)

    _breakdown(f, start, end)


def _breakdown(f: Filters, start: pd.Timestamp, end: pd.Timestamp) -> None:
    """One breakdown at a time (a chart and its table; only its frame is computed): the page stays quick to open."""
    m, span = f.month, f"{theme.fmt_month(start)} to {theme.fmt_month(end)}"
    view = st.segmented_control(
        "Breakdown", BREAKDOWNS, default=BREAKDOWNS[0], key="revenue_view",
        format_func=lambda v: f"{m.year} month by month" if v == YEAR_MONTHS else v,
        help="The full year of the chosen month, the multi-year trend, or the period by Fund, schedule and portfolio.",
    ) or BREAKDOWNS[0]
    year, since, until = breakdown_scope(view, m.year, start, end)  # the cache's key: what the view depends on
    frame = _breakdown_frame(f.run_id, f.party, f.portfolio, since, until, year, view, data.reader())
    if view == YEAR_MONTHS:
        st.subheader(f"{m.year} month by month")
        ui.table(frame.drop(columns=["months"]), money=[*MONEY, "offset", "payable", "average_net_assets"],
                 percent=["fee_rate"], labels=PERIOD_LABELS, key="year_table", file=_file(f, "year", m.year))
    elif view == YEARS:
        st.subheader("Year by year")
        years = frame
        ui.plot("annual_trend_chart", years, key="years_chart")
        ui.table(years.drop(columns=["last_month"]), money=[*MONEY, "offset", "payable", "average_net_assets"],
                 percent=["fee_rate"], labels=PERIOD_LABELS, key="years_table", file=_file(f, "by-year"))
    elif view == BY_FUND:
        st.subheader(f"By Fund, {span}")
        ui.plot("group_bars", frame, "fund", key="fund_chart")
        ui.table(frame, money=MONEY, labels={"fund": "Fund", **MONEY_LABELS, "portfolios": "Portfolios"},
                 key="fund_table", file=_file(f, "by-fund", start, "to", end))
    elif view == BY_SCHEDULE:
        st.subheader(f"By schedule, {span}")
        ui.plot("group_bars", frame, "schedule", height=220, key="schedule_chart")
        ui.table(frame, money=MONEY,
                 labels={"schedule": "Schedule", **MONEY_LABELS, "portfolios": "Portfolios"},
                 key="schedule_table", file=_file(f, "by-schedule", start, "to", end))
    else:
        st.subheader(f"Top portfolios, {span}")
        ui.plot("top_portfolios_bar", frame, key="top_chart")
        ui.table(frame, money=MONEY, percent=["share_of_total"],
                 labels={"portfolio_id": "Portfolio", "name": "Name", "fund": "Fund", "schedule": "Schedule",
                         **MONEY_LABELS, "share_of_total": "Share of total"},
                 key="top_table", file=_file(f, "top-portfolios", start, "to", end))


def _delta(change: float, before: str) -> str | None:
    return None if pd.isna(change) else f"{theme.fmt_change(change)} vs {before}"


@ui.fragment
def _party_chart(by_party: pd.DataFrame, kinds: pd.DataFrame, events: pd.DataFrame) -> None:
    """Bars by party or by kind of money: a local switch, redrawn alone."""
    view = st.segmented_control("Stack by", ["Party", "Kind of money"], default="Party", key="revenue_stack")
    if view == "Kind of money":
        ui.plot("money_kind_bars", kinds, events=events, key="kind_chart")
    else:
        ui.plot("party_revenue_bars", by_party, events=events, key="party_chart")
    if not events.empty:
        st.caption("↔ a change of distributor (tenure), ✕ a Complete Termination of the Plan (hover a mark for "
                   "the portfolio and date).")


ui.guarded(render)
