"""Small display helpers shared by the pages: friendly empty states, figure cards and formatted tables.

Every table is drawn by :func:`table`, which also offers it as a CSV download
with the headers the reader sees and a file name that says what it holds
(``revenue-by-fund-run2-2015-04-to-2017-03.csv``).
"""

from __future__ import annotations

import functools
import logging
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from calc.reports.common import change, date_text
from calc.reports.render import table_csv
from calc.reports.shares import termination_date
from dashboard import filters as flt
from dashboard import theme
from dashboard.plain import chart_safe, plain

log = logging.getLogger("dashboard")

NO_DATA = (
    "No Monthly Calculation is loaded yet. Run `make run` to load the sample complex, "
    "or upload a feed on the **Data** page."
)


def require_data() -> flt.Filters:
    """The current filters; stops the page with a clear message when nothing is loaded."""
    f = flt.current()
    problem = st.session_state.get("_store_problem")
    if f.run_id is None:
        if problem == "unavailable":
            st.info("The calculation store is not available on this installation yet. " + NO_DATA)
        elif problem:
            st.error(problem)
        else:
            st.info(NO_DATA)
        st.stop()
    if f.month is None:
        st.info("This calculation run has no months. " + NO_DATA)
        st.stop()
    return f


def failure_message(err: BaseException) -> str:
    """What a reader is told about an unexpected error: plain words, no exception text, path or host."""
    if is_connection_error(err):
        return flt.STORE_DOWN
    return (f"This view could not be drawn ({type(err).__name__}). The other pages still work; "
            "the details are in the server log.")


@contextmanager
def shielded(what: str) -> Iterator[None]:
    """Run the block; an unexpected error is logged with its traceback (naming ``what`` failed) and shown
    as a short message, never as a traceback.  Streamlit's own controls (st.stop, st.rerun, page switches)
    pass through."""
    try:
        yield
    except ScriptControlException:
        raise
    except Exception as err:
        log.error("%s failed: %s", what, traceback.format_exc())
        st.error(failure_message(err))


def guarded(render: Callable[[], None]) -> None:
    """Run a page body; an unexpected error becomes a short message, never a traceback."""
    with shielded("page body"):
        render()


def fragment(func: Callable[..., None]) -> Callable[..., None]:
    """``st.fragment`` with its body inside :func:`shielded`: a fragment rerun alone (a slider moved) runs
    outside the page's handler, and must not show a traceback either."""

    @functools.wraps(func)
    def body(*args: object, **kwargs: object) -> None:
        with shielded(f"fragment {func.__name__}"):
            func(*args, **kwargs)

    return st.fragment(body)


SIDEBAR_FAILED = "The filters could not be drawn. The details are in the server log."


def sidebar_filters() -> flt.Filters:
    """The sidebar's filters (:func:`filters.render_sidebar`) inside a handler: a link's odd value or a
    failing read leaves the filters empty and every page says so plainly, with no traceback."""
    try:
        return flt.render_sidebar()
    except ScriptControlException:
        raise
    except Exception as err:
        log.error("sidebar failed: %s", traceback.format_exc())
        st.session_state["_store_problem"] = failure_message(err) if is_connection_error(err) else SIDEBAR_FAILED
        return flt.Filters(None, None, None, None, None)


def is_connection_error(err: BaseException) -> bool:
    """A database that cannot be reached (the driver's message names host and port: kept for the log)."""
    try:
        import sqlalchemy as sa
    except ImportError:  # pragma: no cover
        return False
    return isinstance(err, (sa.exc.OperationalError, sa.exc.InterfaceError))


# Figure cards: the amount whole, never cut ("$1,329,528…"), from 1280 px on; labels may wrap.
STYLE = """<style>
[data-testid="stMetricValue"] > div { font-size: 1.75rem; overflow: visible; text-overflow: clip; }
[data-testid="stMetricLabel"] p { white-space: normal; }
</style>"""


HIGHLIGHT = "background-color: rgba(255, 193, 7, 0.28); font-weight: 600"  # the chosen month's rows


def scroll_table_to(key: str, row: int, row_height: int = 35) -> None:
    """Scroll the table in the container ``key`` so that ``row`` is its first visible row (a tiny script)."""
    st.html(
        f"""<script>
        (() => {{
          let tries = 0;
          const timer = setInterval(() => {{
            tries += 1;
            const box = document.querySelector('.st-key-{key} .dvn-scroller');
            if (box && box.scrollHeight > box.clientHeight) {{ box.scrollTop = {row} * {row_height}; clearInterval(timer); }}
            if (tries > 60) clearInterval(timer);
          }}, 100);
        }})();
        </script>""",
        unsafe_allow_javascript=True,
    )


def style() -> None:
    """The dashboard's few CSS rules (figure cards)."""
    st.html(STYLE)


def termination_notice(f: flt.Filters) -> None:
    """A clear note when the chosen portfolio's Plan has ended (Complete Termination) by the chosen month."""
    if f.portfolio is None or f.meta is None or f.month is None:
        return
    ended = termination_date(f.meta.plan_events, f.portfolio)
    if ended is None or ended > f.month:
        return
    last_day = ended - pd.Timedelta(days=1)
    when = (f"in {theme.fmt_month(f.month)} fees accrued to {theme.fmt_date(last_day)} only"
            if ended + pd.offsets.MonthEnd(0) == f.month else f"no Distribution Fee or service fee accrues in {theme.fmt_month(f.month)}")
    st.warning(f"{plain(f.portfolio)}: Complete Termination of the Plan on {theme.fmt_date(ended)}. From that day on neither the "
               f"Distribution Fee nor the service fee accrues to anyone: {when}. CDSCs go on, and so does the attribution "
               "of the shares.", icon=":material/block:")


def one_part_at_a_time(key: str, parts: dict[str, str], noun: str, help: str) -> str:
    """A segmented control that picks the one part of a page to draw (the browser then draws one
    part's charts and tables, not all of them): its choice comes from the link (``?KEY=``), else
    the session (kept across pages: ``KEY`` is in ``filters.PAGE_KEYS``), else the first part, and
    goes back into the link.  A click on the part already chosen keeps it chosen (a segmented
    control would unselect it).  ``parts`` maps each choice's key to its label."""
    keys = list(parts)
    shown = f"_{key}_shown"  # the part drawn last

    def keep() -> None:
        if st.session_state.get(key) is None:
            st.session_state[key] = st.session_state.get(shown, keys[0])

    flt.choice(key, keys, keys[0], noun, show=parts.__getitem__, where=f"a {noun} of this page")
    chosen = st.segmented_control(noun.capitalize(), keys, format_func=parts.__getitem__, key=key, on_change=keep,
                                  label_visibility="collapsed", help=help) or keys[0]
    st.session_state[shown] = chosen
    flt.publish(key, chosen, keys[0])
    return chosen


def column_config(
    money: Iterable[str] = (),
    percent: Iterable[str] = (),
    shares: Iterable[str] = (),
    dates: Iterable[str] = (),
    months: Iterable[str] = (),
    labels: dict[str, str] | None = None,
    wide: Iterable[str] = (),
    pinned: Iterable[str] = (),
) -> dict[str, object]:
    """``st.dataframe`` column_config: $1,234.56, 71.34%, six-decimal shares, ISO dates.

    ``pinned`` columns stay in view while a wide table scrolls sideways.
    """
    labels = labels or {}
    cfg: dict[str, object] = {}
    for c in money:
        cfg[c] = st.column_config.NumberColumn(labels.get(c, c), format=theme.MONEY_FORMAT)
    for c in percent:
        cfg[c] = st.column_config.NumberColumn(labels.get(c, c), format=theme.PERCENT_FORMAT)
    for c in shares:
        cfg[c] = st.column_config.NumberColumn(labels.get(c, c), format=theme.SHARES_FORMAT)
    for c in dates:
        cfg[c] = st.column_config.DateColumn(labels.get(c, c), format="YYYY-MM-DD")
    for c in months:
        cfg[c] = st.column_config.DateColumn(labels.get(c, c), format="MMM YYYY")
    for c in wide:
        cfg[c] = st.column_config.TextColumn(labels.get(c, c), width="large")
    for c, label in labels.items():
        cfg.setdefault(c, st.column_config.Column(label))
    for c in pinned:
        cfg.setdefault(c, st.column_config.Column(labels.get(c, c)))
        cfg[c] = {**cfg[c], "pinned": True}  # type: ignore[dict-item]
    return cfg


def download_name(*parts: object) -> str:
    """A file name from its parts: ``revenue-by-fund-run2-2017-03`` (lower case, no spaces)."""
    words = []
    for part in parts:
        if part is None or part == "":
            continue
        if isinstance(part, pd.Timestamp):
            part = f"{part:%Y-%m}"
        text = "".join(c if c.isalnum() or c in "-_." else "-" for c in str(part).strip().lower())
        words.append("-".join(w for w in text.split("-") if w))
    return "-".join(w for w in words if w)


def csv_bytes(frame: pd.DataFrame, labels: dict[str, str] | None = None, **kinds: Iterable[str]) -> bytes:
    """``frame`` as the reader sees it: readable headers, dates as YYYY-MM-DD, money to the cent."""
    labels = labels or {}
    shown = frame.rename(columns=labels)
    as_kinds = {
        "money": [labels.get(c, c) for c in kinds.get("money", ())],
        "dates": [labels.get(c, c) for c in (*kinds.get("dates", ()), *kinds.get("months", ()))],
    }
    return table_csv(shown, as_kinds)


def table(frame: pd.DataFrame, *, key: str | None = None, height: int | str = "auto", file: str | None = None,
          styler: Callable[[pd.DataFrame], object] | None = None, **kinds: Iterable[str]) -> None:
    """A read-only table with fund-report formats (see :func:`column_config`).

    ``file`` (a name without extension) adds a CSV download of the table with the headers shown.
    ``open_dates`` columns are dates written out, a missing one as "open" (an end date not yet set).
    ``styler`` receives the shown frame and returns a pandas Styler (highlighting).
    """
    labels = kinds.pop("labels", None)  # type: ignore[arg-type]
    open_dates = list(kinds.pop("open_dates", ()))
    shown = frame
    percent = [c for c in kinds.get("percent", ()) if c in frame.columns]
    if percent or open_dates:
        shown = frame.copy()
        for c in percent:
            shown[c] = pd.to_numeric(shown[c], errors="coerce") * 100  # PERCENT_FORMAT writes 71.34%
        for c in open_dates:
            if c in shown.columns:
                shown[c] = date_text(shown[c])
    data = styler(shown) if styler is not None else shown
    st.dataframe(
        data, hide_index=True, width="stretch", height=height, key=key,
        column_config=column_config(labels=labels, **kinds),  # type: ignore[arg-type]
    )
    if file:
        kinds_csv = {k: v for k, v in kinds.items() if k in ("money", "dates", "months")}
        st.download_button(
            "Table as CSV", lambda: csv_bytes(frame.assign(**{c: date_text(frame[c]) for c in open_dates
                                                              if c in frame.columns}), labels, **kinds_csv),
            file_name=f"{file}.csv", mime="text/csv", icon=":material/download:", key=f"dl_{key or file}",
            on_click="ignore", type="tertiary",
        )


def _build(builder: str, *args: object, **kwargs: object) -> object:
    """``charts.<builder>`` on its arguments with their text escaped for plotly (:func:`plain.chart_safe`)."""
    from dashboard import charts

    return getattr(charts, builder)(*(chart_safe(a) for a in args), **{k: chart_safe(v) for k, v in kwargs.items()})


@st.cache_resource(show_spinner=False, max_entries=256)
def _figure(builder: str, *args: object, **kwargs: object) -> object:
    return _build(builder, *args, **kwargs)


def plot(builder: str, *args: object, key: str, **kwargs: object) -> None:
    """``charts.<builder>(*args)`` drawn full width; the figure is kept for the same frames (a rerun that
    changes nothing of it does not build it again).  Feed names are drawn as written (no plotly markup)."""
    st.plotly_chart(_figure(builder, *args, **kwargs), width="stretch", key=key)


def chart(builder: str, *args: object, key: str, **kwargs: object) -> None:
    """As :func:`plot`, for a figure not worth keeping (built from a scenario's results)."""
    st.plotly_chart(_build(builder, *args, **kwargs), width="stretch", key=key)


def money_metric(label: str, value: float, prior: float | None = None, prior_label: str = "", help: str | None = None) -> None:
    """A KPI in dollars (whole amount, the cents on hover) with its change against ``prior`` as a percent."""
    delta = None
    rel = change(value, prior) if prior is not None else float("nan")
    if not pd.isna(rel):
        delta = f"{theme.fmt_change(rel)} vs {prior_label}" if prior_label else theme.fmt_change(rel)
    exact = theme.fmt_money(value)
    st.metric(label, theme.fmt_money_card(value), delta=delta, border=True,
              help=exact if not help else f"{exact}. {help}")


class ProgressBar:
    """A progress bar for a long calculation, fed by calc's ``progress(stage)`` /
    ``progress(stage, done, total)`` callbacks (a scenario, a backtest).

    ``steps`` labels the runs it covers one after another (the scenario, then its
    baseline); :meth:`step` moves to the next.  Within a run the bar moves through the
    phases calc reports: the projected months written, the engine's walk of the accounts,
    the Monte Carlo paths; the line under it says the stage, its count and the seconds.
    """

    PHASES = (  # stage prefix, where its count starts and ends in a run's share of the bar
        ("reading", 0.0, 0.05), ("actuals", 0.0, 0.1), ("calibrating", 0.1, 0.12),
        ("projection: months written", 0.12, 0.4), ("projecting", 0.12, 0.12), ("projection:", 0.4, 0.4),
        ("ledger", 0.4, 0.85), ("attribution", 0.85, 0.88), ("money", 0.88, 0.92), ("done", 0.92, 0.92),
        ("Monte Carlo", 0.92, 1.0),
    )

    def __init__(self, steps: list[str]):
        self.steps = steps
        self.index = 0
        self.local = 0.0
        self.started = time.perf_counter()
        self.bar = st.progress(0.0)
        self.line = st.empty()

    def step(self) -> None:
        """The next run (its share of the bar starts where the last one ended)."""
        self.index = min(self.index + 1, len(self.steps) - 1)
        self.local = 0.0

    def __call__(self, stage: str, done: int | None = None, total: int | None = None) -> None:
        for prefix, lo, hi in self.PHASES:
            if stage.startswith(prefix):
                fraction = lo + (hi - lo) * (done / total if done is not None and total else 0.0)
                self.local = max(self.local, min(fraction, 1.0))
                break
        overall = (self.index + self.local) / max(len(self.steps), 1)
        self.bar.progress(min(1.0, overall))
        count = f" {done:,}/{total:,}" if done is not None and total else ""
        self.line.caption(f"{plain(self.steps[self.index])} · {plain(stage)}{count} · {time.perf_counter() - self.started:.0f} s")

    @property
    def elapsed(self) -> float:
        """Seconds since the bar was drawn."""
        return time.perf_counter() - self.started

    def finish(self) -> None:
        self.bar.progress(1.0)
        self.line.caption(f"done in {self.elapsed:.0f} s")


def metric(label: str, value: str, help: str | None = None, **kwargs: object) -> None:
    """A figure card with a border (text already formatted)."""
    st.metric(label, value, help=help, border=True, **kwargs)  # type: ignore[arg-type]
