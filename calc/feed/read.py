"""Reading a feed folder: CSV tables as text, Parquet tables with their column types, and
the feed's checksum."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from calc.feed.model import OPTIONAL_TABLES, TABLES, FeedError, Problem


def _find_table(folder: Path, name: str) -> Path | None:
    csv, parquet = folder / f"{name}.csv", folder / f"{name}.parquet"
    if csv.exists() and parquet.exists():
        raise FeedError([Problem(f"{name}.csv", None, None, f"both {name}.csv and {name}.parquet are present; send only one")])
    if csv.exists():
        return csv
    if parquet.exists():
        return parquet
    return None


def _read_raw(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".parquet":  # typed columns stay typed (dates, numbers); text as text
            frame = pq.read_table(path).to_pandas(date_as_object=False)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8", skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    except (ValueError, OSError) as err:  # unreadable: not UTF-8, broken CSV or Parquet
        raise FeedError([Problem(path.name, None, None, f"the file cannot be read: {err}")]) from err
    frame.attrs["source"] = path.name
    return frame


def feed_checksum(folder: Path) -> str:
    """SHA-256 over the feed's table files, in name order."""
    digest = hashlib.sha256()
    for name in TABLES:
        for suffix in (".csv", ".parquet"):
            path = folder / f"{name}{suffix}"
            if path.exists():
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def read_raw_tables(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Every table of the feed as sent: CSV as text, Parquet with its column types
    (missing optional tables empty)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FeedError([Problem(str(folder), None, None, "the feed folder does not exist")])
    tables: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for name in TABLES:
        tables[name] = pd.DataFrame()
        try:  # a file that cannot be used is reported with the others
            path = _find_table(folder, name)
            if path is not None:
                tables[name] = _read_raw(path)
        except FeedError as err:
            problems += err.problems
            continue
        if path is None and name not in OPTIONAL_TABLES:
            problems.append(Problem(f"{name}.csv", None, None, f"the required file {name}.csv is missing"))
    if problems:
        raise FeedError(problems)
    return tables
