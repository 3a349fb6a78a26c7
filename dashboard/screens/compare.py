"""Compare runs (analysts): two calculation runs side by side, what changed per party and month.

Run A is the run chosen in the sidebar; run B is chosen here (``?compare_with=N``
in the link).  The Portfolio and Party filters apply to both runs.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from calc.reports.compare import compare_by_party, compare_runs, compare_totals
from dashboard import data, filters, theme, ui
from dashboard.filters import publish
from dashboard.plain import plain

LABELS = {"month_end": "Month", "party": "Party", "status": "Status", "total_a": "Money, run A", "total_b": "Money, run B",
          "total_change": "Change in money", "payable_a": "Payable, run A", "payable_b": "Payable, run B",
          "payable_change": "Change in payable", "what_changed": "What changed", "months_changed": "Months changed"}
MONEY = ["total_a", "total_b", "total_change", "payable_a", "payable_b", "payable_change"]


def render() -> None:
    f = ui.require_data()
    st.title("Compare runs")
    listing = data.runs()
    labels = filters.run_labels(listing)
    others = [int(r) for r in listing["run_id"] if int(r) != f.run_id]
    if not others:
        st.info(f"Run {f.run_id} is the only calculation run in the store: load another feed on the Data page "
                "to compare two runs.")
        return
    default = next((r for r in others if r < f.run_id), others[0])
    filters.choice("compare_with", others, default, "run to compare with",
                   parse=lambda raw: filters.link_int(raw, others),
                   show=lambda r: labels.get(r, f"run {r}"))
    other = st.selectbox("Compare with (run B)", others, key="compare_with", format_func=lambda r: labels.get(r, f"Run {r}"),
                         help="Run A is the run chosen in the sidebar.")
    publish("compare_with", other, None)
    scope = f"{plain(f.scope_label)} · {plain(f.party_label)}"
    st.caption(f"Run A: {plain(labels.get(f.run_id))} · run B: {plain(labels.get(other))} · scope: {scope}. Money is the Distribution "
               "Fee, service fee and CDSC of each party (after assignments); payable is after offsets.")

    pay_a, pay_b = data.table(f.run_id, "payments"), data.table(other, "payments")
    totals = compare_totals(pay_a, pay_b, f.portfolio_ids, f.party)
    changes = compare_runs(pay_a, pay_b, f.portfolio_ids, f.party)
    c = st.columns(4)
    with c[0]:
        ui.metric("Money, run A", theme.fmt_money_card(totals.loc["total", "a"]), help=theme.fmt_money(totals.loc["total", "a"]))
    with c[1]:
        ui.metric("Money, run B", theme.fmt_money_card(totals.loc["total", "b"]), help=theme.fmt_money(totals.loc["total", "b"]))
    with c[2]:
        ui.metric("Change", theme.fmt_money_card(totals.loc["total", "change"]), help=theme.fmt_money(totals.loc["total", "change"]))
    with c[3]:
        ui.metric("Months and parties changed", f"{len(changes):,}")
    if changes.empty:
        st.success(f"Runs {f.run_id} and {other} agree to the cent for {scope}, in every month and for every party.")
        return
    months = sorted(changes["month_end"].unique())
    st.markdown(f"**{changes['party'].nunique()} part{'y' if changes['party'].nunique() == 1 else 'ies'} and "
                f"{len(months)} month(s) differ**, {theme.fmt_month(months[0])} to {theme.fmt_month(months[-1])}.")
    stamp = ui.download_name("compare", f"run{f.run_id}", f"run{other}", f.party, f.portfolio)
    st.subheader("Per party")
    ui.table(compare_by_party(changes), money=MONEY, labels=LABELS, key="compare_parties", file=f"{stamp}-by-party")
    st.subheader("Per party and month")
    m = f.month
    at_month = changes[changes["month_end"] == m]
    if not at_month.empty:
        st.caption(f"{theme.fmt_month(m)} (the chosen month) is highlighted.")
    ui.table(changes, money=MONEY, months=["month_end"], wide=["what_changed"], labels=LABELS, key="compare_months",
             file=f"{stamp}-by-month", styler=lambda frame: _highlight(frame, m))


def _highlight(frame: pd.DataFrame, month: pd.Timestamp) -> object:
    mask = frame["month_end"] == month
    return frame.style.apply(lambda row: [ui.HIGHLIGHT if mask.loc[row.name] else "" for _ in row], axis=1)


ui.guarded(render)
