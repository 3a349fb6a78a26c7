"""Omnibus accounts: a portfolio's omnibus accounts -> one account month by month, Exhibit A 2(c) written out.

The portfolio is the sidebar's (picked here when it is the whole complex) and
the account a page choice: both come back when the user returns to the page.
The month-by-month table scrolls to the chosen month and highlights it; a
month's formula lines download as CSV.  With a rights holder in the Party
filter the lines, table and chart are that holder's.

Under the account selector one view is drawn at a time (the month's formula lines, the account
month by month, the portfolio's accounts), chosen with a segmented control that the link carries
(``?omnibus_view=history``) and that is kept while the user visits other pages: picking a portfolio
draws one table and the formula lines, not four tables and a chart.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from calc.reports.common import portfolio_labels
from calc.reports.omnibus import (
    omnibus_account_history,
    omnibus_accounts_overview,
    omnibus_attribution_series,
    omnibus_formula_lines,
)
from calc.vocabulary import SHARE_TOLERANCE
from dashboard import data, filters, theme, ui
from dashboard.filters import KEY_PORTFOLIO, publish
from dashboard.plain import plain, plain_list

LINE_LABELS = {"rights_holder": "Rights holder", "line": "Line", "clause": "Clause", "formula": "Formula",
               "value": "Calculated", "by_formula": "By the formula", "note": "Note"}

# The holder's line as the formula reads, F_h(m) = F_h(m-1) + issued - redeemed + net exchange, then the
# account's month-end figures it is computed from (the same on every holder's row, so they come last).
HISTORY_LABELS = {
    "month_end": "Month", "rights_holder": "Rights holder",
    "F_h_prev": "F_h(m-1)", "issued": "issued_h", "redeemed": "redeemed_h", "net_exchange": "net exchange_h",
    "free_shares": "F_h(m)", "K_h_prev": "K_h(m-1)",
    "I": "I", "R": "R", "E": "E", "F_prev": "F(m-1)", "K_prev": "K(m-1)",
}


def _choose_portfolio(meta: data.RunMeta, with_omnibus: list[str]) -> None:
    st.info("Omnibus Free Shares are attributed per portfolio: choose one.")
    if not with_omnibus:
        st.info("No omnibus account holds shares in this calculation run.")
        return

    def pick() -> None:
        st.session_state[KEY_PORTFOLIO] = st.session_state["omnibus_portfolio_pick"]

    names = portfolio_labels(meta.portfolios)
    st.selectbox("Portfolio with omnibus accounts", with_omnibus, index=None, key="omnibus_portfolio_pick",
                 format_func=lambda p: names.get(p, p), on_change=pick, placeholder="Choose a portfolio")


# The page's views, one drawn at a time; the link carries the choice as ``?omnibus_view=``.
VIEWS = {
    "formulas": "Month's formulas",
    "history": "Month by month",
    "accounts": "Portfolio's accounts",
}


def _view() -> str:
    """The view to draw: from the link (``?omnibus_view=history``), the session or the default."""
    return ui.one_part_at_a_time("omnibus_view", VIEWS, "view",
                                 "One part of the account at a time. The link carries it: ?omnibus_view=history")


def render() -> None:
    f = ui.require_data()
    meta = f.meta
    st.title("Omnibus accounts")
    st.caption("Exhibit A 2(c): the Free Shares of an omnibus account are attributed once a month from its month-end "
               "figures: issued (ii), redeemed (iii), net exchange (iv).")
    with_omnibus = data.omnibus_portfolios(f.run_id, meta.months[-1] if meta.months else None)
    if f.portfolio is None:
        _choose_portfolio(meta, with_omnibus)
        return
    pid, m = f.portfolio, f.month
    omnibus, accounts, exceptions = data.omnibus_for(f.run_id, pid)
    if omnibus.empty:
        st.info(f"No omnibus account holds shares of {plain(f.scope_label)}. "
                + (f"Portfolios with omnibus accounts: {plain_list(with_omnibus)}." if with_omnibus else ""))
        return

    ui.termination_notice(f)

    overview = omnibus_accounts_overview(omnibus, accounts, exceptions, pid, m)
    all_accounts = sorted(omnibus["account_id"].unique())
    flagged = overview.loc[overview["flagged"], "account_id"].tolist() if not overview.empty else []
    default = all_accounts.index(flagged[0]) if flagged else 0
    filters.choice("account", all_accounts, all_accounts[default], "account", where=f"an omnibus account of {pid}")
    account = st.selectbox("Account", all_accounts, key="account", help="Drill into one omnibus account, month by month.")
    publish("account", account, None)
    history = omnibus_account_history(omnibus, accounts, pid, account)
    holders = sorted(history["rights_holder"].unique())
    if f.party and f.party in holders:
        history = history[history["rights_holder"] == f.party]
        st.caption(f"Party filter: {plain(f.party)}'s lines only (the account's I, R, E, F and K are the whole account's).")
    elif f.party:
        st.caption(f"Party filter: {plain(f.party)} is not a rights holder of {plain(account)}; omnibus Free Shares are attributed to "
                   f"rights holders only, so every rights holder ({plain_list(holders)}) is shown.")
    view = _view()
    if view == "accounts":
        _accounts(overview, f.scope_label, pid, m, f.run_id)
    elif view == "history":
        _history(history, exceptions, pid, account, m, f.run_id)
    else:
        _account(history, exceptions, pid, account, m, f.run_id)


def _accounts(overview: pd.DataFrame, scope_label: str, pid: str, m: pd.Timestamp, run_id: int) -> None:
    """The portfolio's omnibus accounts at the month, the flagged ones marked."""
    st.subheader(f"{plain(scope_label)}: accounts at {theme.fmt_month(m)}")
    if overview.empty:
        st.info(f"No omnibus account of {plain(pid)} is open at {theme.fmt_month(m)}; choose a later month.")
    else:
        holders = [c for c in overview.columns if c.startswith("F_")]
        shown = overview.copy()
        shown.insert(0, "⚠", shown["flagged"].map({True: "⚠", False: ""}))
        ui.table(shown.drop(columns=["flagged"]), shares=["free_shares", "commission_shares", *holders], key="accounts",
                 file=ui.download_name("omnibus-accounts", pid, m, f"run{run_id}"),
                 labels={"account_id": "Account", "free_shares": "Free Shares F(m)", "commission_shares": "Commission K(m)",
                         "exceptions_this_month": "Exceptions (month)", "exceptions_total": "Exceptions (all)",
                         **{h: f"{h[2:]} Free Shares" for h in holders}})
        if shown["⚠"].eq("⚠").any():
            st.caption("⚠ an exception this month (zero denominator) or a negative attributed balance.")


def _account(history: pd.DataFrame, exceptions: pd.DataFrame, pid: str, account: str, m: pd.Timestamp,
             run_id: int) -> None:
    """The account's figures at the month and every Exhibit A 2(c) line written out with its numbers."""
    st.subheader(f"{plain(account)} in {plain(pid)}, {theme.fmt_month(m)}")
    rows = history[history["month_end"] == m]
    if rows.empty:
        first = history["month_end"].min()
        st.info(f"{plain(account)} has no shares of {plain(pid)} before {theme.fmt_month(first)}: the month before an account's first "
                "transaction holds nothing. Choose a later month.")
    else:
        figures = rows.iloc[[0]][["I", "R", "E", "F_prev", "K_prev", "F", "K"]]
        ui.table(figures, shares=list(figures.columns), key="account_month",
                 file=ui.download_name("omnibus", pid, account, m, "figures", f"run{run_id}"),
                 labels={"I": "I (issued)", "R": "R (redeemed)", "E": "E (net exchange)", "F_prev": "F(m-1)",
                         "K_prev": "K(m-1)", "F": "F(m)", "K": "K(m)"})
        if max(abs(r) for r in figures[["I", "R", "E"]].iloc[0]) <= SHARE_TOLERANCE:
            st.info(f"No Free Shares issued, redeemed or exchanged in {plain(account)} in {theme.fmt_month(m)}: nothing to "
                    "attribute, every balance carries over. The months with activity are under “Month by month”.")
        lines = omnibus_formula_lines(history, m)
        st.download_button(
            "Download the formula lines (CSV)",
            lambda: ui.csv_bytes(lines, LINE_LABELS),
            file_name=f"{ui.download_name('omnibus', pid, account, m, 'formulas', f'run{run_id}')}.csv",
            mime="text/csv", icon=":material/download:", key="dl_formulas", on_click="ignore", type="tertiary")
        for holder, g in lines.groupby("rights_holder", sort=True):
            hr = rows[rows["rights_holder"] == holder].iloc[0]
            st.markdown(f"**{plain(holder)}**: K_h(m-1) = {theme.fmt_shares(hr['K_h_prev'])}, F_h(m-1) = "
                        f"{theme.fmt_shares(hr['F_h_prev'])} → F_h(m) = {theme.fmt_shares(hr['free_shares'])}")
            text = "\n".join(f"{ln.clause:<9} {ln.formula}" + (f"   <- {ln.note}" if ln.note else "") for ln in g.itertuples(index=False))
            st.code(text, language=None, wrap_lines=True)
        ex = exceptions[(exceptions["account_id"] == account) & (exceptions["month_end"] == m)]
        for e in ex.itertuples(index=False):
            st.warning(plain(f"{e.code}: {e.detail}"))


@ui.fragment
def _history(history: pd.DataFrame, exceptions: pd.DataFrame, pid: str, account: str, m: pd.Timestamp,
             run_id: int) -> None:
    """The account's months, the attribution chart and its exceptions (local switches)."""
    st.subheader("Attribution over time")
    with_k = st.toggle("Show Commission Shares K_h too", value=False, key="omnibus_with_k")
    ui.chart("omnibus_attribution_chart", omnibus_attribution_series(history), with_commission=with_k,
             key="omnibus_chart")
    st.subheader("Month by month")
    active_only = st.toggle("Only months with activity (I, R or E)", value=True, key="omnibus_active_only")
    shown = history
    if active_only:
        active = (history["I"].abs() > SHARE_TOLERANCE) | (history["R"].abs() > SHARE_TOLERANCE) | (history["E"].abs() > SHARE_TOLERANCE)
        shown = history[active | (history["month_end"] == m)]  # the chosen month stays, active or not
    shown = shown[list(HISTORY_LABELS)].sort_values(["month_end", "rights_holder"], ascending=[False, True]).reset_index(drop=True)
    chosen = shown.index[shown["month_end"] == m]
    if len(chosen):
        st.caption(f"{theme.fmt_month(m)}, the chosen month, is highlighted; the table opens on it.")
    with st.container(key="omnibus_history_box"):  # the scroll script finds the table by this key
        ui.table(shown, shares=[c for c in HISTORY_LABELS if c not in ("month_end", "rights_holder")],
                 months=["month_end"], pinned=["month_end", "rights_holder"], labels=HISTORY_LABELS,
                 key="omnibus_history", file=ui.download_name("omnibus", pid, account, "by-month", f"run{run_id}"),
                 styler=lambda frame: frame.style.apply(
                     lambda row: [ui.HIGHLIGHT if row["month_end"] == m else "" for _ in row], axis=1))
    if len(chosen):
        ui.scroll_table_to("omnibus_history_box", int(chosen[0]))
    ex = exceptions[exceptions["account_id"] == account]
    if not ex.empty:
        with st.expander(f"Exceptions of {plain(account)} ({len(ex)})"):
            ui.table(ex, months=["month_end"], wide=["detail"], key="account_exceptions",
                     file=ui.download_name("omnibus-exceptions", pid, account),
                     labels={"month_end": "Month", "portfolio_id": "Portfolio",
                                                       "account_id": "Account", "code": "Code", "detail": "Detail"})


ui.guarded(render)
