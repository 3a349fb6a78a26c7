"""All data access of the dashboard: the store, behind Streamlit's caches.

Every page reads through these functions and nothing else touches the
database.  Results are cached per database URL and calculation run (a run is
never changed once written, so its cache entries never go stale); the list
of runs is cached briefly and cleared after a load.

Scenario runs, their actuals and backtests take seconds to minutes and report
their progress: they are kept in small process-wide LRU memos instead (see
the Scenarios section below).  Saved scenarios are read and written here too.

Every store read passes the session's principal (``dashboard/auth.py``; no principal, no
read: ``AccessDenied``), and the store filters by it in SQL.  The caches are keyed by what it
may read (:func:`reader`): an assignee's own principal, so one assignee's rows are never served
to another, and one key (:data:`EVERY_PARTY`) for every executive, analyst and admin, who all
read the same rows, so a page one of them opened is drawn from the cache for the next (the
server's warm-up, :func:`warm_newest_run`, fills that key before anyone signs in).  An
assignee's rows are fetched with a store-level filter as well (``read_table(principal, "payments", run_id,
assignee=...)``): the Collateral page never loads the other parties' money.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import threading
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from calc.access import ROLE_ANALYST, AccessDenied, Principal
from calc.report import LOT_COLUMNS, MonthlyCalculation

ENV_DATABASE_URL = "DATABASE_URL"
_LOG = logging.getLogger(__name__)
# The one cache key of every principal who sees all: the store gives each of them the same rows.
EVERY_PARTY = Principal("(every party)", ROLE_ANALYST)
UPLOAD_PREFIX = "upload:"  # the source of a run loaded from the Data page: upload:<file name>


class StoreUnavailable(RuntimeError):
    """The store cannot be reached (no module yet, or the database cannot be opened)."""


def database_url() -> str | None:
    """The database named by ``DATABASE_URL`` in the environment, else in the untracked
    ``.streamlit/secrets.toml`` (None: the store's default SQLite file)."""
    url = os.environ.get(ENV_DATABASE_URL)
    if not url and st.secrets.load_if_toml_exists():
        url = st.secrets.get(ENV_DATABASE_URL)
    return str(url) if url else None


def _store() -> Any:
    try:
        import calc.store as store
    except Exception as err:
        raise StoreUnavailable(f"the store module cannot be imported: {err}") from err
    for name in ("get_engine", "list_runs", "read_calculation", "read_table"):
        if not hasattr(store, name):
            raise StoreUnavailable(f"the store has no {name}() yet")
    return store


def principal() -> Principal:
    """The session's signed-in principal (``AccessDenied`` when none: no sign-in, no data)."""
    from dashboard import auth

    found = auth.current()
    if found is None:
        raise AccessDenied("no one is signed in")
    return found


def reader() -> Principal:
    """Who the caches key a read by: :data:`EVERY_PARTY` for a principal who sees all (every one
    of them reads the same rows), else the principal itself (an assignee: its own rows only).
    ``AccessDenied`` when no one is signed in."""
    found = principal()
    return EVERY_PARTY if found.sees_all else found


def _require_all(what: str) -> Principal:
    """The session's principal, when it sees every party (``AccessDenied`` for an assignee)."""
    found = principal()
    if not found.sees_all:
        raise AccessDenied(f"{what} is every party's: not for {found.name}")
    return found


@st.cache_resource(show_spinner=False)
def _engine(url: str | None) -> Any:
    return _store().get_engine(url)


def engine(url: str | None = None) -> Any:
    """The SQLAlchemy engine of ``url`` (default: ``DATABASE_URL`` or the SQLite file)."""
    return _engine(url if url is not None else database_url())


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------


@st.cache_data(ttl=30, show_spinner=False)
def _runs(url: str | None, who: Principal) -> pd.DataFrame:
    store = _store()
    try:
        frame = store.list_runs(_engine(url), who)
    except Exception as err:
        if "no such table" in str(err).lower() or "does not exist" in str(err).lower():
            return pd.DataFrame(columns=["run_id", "feed_id", "source", "created_at", "status", "months", "first_month", "last_month"])
        raise
    return frame.sort_values("run_id", ascending=False).reset_index(drop=True)


def runs() -> pd.DataFrame:
    """Every calculation run, newest first (``calc.store.list_runs``)."""
    return _runs(database_url(), reader())


def clear_caches() -> None:
    """Forget cached runs (after a load): the next read asks the store again."""
    _runs.clear()


# ---------------------------------------------------------------------------
# One run
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunMeta:
    """What every page needs to know about a run, small enough to load on every rerun."""

    run_id: int
    info: dict
    portfolios: pd.DataFrame
    tenures: pd.DataFrame
    assignments: pd.DataFrame
    plan_events: pd.DataFrame
    months: list[pd.Timestamp]
    parties: list[str]
    assignees: list[str]

    @property
    def portfolio_ids(self) -> list[str]:
        return sorted(self.portfolios["portfolio_id"].astype(str))


def _months_of(info: dict, summary_months: pd.Series | None) -> list[pd.Timestamp]:
    if summary_months is not None and len(summary_months):
        return sorted(pd.to_datetime(summary_months).drop_duplicates())
    first, last = info.get("first_month"), info.get("last_month")
    if first is None or last is None or pd.isna(first) or pd.isna(last):
        return []
    return list(pd.date_range(pd.Timestamp(first) + pd.offsets.MonthEnd(0), pd.Timestamp(last) + pd.offsets.MonthEnd(0), freq="ME"))


@st.cache_data(show_spinner=False, max_entries=16)
def _run_meta(url: str | None, who: Principal, run_id: int) -> RunMeta:
    store = _store()
    eng = _engine(url)
    listing = _runs(url, who)
    row = listing[listing["run_id"] == run_id]
    info = row.iloc[0].to_dict() if not row.empty else {"run_id": run_id}
    portfolios = store.read_table(eng, who, "portfolios", run_id)
    tenures = store.read_table(eng, who, "tenures", run_id)
    assignments = store.read_table(eng, who, "assignments", run_id)
    plan_events = store.read_table(eng, who, "plan_events", run_id)
    parties = sorted(
        set(tenures["rights_holder"].astype(str)) | set(tenures["distributor"].astype(str))
        | set(assignments["assignee"].astype(str))
    )
    return RunMeta(
        run_id=int(run_id),
        info=info,
        portfolios=portfolios,
        tenures=tenures,
        assignments=assignments,
        plan_events=plan_events,
        months=_months_of(info, None if info.get("first_month") is not None else store.read_table(eng, who, "summary", run_id)["month_end"]),
        parties=[p for p in parties if p],
        assignees=sorted(set(assignments["assignee"].astype(str))) if not assignments.empty else [],
    )


def run_meta(run_id: int) -> RunMeta:
    """The run's portfolios, tenures, assignments, Plan events, months and parties."""
    return _run_meta(database_url(), reader(), int(run_id))


@st.cache_data(show_spinner="Loading the Monthly Calculation…", max_entries=4)
def _calculation(url: str | None, who: Principal, run_id: int) -> MonthlyCalculation:
    return _store().read_calculation(_engine(url), who, run_id)


def calculation(run_id: int) -> MonthlyCalculation:
    """The run's Monthly Calculation (all eight frames)."""
    return _calculation(database_url(), reader(), int(run_id))


@st.cache_data(show_spinner=False, max_entries=64)
def _table(url: str | None, who: Principal, run_id: int, name: str,
           filters: tuple[tuple[str, Any], ...]) -> pd.DataFrame:
    return _store().read_table(_engine(url), who, name, run_id, **dict(filters))


def _filters_key(filters: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A read's store-level filters as :func:`_table`'s cache key (hashable, in one order)."""
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in filters.items()))


def table(run_id: int, name: str, **filters: Any) -> pd.DataFrame:
    """One table of the run, filtered in the store (``calc.store.read_table``)."""
    return _table(database_url(), reader(), int(run_id), name, _filters_key(filters))


def tables(run_id: int, names: tuple[str, ...], **filters: Any) -> dict[str, pd.DataFrame]:
    """Several tables of the run with the same store-level filters."""
    return {name: table(run_id, name, **filters) for name in names}


@st.cache_data(show_spinner=False, max_entries=16)
def _money(url: str | None, who: Principal, run_id: int, party: str | None) -> pd.DataFrame:
    from calc.reports.revenue import money_frame

    return money_frame(_table(url, who, run_id, "summary", ()), _table(url, who, run_id, "payments", ()), party)


def money(run_id: int, party: str | None) -> pd.DataFrame:
    """The run's money per month and portfolio, of the complex or one party (``revenue.money_frame``)."""
    return _money(database_url(), reader(), int(run_id), party)


def assignee_payments(run_id: int, assignee: str) -> pd.DataFrame:
    """The assignee's own payments rows (role ``assignee``), filtered in the store."""
    return table(run_id, "payments", assignee=assignee)


def assignee_assignments(run_id: int, assignee: str) -> pd.DataFrame:
    """The assignee's own assignments (terms, purchase price), filtered in the store."""
    return table(run_id, "assignments", assignee=assignee)


def assignee_lots(run_id: int, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """The lots frame rows of the (rights holder, portfolio or '' for all) pairs, filtered in the store."""
    frames = []
    for holder, pid in pairs:
        filters: dict[str, Any] = {"rights_holder": holder}
        if pid:
            filters["portfolio_id"] = pid
        frames.append(table(run_id, "lots", **filters))
    frames = [f for f in frames if f is not None and not f.empty]
    if not frames:
        return pd.DataFrame(columns=LOT_COLUMNS)
    return pd.concat(frames, ignore_index=True).drop_duplicates()


def omnibus_portfolios(run_id: int, last_month: pd.Timestamp | None) -> list[str]:
    """The portfolios with an omnibus account (rows run from an account's first month to the feed's last)."""
    filters = {} if last_month is None else {"month_end": pd.Timestamp(last_month)}
    frame = table(run_id, "omnibus_accounts", **filters)
    return sorted(set(frame["portfolio_id"].astype(str)))


def omnibus_for(run_id: int, portfolio_id: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The omnibus, omnibus_accounts and exceptions rows of one portfolio."""
    return (
        table(run_id, "omnibus", portfolio_id=portfolio_id),
        table(run_id, "omnibus_accounts", portfolio_id=portfolio_id),
        table(run_id, "exceptions", portfolio_id=portfolio_id),
    )


# What a server reads before anyone asks: every page's modules, and the tables the first views of the
# newest run draw from (Revenue: summary and payments; Shares: allocation; Omnibus: its portfolios).
WARM_MODULES = ("dashboard.ui", "dashboard.filters", "dashboard.charts", "calc.reports.revenue",
                "calc.reports.shares", "calc.reports.collateral", "calc.reports.omnibus", "calc.reports.statement")


def warm_newest_run(url: str | None = None) -> int | None:
    """Fill the caches of the newest run for every principal who sees all (:data:`EVERY_PARTY`), and
    import what pages draw with: the first link opened on a new server, or after a load, is then
    drawn from the cache like every later one.  The run warmed, or None (an empty store).

    For a server's start (``dashboard/serve.py``) and after a feed is uploaded.  It reads what any
    executive's first page would read, under :data:`EVERY_PARTY` only: an assignee's reads are
    keyed by its own principal and never served from it."""
    import importlib

    for name in WARM_MODULES:
        importlib.import_module(name)
    url = url if url is not None else database_url()
    listing = _runs(url, EVERY_PARTY)
    if listing.empty:
        return None
    run_id = int(listing["run_id"].max())
    meta = _run_meta(url, EVERY_PARTY, run_id)
    _money(url, EVERY_PARTY, run_id, None)
    _table(url, EVERY_PARTY, run_id, "allocation", _filters_key({}))
    if meta.months:  # as omnibus_portfolios() reads them
        _table(url, EVERY_PARTY, run_id, "omnibus_accounts", _filters_key({"month_end": pd.Timestamp(meta.months[-1])}))
    return run_id


def warm_in_background(url: str | None = None) -> threading.Thread:
    """:func:`warm_newest_run` in a daemon thread (the server waits for it a while, the Data page
    not at all after an upload); a page opened meanwhile waits for the same cache entry instead of
    reading it twice (Streamlit's per-key compute lock).  A failure (no store yet, a database down) is logged, never raised: the pages
    read for themselves and report it in their own words."""
    url = url if url is not None else database_url()

    def run() -> None:
        try:
            run_id = warm_newest_run(url)
            _LOG.info("warm-up: %s", "no calculation run yet" if run_id is None else f"run {run_id} read into the caches")
        except Exception:
            _LOG.warning("warm-up failed; pages read the store themselves", exc_info=True)

    thread = threading.Thread(target=run, name="bshare-warm-up", daemon=True)
    thread.start()
    return thread


# ---------------------------------------------------------------------------
# Loading a feed
# ---------------------------------------------------------------------------


class UploadError(ValueError):
    """An uploaded file that cannot be used as a feed (not a zip, no feed inside), in plain words."""


def source_name(source: object) -> str:
    """A run's short name from its source: the uploaded file's name, or the feed folder's."""
    text = str(source or "")
    if text.startswith(UPLOAD_PREFIX):
        return text.removeprefix(UPLOAD_PREFIX)
    parts = [p for p in text.replace("\\", "/").split("/") if p]
    if len(parts) > 1 and parts[-1] in ("feed", "expected"):
        parts = parts[:-1]
    return parts[-1] if parts else "feed"


# An uploaded zip is checked from its directory before a byte is extracted, and counted while it is.
MAX_UNZIPPED_BYTES = 1 << 30  # 1 GiB: a feed expands to at most this (the large sample is far smaller)
MAX_COMPRESSION_RATIO = 100  # expanded : compressed; CSV feeds zip about 5-15 to 1, zip bombs 1,000 to 1 and more
RATIO_FLOOR_BYTES = 1 << 20  # files smaller than 1 MiB expanded are not held to the ratio (tiny files vary)
MAX_ZIP_MEMBERS = 1_000
COPY_CHUNK_BYTES = 1 << 20
_S_IFMT, _S_IFLNK = 0o170000, 0o120000


def _gib(n: int) -> str:
    return f"{n / (1 << 30):.1f} GiB" if n >= 1 << 30 else f"{n / (1 << 20):.1f} MiB"


def _check_members(members: list[zipfile.ZipInfo], root: Path) -> list[tuple[zipfile.ZipInfo, Path]]:
    """Each member with the path it is extracted to, after every check that needs no extraction:
    names (no ``..``, absolute path or link; the real path inside ``root``), count, sizes, ratio."""
    if len(members) > MAX_ZIP_MEMBERS:
        raise UploadError(f"the zip file holds {len(members):,} files, more than the {MAX_ZIP_MEMBERS:,} a feed may have.")
    out = []
    for member in members:
        name = member.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":") or "\0" in name:
            raise UploadError(f"the zip file holds an unsafe path ({name!r}): no absolute paths or '..' parts.")
        if (member.external_attr >> 16) & _S_IFMT == _S_IFLNK:
            raise UploadError(f"the zip file holds a link ({name!r}): zip the files themselves.")
        target = Path(os.path.realpath(root / name))
        if not target.is_relative_to(root):
            raise UploadError(f"the zip file holds an unsafe path ({name!r}): it leads outside the feed's folder.")
        out.append((member, target))
    total = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    if total > MAX_UNZIPPED_BYTES:
        raise UploadError(f"the zip file expands to {_gib(total)}, more than the {_gib(MAX_UNZIPPED_BYTES)} a feed may "
                          "have: nothing was extracted.")
    for member in members:
        if member.file_size >= RATIO_FLOOR_BYTES and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1):
            raise UploadError(f"{member.filename!r} in the zip file expands {member.file_size // max(member.compress_size, 1):,} "
                              f"times, more than the {MAX_COMPRESSION_RATIO} times a feed's files do: nothing was extracted.")
    if total >= RATIO_FLOOR_BYTES and total > MAX_COMPRESSION_RATIO * max(packed, 1):
        raise UploadError(f"the zip file expands {total // max(packed, 1):,} times, more than the "
                          f"{MAX_COMPRESSION_RATIO} times a feed does: nothing was extracted.")
    return out


def _extract(zf: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, budget: int) -> int:
    """Write one member to ``target``, counting its bytes: never more than it declares or ``budget``."""
    if member.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    limit = min(member.file_size, budget)
    with zf.open(member) as src, open(target, "wb") as dst:
        while chunk := src.read(COPY_CHUNK_BYTES):
            written += len(chunk)
            if written > limit:
                raise UploadError(f"{member.filename!r} in the zip file expands to more than it declares: "
                                  "the file is damaged or built to mislead.")
            dst.write(chunk)
    return written


def unzip_feed(data: bytes, into: Path) -> Path:
    """Unzip an uploaded feed; the folder that holds ``portfolios.csv`` (or .parquet) is the feed.

    Before anything is extracted the zip's directory is checked (:func:`_check_members`: unsafe
    names and links are refused, the expanded size and the compression ratio are capped); while it
    is extracted the bytes are counted.  Raises :class:`UploadError` (a ``ValueError``) for a file
    that is not a zip, is damaged, breaks a cap or holds no feed.
    """
    root = Path(os.path.realpath(into))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        members = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as err:
        raise UploadError("the file is not a zip archive (it could not be opened as one): "
                          "zip the feed's CSV files, or their folder, and upload the zip.") from err
    with zf:
        planned = _check_members(members, root)
        budget = MAX_UNZIPPED_BYTES
        try:
            for member, target in planned:
                budget -= _extract(zf, member, target, budget)
        except UploadError:
            raise
        except (zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError, zlib.error, OSError, ValueError) as err:
            # a bad CRC or truncated data, an encrypted member, an unknown compression method
            raise UploadError("the zip file could not be extracted (damaged, encrypted or compressed in a way not "
                              "supported): zip the feed's CSV files again and upload the zip.") from err
    for candidate in [root, *sorted(p for p in root.rglob("*") if p.is_dir() and not p.is_symlink())]:
        if "__MACOSX" in candidate.parts:
            continue
        if (candidate / "portfolios.csv").exists() or (candidate / "portfolios.parquet").exists():
            return candidate
    raise UploadError("the zip file holds no portfolios.csv: zip the feed's CSV files (or their folder).")


def uploaded_checksum(data: bytes) -> str:
    """The checksum of the feed in an uploaded zip (``calc.feed.read.feed_checksum``, as a run records it)."""
    from calc.feed.read import feed_checksum

    with tempfile.TemporaryDirectory(prefix="bshare-check-") as tmp:
        return feed_checksum(unzip_feed(data, Path(tmp)))


def runs_with_checksum(checksum: str) -> list[int]:
    """The stored runs of the feed with ``checksum`` (oldest first)."""
    listing = runs()
    if listing.empty or "feed_checksum" not in listing.columns:
        return []
    return sorted(int(r) for r in listing.loc[listing["feed_checksum"] == checksum, "run_id"])


def load_uploaded_feed(data: bytes, name: str, progress: Callable[..., None] | None = None) -> int:
    """Unzip ``data`` into a temporary folder and load it (``calc.load.load_feed``); the new run id.

    The run is named after the uploaded file (``upload:<name>``).  Raises ``calc.feed.FeedError`` for
    a rejected feed and :class:`UploadError` for a file that is no feed (nothing is written).
    Loaded as the signed-in user, who must be an admin (a feed that restates a closed month too).
    """
    from calc.load import load_feed
    from calc.store.audit import ACTION_LOAD, record_event

    who = principal()
    who.require_admin("loading a feed")
    with tempfile.TemporaryDirectory(prefix="bshare-upload-") as tmp:
        folder = unzip_feed(data, Path(tmp))
        run_id = load_feed(folder, engine(), progress, source=f"{UPLOAD_PREFIX}{name}", principal=who)
    record_event(engine(), who.name, ACTION_LOAD, run_id=int(run_id), detail=f"upload {name}")
    clear_caches()
    warm_in_background()  # the new run is the newest: its first views are read before they are opened
    return int(run_id)


def validate_uploaded_feed(data: bytes) -> Any:
    """Unzip and validate only (``calc.feed.read_feed``): the Feed, or FeedError raised."""
    from calc.feed import read_feed

    principal().require_admin("checking a feed for loading")
    with tempfile.TemporaryDirectory(prefix="bshare-check-") as tmp:
        folder = unzip_feed(data, Path(tmp))
        return read_feed(folder)


# ---------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------
#
# A scenario's run takes from seconds (the worked examples) to minutes (120 months of the
# medium sample: the projection writes ~0.8M synthetic transactions through the engine),
# and it reports its progress as it goes.  So it is not behind st.cache_data (whose
# decorated function cannot feed a progress bar drawn outside it): the results are kept
# in small process-wide LRU memos (one st.cache_resource), keyed by the database URL, the
# run and the scenario's TOML text (its name left out: a name changes no number), shared
# by every session.  The actuals a run starts from (feed, calculation, month-end state)
# are kept the same way, one or two at a time.


class _Memo:
    """A small thread-safe LRU map."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> Any:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


@st.cache_resource(show_spinner=False)
def _memos() -> dict[str, _Memo]:
    return {"actuals": _Memo(2), "calibration": _Memo(8), "outcome": _Memo(24), "backtest": _Memo(8)}


def scenario_key(scenario: Any) -> str:
    """What a scenario's results are kept under: its TOML text without its name."""
    return scenario.model_copy(update={"name": ""}).to_toml()


def scenario_actuals(run_id: int, start: pd.Timestamp, progress: Callable[..., None] | None = None) -> Any:
    """The actuals a scenario of run ``run_id`` starts from at month end ``start``
    (``calc.scenarios.run.Actuals``): read from the store, with the run's stored month-end
    state when ``start`` is its last month; otherwise computed up to ``start``."""
    from calc.scenarios.run import Actuals, actuals_until

    who = _require_all("a scenario's actuals")  # before the memo: kept results are every party's
    url, start = database_url(), pd.Timestamp(start) + pd.offsets.MonthEnd(0)
    key = (url, int(run_id), start)
    memo = _memos()["actuals"]
    found = memo.get(key)
    if found is not None:
        return found
    say = progress or (lambda *a, **k: None)
    store, eng = _store(), _engine(url)
    say("reading the run's feed from the store")
    feed = store.read_feed(eng, who, int(run_id))
    months = feed.months()
    if len(months) and start == months[-1]:
        say("reading the run's Monthly Calculation and month-end state")
        try:
            state = store.read_state(eng, who, int(run_id))
        except store.StateNotStored:
            state = None
        if state is not None and state.month_end == start:
            return memo.put(key, Actuals(feed, store.read_calculation(eng, who, int(run_id)), state))
    say(f"actuals: the Monthly Calculation up to {start:%Y-%m}")
    return memo.put(key, actuals_until(feed, start, progress))


def scenario_calibration(run_id: int, start: pd.Timestamp) -> Any:
    """The defaults calibrated from the actuals up to ``start`` (``calc.scenarios.calibrate``)."""
    from calc.scenarios.calibrate import calibrate

    _require_all("a scenario's calibration")
    key = (database_url(), int(run_id), pd.Timestamp(start))
    memo = _memos()["calibration"]
    found = memo.get(key)
    if found is None:
        actuals = scenario_actuals(run_id, start)
        found = memo.put(key, calibrate(actuals.feed, actuals.calculation, actuals.state.month_end))
    return found


def cached_outcome(run_id: int, scenario: Any) -> Any | None:
    """The kept results of ``scenario`` on run ``run_id`` (``calc.reports.scenarios.Outcome``), or None."""
    _require_all("a scenario's results")
    return _memos()["outcome"].get((database_url(), int(run_id), scenario_key(scenario)))


def run_outcome(run_id: int, scenario: Any, progress: Callable[..., None] | None = None) -> Any:
    """Run ``scenario`` on run ``run_id`` (unless its results are kept) and keep them.

    Raises ``calc.scenarios.spec.SpecError`` for a scenario that does not fit the run.
    """
    from calc.reports.scenarios import outcome, purchase_prices, received_to_date
    from calc.scenarios.run import run_scenario

    found = cached_outcome(run_id, scenario)
    if found is not None:
        return found
    actuals = scenario_actuals(run_id, scenario.start, progress)
    result = run_scenario(actuals.feed, scenario, actuals=actuals, progress=progress)
    kept = outcome(result, received_to_date(actuals.calculation.payments, actuals.state.month_end),
                   purchase_prices(actuals.feed.assignments))
    return _memos()["outcome"].put((database_url(), int(run_id), scenario_key(scenario)), kept)


def cached_backtest(run_id: int, at: pd.Timestamp, months: int) -> pd.DataFrame | None:
    _require_all("a backtest")
    return _memos()["backtest"].get((database_url(), int(run_id), pd.Timestamp(at), int(months)))


def run_backtest(run_id: int, at: pd.Timestamp, months: int, progress: Callable[..., None] | None = None) -> pd.DataFrame:
    """``calc.scenarios.backtest.backtest`` of the run's feed from month end ``at`` (kept)."""
    from calc.scenarios.backtest import backtest

    _require_all("a backtest")
    key = (database_url(), int(run_id), pd.Timestamp(at), int(months))
    found = _memos()["backtest"].get(key)
    if found is not None:
        return found
    last = run_meta(run_id).months[-1]
    whole = scenario_actuals(run_id, last, progress)  # the whole run's calculation: the actuals compared with
    frame = backtest(whole.feed, pd.Timestamp(at), int(months), actuals=whole.calculation, progress=progress)
    return _memos()["backtest"].put(key, frame)


@st.cache_data(ttl=30, show_spinner=False)
def _saved_scenarios(url: str | None) -> pd.DataFrame:
    return _store().list_scenarios(_engine(url))


def saved_scenarios() -> pd.DataFrame:
    """Every saved scenario (scenario_id, name, created_at, updated_at), by name."""
    _require_all("the saved scenarios")
    return _saved_scenarios(database_url())


def saved_scenario_text(name: str) -> str:
    """The TOML text saved under ``name`` (``calc.store.ScenarioNotFound`` when none)."""
    _require_all("a saved scenario")
    return _store().read_saved_scenario(engine(), name)


def save_scenario(name: str, toml: str) -> int:
    """Save ``toml`` under ``name`` (migrating a store made before saved scenarios existed)."""
    _require_all("saving a scenario")
    scenario_id = _store().save_scenario(engine(), name, toml, migrate=True)
    _saved_scenarios.clear()
    return scenario_id


def delete_saved_scenario(name: str) -> bool:
    _require_all("deleting a scenario")
    deleted = _store().delete_scenario(engine(), name)
    _saved_scenarios.clear()
    return deleted


# ---------------------------------------------------------------------------
# The audit trail (admins)
# ---------------------------------------------------------------------------


def audit_trail(limit: int = 500) -> pd.DataFrame:
    """The newest ``limit`` audit events (``calc.store.read_audit``: admins only)."""
    return _store().read_audit(engine(), principal(), limit=limit)
