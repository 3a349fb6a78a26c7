"""The Data page's closed months: the list, the close button (admins), a closed month's
files, and each restatement's differences per party and month.

Who is signed in comes from the sign-in (``dashboard.auth.current``, a
:class:`calc.access.Principal`); without one nothing is shown, and the close button only
for an admin.  The figures come from ``calc.store.closes`` and
``calc.reports.restatement``: this module only arranges widgets.
"""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from calc.access import AccessDenied, Principal
from calc.close import zip_files
from calc.reports.restatement import differences
from dashboard import data, filters, ui
from dashboard.plain import plain

log = logging.getLogger("dashboard")

CLOSE_LABELS = {
    "close_id": "Close", "month_end": "Month", "run_id": "Run", "closed_at": "Closed at (UTC)",
    "closed_by": "Closed by", "restatements": "Restatements", "tables_checksum": "Files SHA-256",
    "inputs_checksum": "Inputs SHA-256", "feed_checksum": "Feed checksum",
}
RESTATEMENT_LABELS = {
    "restatement_id": "Restatement", "month_end": "Month", "version": "Version", "run_id": "Run",
    "close_id": "Close", "restated_at": "Loaded at (UTC)", "restated_by": "Loaded by",
    "tables_checksum": "Files SHA-256",
}
DIFFERENCE_LABELS = {
    "month_end": "Month", "party": "Party", "role": "Role", "closed_payable": "Payable, closed",
    "restated_payable": "Payable, restated", "payable_difference": "Payable, difference",
    "distribution_fee_difference": "Distribution Fee, difference", "cdsc_difference": "CDSC, difference",
    "service_fee_difference": "Service fee, difference", "offset_difference": "Offset, difference",
    "changed": "Changed",
}
_CLOSED_MESSAGE = "_closed_message"


def _close_form(who: Principal, closes: pd.DataFrame) -> None:
    from calc.store.closes import CloseError, close_month

    f = filters.current()
    if f.run_id is None or f.meta is None:
        return
    closed = {pd.Timestamp(m) for m in closes["month_end"]}
    months = [m for m in reversed(f.meta.months) if pd.Timestamp(m) not in closed]
    if not months:
        st.caption(f"Every month of run {f.run_id} is closed.")
        return
    c = st.columns([2, 1])
    month = c[0].selectbox(f"Close a month of run {f.run_id}", months, format_func=lambda m: f"{m:%Y-%m}",
                           key="close_month")
    c[1].markdown("&nbsp;")
    if c[1].button("Close month", key="close_month_button", type="primary"):
        try:
            with st.spinner(f"Closing {month:%Y-%m}: its six files and the checksums of their inputs…"):
                close_id = close_month(data.engine(), f.run_id, month, who)
        except (CloseError, AccessDenied, LookupError) as err:
            st.error(f"{month:%Y-%m} was not closed: {plain(err)}", icon=":material/error:")
            return
        st.session_state[_CLOSED_MESSAGE] = (f"Closed {month:%Y-%m} of run {f.run_id} (close {close_id}): its six "
                                             "files and their checksums are stored for ever.")
        data.clear_caches()
        st.rerun()


def _closed_download(who: Principal, closes: pd.DataFrame) -> None:
    from calc.store.closes import closed_files

    ids = [int(i) for i in closes["close_id"]]
    months = dict(zip(ids, closes["month_end"], strict=True))
    close_id = st.selectbox("A closed month's six files", ids, key="closed_download",
                            format_func=lambda i: f"{months[i]:%Y-%m} (close {i})")
    files = closed_files(data.engine(), close_id, who)
    name = f"closed-{months[close_id]:%Y-%m}"
    st.download_button("The six files as closed (.zip)", zip_files(files, name), file_name=f"{name}.zip",
                       mime="application/zip", icon=":material/download:", key="closed_zip", on_click="ignore")


def _restatements(who: Principal) -> None:
    from calc.store.closes import list_restatements, restated_payments

    listing = list_restatements(data.engine(), who)
    st.markdown("**Restatements**")
    if listing.empty:
        st.caption("No load has changed a closed month.")
        return
    cols = [c for c in RESTATEMENT_LABELS if c in listing.columns]
    ui.table(listing[cols], months=["month_end"], labels=RESTATEMENT_LABELS, key="restatements", file="restatements")
    runs = sorted({int(r) for r in listing["run_id"]}, reverse=True)
    run_id = st.selectbox("Differences of a restating run against the closed figures", runs, key="restating_run",
                          format_func=lambda r: f"Run {r}")
    frame = differences(*restated_payments(data.engine(), run_id, who))
    only_changed = st.checkbox("Only the parties whose figures changed", value=True, key="restated_only_changed")
    if only_changed:
        frame = frame[frame["changed"].astype(bool)]
    ui.table(frame, months=["month_end"], labels=DIFFERENCE_LABELS, key="restatement_differences",
             money=[c for c in frame.columns if c.endswith("_payable") or c.endswith("_difference")],
             file=f"restatement-run{run_id}")


def section() -> None:
    """Closed months and restatements, for a signed-in principal who sees every party."""
    from calc.store.closes import list_closes
    from dashboard import auth

    st.subheader("Closed months")
    who = auth.current()
    if who is None:
        st.info("Sign in to see the closed months.")
        return
    if not who.sees_all:
        st.info("Closed months hold every party's figures: they are shown to executives, analysts and admins.")
        return
    done = st.session_state.pop(_CLOSED_MESSAGE, None)
    if done:
        st.success(done, icon=":material/lock:")
    try:
        closes = list_closes(data.engine(), who)
    except data.StoreUnavailable:
        st.info("The calculation store is not available on this installation yet.")
        return
    st.caption("A closed month's Monthly Calculation is frozen: its six files are kept byte for byte with the "
               "checksums of the files and of the inputs they came from. A later feed that changes a closed month is "
               "stored as a restatement, a new version; the closed figures stay.")
    if closes.empty:
        st.caption("No month is closed yet.")
    else:
        cols = [c for c in CLOSE_LABELS if c in closes.columns]
        ui.table(closes[cols], months=["month_end"], labels=CLOSE_LABELS, key="closes", file="closed-months")
        _closed_download(who, closes)
    if who.is_admin:
        _close_form(who, closes)
    _restatements(who)


__all__ = ["section"]
