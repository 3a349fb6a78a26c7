"""Monthly Calculation: the statement of a month, per portfolio and party, with downloads and a printable view."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from calc.reports.render import statement_csv, statement_excel, statement_html
from calc.reports.statement import Statement, sheet_kinds, statement, statement_sheets
from dashboard import data, theme, ui
from dashboard.plain import plain

PRINT_CSS = """
<style>
@media print {
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"], header,
  [data-testid="stDownloadButton"], [data-testid="stButtonGroup"], [data-testid="stSegmentedControl"],
  [data-testid="stWidgetLabel"], [data-testid="stCaptionContainer"] { display: none !important; }
  [data-testid="stMain"] { margin: 0 !important; padding: 0 !important; }
  .block-container { padding: 0 !important; max-width: 100% !important; }
}
</style>
"""


def render() -> None:
    f = ui.require_data()
    meta = f.meta
    m = f.month
    scope = {} if f.portfolio is None else {"portfolio_id": f.portfolio}
    month = data.tables(f.run_id, ("summary", "payments", "allocation", "exceptions"), month_end=m, **scope)
    cdsc = data.table(f.run_id, "cdsc", date=list(pd.date_range(m - pd.offsets.MonthBegin(1), m)), **scope)  # the month's
    s = statement(month["summary"], month["payments"], month["allocation"], cdsc, month["exceptions"], m,
                  f.portfolio_ids, f.party)
    names = dict(zip(meta.portfolios["portfolio_id"].astype(str), meta.portfolios["name"].astype(str), strict=False))
    st.title(f"Monthly Calculation: {theme.fmt_month(m)}")
    if s.empty:
        st.info(f"No Monthly Calculation for {theme.fmt_month(m)} in {plain(f.scope_label)}.")
        return
    sheets = statement_sheets(s, names)
    ui.termination_notice(f)
    st.caption(f"Scope: {plain(f.scope_label)} · {plain(f.party_label)} · run {f.run_id} · amounts payable on the 10th NYSE business "
               f"day after the month end: **{theme.fmt_date(s.due_date)}**")
    if f.party:
        st.caption(f"The figure cards, Payments and By party are {plain(f.party)}'s; " + ", ".join(s.whole)
                   + " are of the whole portfolios (the tie-out checks every party's cents).")

    c = st.columns(5 if f.party else 4)
    key = "payments_" if f.party else ""
    for col, (label, amount) in zip(c, [("Distribution Fee", s.totals[f"{key}distribution_fee"]),
                                         ("Service fee", s.totals[f"{key}service_fee"]),
                                         ("CDSC", s.totals[f"{key}cdsc"])], strict=False):
        with col:
            ui.money_metric(f"{plain(f.party)}: {label}" if f.party else label, amount)
    if f.party:
        with c[3]:
            ui.money_metric(f"{plain(f.party)}: Offsets", s.totals["payments_offset"])
    with c[-1]:
        ui.money_metric(f"{plain(f.party)}: Payable" if f.party else "Payable", s.totals["payments_payable"],
                        help=f"Money less offsets, to {plain(f.party or 'every party')}, due {theme.fmt_date(s.due_date)}")
    if s.totals["distribution_fee"] == 0 and s.totals["service_fee"] == 0 and s.totals["cdsc"] == 0:
        st.info(f"No activity with money in {theme.fmt_month(m)} for {plain(f.scope_label)}: no fee accrued (no net assets "
                "reported, or after a Complete Termination) and no CDSC was collected.")
    if s.ties_out:
        st.success("Every total ties out: the parties' cents add up to each portfolio's Distribution Fee, service fee and "
                   "CDSC, and payable equals money less offsets.")
    else:
        st.error("Some totals do not tie out: see the Tie-out tab.")

    stamp = ui.download_name(m, f.portfolio, f.party, f"run{f.run_id}")
    d = st.container(horizontal=True)  # the buttons side by side, each as wide as its label
    d.download_button("Download CSV", lambda: statement_csv(s, names), file_name=f"monthly-calculation-{stamp}.csv",
                         mime="text/csv", icon=":material/download:", key="dl_csv", on_click="ignore")
    d.download_button("Download Excel", lambda: statement_excel(s, names), file_name=f"monthly-calculation-{stamp}.xlsx",
                         mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         icon=":material/table_view:", key="dl_xlsx", on_click="ignore")
    d.download_button("Printable HTML", lambda: statement_html(s, names), file_name=f"monthly-calculation-{stamp}.html",
                         mime="text/html", icon=":material/print:", key="dl_html", on_click="ignore")
    _views(s, sheets, names)


@ui.fragment
def _views(s: Statement, sheets: dict, names: dict) -> None:
    """Tabbed views or the printable page: a local switch, redrawn alone."""
    mode = st.segmented_control("View", ["Tables", "Printable page"], default="Tables", key="statement_mode")
    if mode == "Printable page":
        st.html(PRINT_CSS)  # the page itself stays white in the dark theme (calc.reports.render.STYLE)
        st.caption("Use your browser's Print (Ctrl+P / ⌘P): the sidebar and buttons are left out of the printout.")
        st.html(statement_html(s, names, standalone=False))
        return
    tabs = st.tabs(list(sheets))
    for tab, (name, frame) in zip(tabs, sheets.items(), strict=True):
        with tab:
            if frame.empty:
                st.info(f"No {name.lower()} rows this month.")
            else:
                if name in s.whole:
                    st.caption(f"{name}: the whole portfolios, every party.")
                ui.table(frame, key=f"sheet_{name}", file=ui.download_name("monthly-calculation", name, s.month_end,
                                                                          s.party, *(s.portfolio_ids or [])),
                         **sheet_kinds(frame))


ui.guarded(render)
