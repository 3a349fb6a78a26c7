"""Data: what is loaded (every calculation run); for an admin, loading a feed from a zip with its
validation report, and the audit trail.

Every upload error is shown the same way (:func:`_failed`): what was not
loaded, why in plain words, and that nothing was written; a rejected feed adds
its problems.  A feed identical to a stored run is named and stored again only
when the user says so.  After a load the new run is chosen in the sidebar and
the page is redrawn at once.
"""

from __future__ import annotations

import logging
import time

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from calc.access import AccessDenied
from calc.feed import FeedError
from calc.reports.data import feed_overview, problems_frame
from calc.store.engine import StoreBusy
from dashboard import closed_months, data, filters, ui
from dashboard.plain import plain

log = logging.getLogger("dashboard")

RUN_LABELS = {
    "run_id": "Run", "name": "Name", "feed_id": "Feed", "source": "Source", "created_at": "Loaded at", "status": "Status",
    "months": "Months", "first_month": "First month", "last_month": "Last month", "code_version": "Code version",
    "feed_checksum": "Feed checksum", "summary_rows": "Summary rows", "payments_rows": "Payments rows",
    "allocation_rows": "Allocation rows", "omnibus_rows": "Omnibus rows", "cdsc_rows": "CDSC rows",
    "exceptions_rows": "Exceptions", "omnibus_accounts_rows": "Omnibus account rows", "lots_rows": "Lot rows",
}
PENDING = "_duplicate_upload"  # an upload identical to a stored run, waiting for the user's word


def _failed(name: str, reason: str, problems: pd.DataFrame | None = None) -> None:
    """Every upload error, the same way: the file, why, nothing written (and a rejected feed's problems).

    The file's name, the reason and the problems quote the upload: all are drawn as plain text."""
    st.error(f"**{plain(name)} was not loaded.** {plain(reason)} Nothing was written to the store.",
             icon=":material/error:")
    if problems is not None and not problems.empty:
        shown = problems.rename(columns={"file": "File", "line": "Line", "column": "Column", "rule": "Rule"})
        st.table(shown.map(plain), hide_index=True, border="horizontal")  # st.table cells are Markdown


def _load(upload, payload: bytes) -> None:
    with st.status(f"Loading {plain(upload.name)}…", expanded=True) as status:
        bar = st.progress(0.0)
        line = st.empty()
        started = time.perf_counter()

        def progress(stage: str, done: int | None = None, total: int | None = None) -> None:
            if done is not None and total:
                bar.progress(min(1.0, done / total))
            line.text(f"{time.perf_counter() - started:6.1f}s · {stage}")

        try:
            run_id = data.load_uploaded_feed(payload, upload.name, progress=progress)
        except Exception:
            status.update(label=f"{plain(upload.name)} was not loaded", state="error", expanded=False)
            raise
        bar.progress(1.0)
        status.update(label=f"Loaded {plain(upload.name)} as calculation run {run_id}", state="complete")
    st.session_state["_loaded_message"] = (f"Loaded {plain(upload.name)} as calculation run {run_id}: it is chosen in the "
                                           "sidebar and listed above.")
    st.session_state["_select_run"] = run_id  # the sidebar shows it on the rerun below
    st.session_state.pop(PENDING, None)
    st.rerun()


def _upload() -> None:
    st.subheader("Load a feed")
    st.caption("Zip the feed's files (portfolios, tenures, accounts, nav, transactions and optionally assignments, "
               "offsets, plan_events; CSV or Parquet) and upload the zip. The feed is validated, computed and stored "
               "in one transaction: a rejected feed writes nothing. The run is named after the file.")
    loaded = st.session_state.pop("_loaded_message", None)
    if loaded:
        st.success(loaded, icon=":material/check_circle:")
    upload = st.file_uploader("Feed (.zip)", type=["zip"], key="feed_zip")
    validate_only = st.checkbox("Validate only (do not store)", key="validate_only")
    pending = st.session_state.get(PENDING)
    if pending and (upload is None or pending["file"] != (upload.name, upload.size)):
        st.session_state.pop(PENDING, None)
        pending = None
    clicked = st.button("Validate" if validate_only else "Validate and load", type="primary", disabled=upload is None,
                        key="load_feed")
    if pending and not clicked:
        runs = ", ".join(str(r) for r in pending["runs"])
        st.warning(f"**{plain(upload.name)} is identical to the feed of run {runs}** (the same files, byte for byte): its "
                   "Monthly Calculation is already stored. Store it again as a new run?", icon=":material/content_copy:")
        c = st.columns([1, 1, 4])
        again = c[0].button("Store it again", key="store_again")
        if c[1].button("Cancel", key="store_cancel"):
            st.session_state.pop(PENDING, None)
            st.rerun()
        if again:
            _guard(upload, lambda payload: _load(upload, payload))
        return
    if not clicked:
        return

    def go(payload: bytes) -> None:
        if validate_only:
            feed = data.validate_uploaded_feed(payload)
            st.success(f"{plain(upload.name)}: the feed is valid ({len(feed.months())} months).")
            ui.table(feed_overview(feed), labels={"table": "Table", "rows": "Rows"}, key="feed_overview",
                     file=ui.download_name("feed-overview", upload.name.removesuffix(".zip")))
            return
        same = data.runs_with_checksum(data.uploaded_checksum(payload))
        if same:
            st.session_state[PENDING] = {"file": (upload.name, upload.size), "runs": same}
            st.rerun()
        _load(upload, payload)

    _guard(upload, go)


def _guard(upload, action) -> None:
    """Run ``action`` on the upload's bytes; every failure is shown by :func:`_failed`."""
    try:
        action(upload.getvalue())
    except FeedError as err:
        _failed(upload.name, f"The feed was rejected: {len(err.problems)} problem(s), listed below.",
                problems_frame(err.problems))
    except data.UploadError as err:
        _failed(upload.name, f"The upload could not be used: {err}")
    except data.StoreUnavailable:
        _failed(upload.name, "The calculation store is not available on this installation.")
    except AccessDenied as err:
        _failed(upload.name, f"{err}.")
    except StoreBusy as err:
        _failed(upload.name, f"{str(err)[:1].upper()}{str(err)[1:]}.")
    except ScriptControlException:  # st.rerun
        raise
    except Exception as err:
        log.exception("loading %s failed", upload.name)
        if ui.is_connection_error(err):
            _failed(upload.name, filters.STORE_DOWN)
        else:
            _failed(upload.name, f"The feed could not be read or stored ({type(err).__name__}); the details are in "
                    "the server log.")


def _runs() -> None:
    st.subheader("What is loaded")
    try:
        listing = data.runs()
    except data.StoreUnavailable:
        st.info("The calculation store is not available on this installation yet.")
        return
    except Exception:
        log.exception("the store could not be read")
        st.error(filters.STORE_DOWN)
        return
    if listing.empty:
        st.info(ui.NO_DATA)
        return
    f = filters.current()
    latest = listing.iloc[0]
    c = st.columns([1, 1, 1.6, 1])
    c[0].metric("Calculation runs", f"{len(listing)}")
    c[1].metric("Newest run", f"{int(latest['run_id'])}")
    when = latest.get("created_at")
    c[2].metric("Loaded at", "–" if when is None or pd.isna(when) else f"{pd.Timestamp(when):%Y-%m-%d}",
                help=None if when is None or pd.isna(when) else f"{pd.Timestamp(when):%Y-%m-%d %H:%M:%S}")
    months = latest.get("months")
    c[3].metric("Months in newest run", "–" if months is None or pd.isna(months) else f"{int(months)}")
    if f.run_id is not None:
        st.caption(f"Showing run {f.run_id} on the other pages (choose another in the sidebar). This page lists every "
                   "run of the store: the Portfolio and Party filters do not apply to it.")
    listing = listing.assign(name=listing["source"].map(data.source_name))
    cols = [c for c in RUN_LABELS if c in listing.columns]
    ui.table(listing[cols], months=[c for c in ("first_month", "last_month") if c in cols],
             labels={c: RUN_LABELS[c] for c in cols}, key="runs", file="calculation-runs")
    if f.meta is not None:
        meta = f.meta
        with st.expander(f"Run {f.run_id}: portfolios, tenures, assignments, Plan events"):
            st.markdown("**Portfolios**")
            ui.table(meta.portfolios.drop(columns=[c for c in ("cdsc_schedule",) if c in meta.portfolios.columns]),
                     key="feed_portfolios", file=f"portfolios-run{f.run_id}")
            st.markdown("**Tenures**")
            ui.table(meta.tenures, dates=["start_date"], open_dates=["end_date"], key="feed_tenures",
                     file=f"tenures-run{f.run_id}")
            st.markdown("**Assignments**")
            ui.table(meta.assignments, dates=["start_date"], open_dates=["end_date"], money=["purchase_price"],
                     percent=["fee_fraction", "cdsc_fraction"], key="feed_assignments", file=f"assignments-run{f.run_id}")
            st.caption("An end date “open”: the tenure or assignment runs on.")
            st.markdown("**Plan events**")
            ui.table(meta.plan_events, dates=["date"], key="feed_plan_events", file=f"plan-events-run{f.run_id}")


def _audit() -> None:
    """The audit trail (admins): who signed in, loaded, changed users, when."""
    st.subheader("Audit trail")
    events = data.audit_trail()
    st.caption("The newest events first: sign-ins (and failed ones), sign-outs, loads, user changes. Times in UTC.")
    ui.table(events, key="audit", file="audit-trail",
             labels={"event_id": "Event", "at": "When (UTC)", "actor": "Who", "action": "What", "run_id": "Run",
                     "detail": "Detail"})


def render() -> None:
    st.title("Data")
    _runs()
    st.divider()
    closed_months.section()
    st.divider()
    if data.principal().is_admin:
        _upload()
        st.divider()
        _audit()
    else:
        st.info("Loading a feed is for an admin.", icon=":material/lock:")


ui.guarded(render)
