"""Data: load a feed (a zip of its CSV files), the validation report, what is loaded and each calculation run."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from calc.feed import FeedError
from calc.reports.data import feed_overview, problems_frame
from dashboard import data, filters, ui

RUN_LABELS = {
    "run_id": "Run", "feed_id": "Feed", "source": "Source", "created_at": "Loaded at", "status": "Status",
    "months": "Months", "first_month": "First month", "last_month": "Last month", "code_version": "Code version",
    "feed_checksum": "Feed checksum", "summary_rows": "Summary rows", "payments_rows": "Payments rows",
    "allocation_rows": "Allocation rows", "omnibus_rows": "Omnibus rows", "cdsc_rows": "CDSC rows",
    "exceptions_rows": "Exceptions", "omnibus_accounts_rows": "Omnibus account rows", "lots_rows": "Lot rows",
}


def _upload() -> None:
    st.subheader("Load a feed")
    st.caption("Zip the feed's files (portfolios, tenures, accounts, nav, transactions and optionally assignments, "
               "offsets, plan_events; CSV or Parquet) and upload the zip. The feed is validated, computed and stored "
               "in one transaction: a rejected feed writes nothing.")
    upload = st.file_uploader("Feed (.zip)", type=["zip"], key="feed_zip")
    validate_only = st.checkbox("Validate only (do not store)", key="validate_only")
    if st.button("Validate" if validate_only else "Validate and load", type="primary", disabled=upload is None, key="load_feed"):
        payload = upload.getvalue()
        try:
            if validate_only:
                feed = data.validate_uploaded_feed(payload)
                st.success(f"{upload.name}: the feed is valid ({len(feed.months())} months).")
                ui.table(feed_overview(feed), labels={"table": "Table", "rows": "Rows"})
                return
            with st.status(f"Loading {upload.name}…", expanded=True) as status:
                bar = st.progress(0.0)
                line = st.empty()
                started = time.perf_counter()

                def progress(stage: str, done: int | None = None, total: int | None = None) -> None:
                    if done is not None and total:
                        bar.progress(min(1.0, done / total))
                    line.write(f"{time.perf_counter() - started:6.1f}s · {stage}")

                try:
                    run_id = data.load_uploaded_feed(payload, upload.name, progress=progress)
                except Exception:
                    status.update(label=f"{upload.name} was not loaded", state="error", expanded=False)
                    raise
                bar.progress(1.0)
                status.update(label=f"Loaded {upload.name} as calculation run {run_id}", state="complete")
            st.success(f"Loaded as calculation run {run_id}. Choose it in the sidebar (it is the newest).")
            st.session_state["_loaded_run"] = run_id
        except FeedError as err:
            st.error(f"The feed was rejected ({len(err.problems)} problem(s)); nothing was written.")
            problems = problems_frame(err.problems)
            st.table(problems.rename(columns={"file": "File", "line": "Line", "column": "Column", "rule": "Rule"}),
                     hide_index=True, border="horizontal")
        except (ValueError, OSError) as err:
            st.error(f"The upload could not be read: {err}")
        except data.StoreUnavailable as err:
            st.error(f"The store is not available: {err}")


def _runs() -> None:
    st.subheader("What is loaded")
    try:
        listing = data.runs()
    except data.StoreUnavailable as err:
        st.info(f"The store is not available: {err}")
        return
    except Exception as err:
        st.error(f"The database could not be read: {err}")
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
        st.caption(f"Showing run {f.run_id} on the other pages (choose another in the sidebar).")
    cols = [c for c in RUN_LABELS if c in listing.columns]
    ui.table(listing[cols], months=[c for c in ("first_month", "last_month") if c in cols],
             labels={c: RUN_LABELS[c] for c in cols})
    if f.meta is not None:
        meta = f.meta
        with st.expander(f"Run {f.run_id}: portfolios, tenures, assignments, Plan events"):
            st.markdown("**Portfolios**")
            ui.table(meta.portfolios.drop(columns=[c for c in ("cdsc_schedule",) if c in meta.portfolios.columns]))
            st.markdown("**Tenures**")
            ui.table(meta.tenures, dates=["start_date", "end_date"])
            st.markdown("**Assignments**")
            ui.table(meta.assignments, dates=["start_date", "end_date"], money=["purchase_price"])
            st.markdown("**Plan events**")
            ui.table(meta.plan_events, dates=["date"])


def render() -> None:
    st.title("Data")
    _runs()
    st.divider()
    _upload()


ui.guarded(render)
