"""The month-end state: everything the Monthly Calculation of month m+1 needs from the
months up to m, and nothing it can recompute.

A run from the first transaction ends in a :class:`MonthEndState`; a run given an
opening state (``calc.monthly.compute(feed, opening=state)``) continues from it
with only the later transactions and NAVs and gives, row for row and to the
cent, the months a whole run gives.  The scenarios start projections from one;
a closed month keeps one.

On disk a state is a folder of one Arrow IPC file (Feather v2, uncompressed) per
frame, with ``manifest.json`` (format version, month end, the reference checksum,
the source feed's checksum): format 2.  Its files are read memory-mapped, without
decoding: a million accounts' state loads in a hundredth of a second, where the
Parquet files of format 1 took a tenth (and writing them a fifth).  Format 1 (the
same frames as Parquet files, a quarter of the bytes) is still read, and written
for the store (:func:`state_files`), which keeps every run's state for good.
Floats are kept to the bit (doubles); the offsets carried are decimal text.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from calc.feed import Feed, FeedError, Opening, Problem
from calc.vocabulary import format_cdsc_schedule

FORMAT_VERSION = 2  # what save_state writes by default
FILE_SUFFIX = {1: ".parquet", 2: ".arrow"}  # each format's files: {frame}{suffix}
MANIFEST = "manifest.json"

# Frames a state saved by an earlier version may lack (derived when read).
OPTIONAL_FRAMES = ("lot_months",)

# The frames of a state and their columns, in order (documented on MonthEndState).
STATE_COLUMNS: dict[str, list[str]] = {
    "lots": ["account_id", "portfolio_id", "issue_date", "shares", "cost", "rights_holder", "seq",
             "conversion_month_end"],
    "free_shares": ["account_id", "portfolio_id", "rights_holder", "shares"],
    "omnibus_positions": ["account_id", "portfolio_id", "free_shares"],
    "accounts": ["account_id", "next_seq"],
    "omnibus": ["account_id", "portfolio_id", "first_month_end", "free_shares"],
    "omnibus_holders": ["account_id", "portfolio_id", "rights_holder", "free_shares", "commission_shares"],
    "attributed": ["portfolio_id", "rights_holder", "commission_shares", "free_shares", "share", "listed"],
    "lot_totals": ["portfolio_id", "rights_holder", "issue_year", "commission_shares", "cost"],
    "lot_months": ["portfolio_id", "rights_holder", "issue_year", "issue_month", "commission_shares", "cost"],
    "offsets_carried": ["portfolio_id", "rights_holder", "amount"],
    "last_nav": ["portfolio_id", "date", "nav", "shares"],
}


@dataclass
class MonthEndState:
    """The state of a feed's calculation at a month end.

    Ledger (RULES.md sections 3-4), one row per item:

    - ``lots``: every open Commission Share lot: account_id, portfolio_id,
      issue_date, shares, cost (dollars), rights_holder, seq (creation order
      within the account: the tie-break of lot relief), conversion_month_end
      (the month end at which it converts to Class A);
    - ``free_shares``: each ordinary account's Free Shares by rights holder
      (Exhibit A 2(b)), in the order the account's buckets were opened;
    - ``omnibus_positions``: each omnibus account's Free Shares per portfolio (the
      ledger's own count; their attribution is the roll-forward below);
    - ``accounts``: each account's next lot number (next_seq).

    Attribution (section 5), running sums as computed (before the share tolerance):

    - ``omnibus``: per omnibus account and portfolio, the month end of its first
      transaction there and F(m);
    - ``omnibus_holders``: per omnibus account, portfolio and rights holder, F_h(m)
      and K_h(m) (Exhibit A 2(c));
    - ``attributed``: per portfolio and rights holder, Commission Shares (all
      accounts) and ordinary accounts' Free Shares, the 12b-1 Share S_h(m), and
      ``listed`` (allocation.csv lists the rights holder from now on);
    - ``lot_totals``: Commission Shares and cost per portfolio, rights holder and
      issue year (the runoff of the ``lots`` drill-down);
    - ``lot_months``: the same per issue month too (1-12): what the ``lots``
      drill-down's anniversary columns continue from (the part of a year's shares
      whose anniversary of issue has passed at a month end, FOURTH (D)).  A state
      saved before it was kept has none: :func:`load_state` derives it from the open
      ``lots`` (:func:`lot_months_of`), equal to the running sums up to rounding.

    Money (section 6):

    - ``offsets_carried``: claims not yet applied per portfolio and rights holder
      (amount as decimal text);
    - ``last_nav``: each portfolio's latest NAV row on or before the month end.

    ``month_end``: the month it is the end of; ``reference_checksum``: the feed's
    reference tables as of that month end (:func:`reference_checksum`);
    ``feed_checksum``: the checksum of the feed it came from (information).
    """

    month_end: pd.Timestamp
    reference_checksum: str
    feed_checksum: str
    lots: pd.DataFrame
    free_shares: pd.DataFrame
    omnibus_positions: pd.DataFrame
    accounts: pd.DataFrame
    omnibus: pd.DataFrame
    omnibus_holders: pd.DataFrame
    attributed: pd.DataFrame
    lot_totals: pd.DataFrame
    offsets_carried: pd.DataFrame
    last_nav: pd.DataFrame
    lot_months: pd.DataFrame | None = None  # derived from ``lots`` when not given
    lot_months_derived: bool = False  # True when read from a state saved without it

    def __post_init__(self) -> None:
        if self.lot_months is None:
            self.lot_months = lot_months_of(self.lots)
            self.lot_months_derived = True

    def frames(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in STATE_COLUMNS}

    def opening(self) -> Opening:
        """What checking a continuation feed needs: holdings and latest NAV dates."""
        parts = [
            self.lots[["account_id", "portfolio_id", "shares"]],
            self.free_shares[["account_id", "portfolio_id", "shares"]],
            self.omnibus_positions.rename(columns={"free_shares": "shares"})[["account_id", "portfolio_id", "shares"]],
        ]
        held = pd.concat(parts, ignore_index=True)
        holdings = held.groupby(["account_id", "portfolio_id"], as_index=False, sort=True)["shares"].sum()
        return Opening(self.month_end, holdings, self.last_nav[["portfolio_id", "date"]])

    def check_fits(self, feed: Feed) -> None:
        """Reject a continuation feed whose reference tables are not those the state was
        made with, as of its month end (FeedError: exit 2 at the command line)."""
        expected = reference_checksum(feed, self.month_end)
        if expected != self.reference_checksum:
            raise FeedError([Problem(
                "(state)", None, None,
                f"the month-end state of {self.month_end:%Y-%m-%d} was made from other reference tables "
                "(portfolios, tenures, accounts, assignments, offsets, plan events as of that month end) "
                "than this feed's: continue it only with the same feed's later transactions and NAVs",
            )])


def lot_months_of(lots: pd.DataFrame) -> pd.DataFrame:
    """``lot_months`` from a state's open ``lots``: their shares and cost added up per portfolio,
    rights holder, issue year and issue month (for a state saved before ``lot_months`` was kept).

    The running sums of a run are the lots' changes added up; the open lots are what is left of
    them, so the two agree up to rounding (a relieved lot's last 1e-12 share, the order of adding).
    """
    if lots.empty:
        return empty_frame("lot_months")
    issue = pd.to_datetime(lots["issue_date"])
    frame = pd.DataFrame({
        "portfolio_id": lots["portfolio_id"].astype(str).to_numpy(),
        "rights_holder": lots["rights_holder"].astype(str).to_numpy(),
        "issue_year": issue.dt.year.to_numpy(dtype=np.int64),
        "issue_month": issue.dt.month.to_numpy(dtype=np.int64),
        "commission_shares": lots["shares"].to_numpy(dtype=float),
        "cost": lots["cost"].to_numpy(dtype=float),
    })
    keys = ["portfolio_id", "rights_holder", "issue_year", "issue_month"]
    return frame.groupby(keys, as_index=False, sort=True)[["commission_shares", "cost"]].sum()


class StateError(ValueError):
    """A state folder that cannot be read (missing files, another format version)."""


def _canonical(frame: pd.DataFrame, columns: list[str]) -> str:
    """``columns`` of ``frame`` as CSV text, each value as text (a date as YYYY-MM-DD, a CDSC
    schedule as the feed writes it, a missing value empty, anything else its ``repr``), the
    rows in text order: what :func:`reference_checksum` digests.

    The text ``frame.to_csv(index=False)`` gives of those values sorted by every column (Python's
    csv writer, as pandas uses it, with its settings), made in plain Python: the reference
    tables are a few hundred rows, and pandas' conversions, sort and writer took 0.03 s a
    checksum, two of them in a close."""
    texts = []
    for c in columns:
        values = frame[c]
        if pd.api.types.is_datetime64_any_dtype(values):
            texts.append(values.dt.strftime("%Y-%m-%d").fillna("").tolist())
        elif c == "cdsc_schedule":
            texts.append([format_cdsc_schedule(v) for v in values])
        else:
            texts.append(["" if v is None or (isinstance(v, float) and np.isnan(v)) else repr(v)
                          for v in values.tolist()])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=os.linesep, delimiter=",", quotechar='"', quoting=csv.QUOTE_MINIMAL,
                        doublequote=True, escapechar=None)
    writer.writerow(columns)
    writer.writerows(sorted(zip(*texts, strict=True)))
    return out.getvalue()


def reference_checksum(feed: Feed, month_end: pd.Timestamp) -> str:
    """SHA-256 of the feed's reference tables as they stood at ``month_end``.

    What a state depends on: every portfolio's terms; the accounts; the tenures
    started by then (an end date only when it has passed: appointing an Other
    Distributor later is a later event); the assignments started by then (their
    end the same way); the offsets and plan events dated by then.  A later
    tenure, assignment, offset or plan event may be added to the feed, and new
    accounts (the accounts the state holds are checked on their own).
    """
    end = pd.Timestamp(month_end)
    digest = hashlib.sha256()

    def add(name: str, frame: pd.DataFrame, columns: list[str]) -> None:
        digest.update(name.encode())
        digest.update(_canonical(frame, columns).encode())

    add("portfolios", feed.portfolios, ["portfolio_id", "distribution_fee_rate", "service_fee_rate",
                                        "cdsc_schedule", "conversion_years"])
    t = feed.tenures[feed.tenures["start_date"] <= end].copy()
    t["end_date"] = t["end_date"].where(t["end_date"] <= end)
    add("tenures", t, ["portfolio_id", "distributor", "start_date", "end_date", "rights_holder"])
    a = feed.assignments[feed.assignments["start_date"] <= end].copy()
    a["end_date"] = a["end_date"].where(a["end_date"] <= end)
    add("assignments", a, ["assignment_id", "assignee", "rights_holder", "portfolio_id", "start_date", "end_date",
                           "fee_fraction", "cdsc_fraction"])
    add("offsets", feed.offsets[feed.offsets["date"] <= end], ["date", "rights_holder", "portfolio_id", "amount"])
    add("plan_events", feed.plan_events[feed.plan_events["date"] <= end], ["portfolio_id", "date", "kind"])
    return digest.hexdigest()


# --- disk ------------------------------------------------------------------------------


def _file_frame(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A state frame as it is written: its columns in order, a plain index, offsets as text."""
    frame = frame[STATE_COLUMNS[name]].reset_index(drop=True)
    if name == "offsets_carried":
        frame = frame.assign(amount=[str(a) for a in frame["amount"]])
    return frame


def _write_frame(name: str, frame: pd.DataFrame, path: Path, version: int) -> None:
    frame = _file_frame(name, frame)
    if version == 1:
        frame.to_parquet(path, index=False)
        return
    table = pa.Table.from_pandas(frame, preserve_index=False)
    # Parquet has no timestamp in seconds and keeps one in milliseconds: so does this format,
    # so that a state reads back alike from either
    seconds = [i for i, f in enumerate(table.schema) if pa.types.is_timestamp(f.type) and f.type.unit == "s"]
    for i in seconds:
        field = table.schema.field(i)
        table = table.set_column(i, field.with_type(pa.timestamp("ms", field.type.tz)),
                                 table.column(i).cast(pa.timestamp("ms", field.type.tz)))
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _manifest(state: MonthEndState, version: int) -> str:
    return json.dumps({
        "format_version": version,
        "month_end": f"{state.month_end:%Y-%m-%d}",
        "reference_checksum": state.reference_checksum,
        "feed_checksum": state.feed_checksum,
        "tables": sorted(STATE_COLUMNS),
    }, indent=2) + "\n"


def save_state(state: MonthEndState, folder: str | Path, *, version: int = FORMAT_VERSION) -> Path:
    """Write the state as a folder of one file per frame (format ``version``: 2, Arrow IPC;
    1, Parquet) and a manifest, atomically: the folder appears complete or not at all (an
    existing folder is replaced)."""
    if version not in FILE_SUFFIX:
        raise ValueError(f"no state format {version!r}; formats: {sorted(FILE_SUFFIX)}")
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        for name, frame in state.frames().items():
            _write_frame(name, frame, staging / f"{name}{FILE_SUFFIX[version]}", version)
        (staging / MANIFEST).write_text(_manifest(state, version))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def _read_frame(source: Path | bytes, version: int) -> pd.DataFrame:
    """One frame's file (a path, or its bytes) as written by :func:`save_state` in ``version``."""
    if version == 1:
        return pd.read_parquet(source if isinstance(source, Path) else io.BytesIO(source))
    if isinstance(source, Path):
        with pa.memory_map(str(source), "r") as mapped:  # the table keeps the mapping it needs
            table = pa.ipc.open_file(mapped).read_all()
    else:
        table = pa.ipc.open_file(pa.py_buffer(source)).read_all()
    return table.to_pandas()


def _state_of(files: dict[str, Path | bytes], manifest_text: str, where: str) -> MonthEndState:
    """The state of a manifest's text and its frames' files (name -> path or bytes)."""
    try:
        manifest = json.loads(manifest_text)
    except ValueError as err:
        raise StateError(f"{where}/{MANIFEST} cannot be read: {err}") from err
    version = manifest.get("format_version")
    if version not in FILE_SUFFIX:
        raise StateError(f"{where} is a state of format {version!r}; "
                         f"this version reads formats {', '.join(map(str, sorted(FILE_SUFFIX)))}")
    frames = {}
    for name, columns in STATE_COLUMNS.items():
        file = f"{name}{FILE_SUFFIX[version]}"
        if name in OPTIONAL_FRAMES and file not in files:
            continue  # a state saved before it was kept: derived (MonthEndState.__post_init__)
        if file not in files:
            raise StateError(f"{where} is incomplete: {file} is missing")
        frame = _read_frame(files[file], version)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise StateError(f"{where}/{file} lacks the columns {', '.join(missing)}")
        frames[name] = frame[columns]
    frames["offsets_carried"] = frames["offsets_carried"].assign(
        amount=[Decimal(a) for a in frames["offsets_carried"]["amount"]])
    return MonthEndState(
        month_end=pd.Timestamp(manifest["month_end"]),
        reference_checksum=manifest["reference_checksum"],
        feed_checksum=manifest.get("feed_checksum", ""),
        **frames,
    )


def load_state(folder: str | Path) -> MonthEndState:
    """Read a state folder written by :func:`save_state`, of either format (StateError when
    it cannot)."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise StateError(f"{folder} is not a month-end state: {MANIFEST} is missing")
    try:
        text = path.read_text()
    except OSError as err:
        raise StateError(f"{path} cannot be read: {err}") from err
    files = {p.name: p for p in folder.iterdir() if p.is_file()}
    return _state_of(files, text, str(folder))


def state_files(state: MonthEndState, *, version: int = 1) -> dict[str, bytes]:
    """The state as file contents (name -> bytes), as :func:`save_state` writes them in
    ``version``: by default format 1 (Parquet), which the store keeps (a quarter of the
    bytes of format 2, and what runs stored before format 2 hold)."""
    with tempfile.TemporaryDirectory() as tmp:
        save_state(state, Path(tmp) / "state", version=version)
        return {p.name: p.read_bytes() for p in sorted((Path(tmp) / "state").iterdir())}


def state_from_files(files: dict[str, bytes]) -> MonthEndState:
    """The inverse of :func:`state_files` (either format)."""
    files = {Path(name).name: content for name, content in files.items()}
    if MANIFEST not in files:
        raise StateError(f"the files are not a month-end state: {MANIFEST} is missing")
    try:
        text = files.pop(MANIFEST).decode()
    except UnicodeDecodeError as err:
        raise StateError(f"{MANIFEST} cannot be read: {err}") from err
    return _state_of(files, text, "(the state's files)")


def empty_frame(name: str) -> pd.DataFrame:
    return pd.DataFrame({c: [] for c in STATE_COLUMNS[name]})

