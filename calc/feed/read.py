"""Reading a feed folder: CSV tables as text, Parquet tables with their column types, and
the feed's checksum."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from calc.feed.model import OPTIONAL_TABLES, TABLES, FeedError, Problem
from calc.vocabulary import MAX_CELL_CHARS, MAX_COLUMNS, MAX_FILE_BYTES, MAX_LINE_BYTES

SCAN_CHUNK_BYTES = 8 * 2**20  # a CSV file is scanned (line lengths, UTF-8) this much at a time
NEWLINE = 10
PARSER_LINE = re.compile(r"\bline (\d+)\b")  # where pandas' CSV parser says it stopped


def _problem(path: Path, rule: str, line: int | None = None) -> FeedError:
    return FeedError([Problem(path.name, line, None, rule)])


def _present(path: Path) -> bool:
    """The file is there: it exists, or it is a link (a link to nothing is sent, not absent)."""
    return path.exists() or path.is_symlink()


def _find_table(folder: Path, name: str) -> Path | None:
    text, parquet = folder / f"{name}.csv", folder / f"{name}.parquet"
    if _present(text) and _present(parquet):
        raise FeedError([Problem(f"{name}.csv", None, None, f"both {name}.csv and {name}.parquet are present; send only one")])
    for path in (text, parquet):
        if _present(path):
            if not path.exists():  # never read as "not sent": that would change the payments
                raise _problem(path, "the file is a link to nothing; send the table itself, or no file at all")
            if not path.is_file():
                raise _problem(path, "the file cannot be read: it is not a regular file")
            return path
    return None


def _check_size(path: Path) -> None:
    """A table's file holds at most MAX_FILE_BYTES (a Parquet file: also once uncompressed)."""
    size = path.stat().st_size
    if path.suffix == ".parquet":
        try:
            meta = pq.ParquetFile(path).metadata
        except (ValueError, OSError, pa.ArrowException) as err:
            raise _problem(path, f"the file cannot be read: {' '.join(str(err).split())}") from err
        if meta.num_columns > MAX_COLUMNS:
            raise _problem(path, f"the table has {meta.num_columns:,} columns; a table may have at most {MAX_COLUMNS}", 1)
        size = max(size, sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)))
    if size > MAX_FILE_BYTES:
        raise _problem(path, f"the file holds {size:,} bytes; a table may hold at most {MAX_FILE_BYTES:,}")


def _scan_csv(path: Path) -> None:
    """Before pandas reads a CSV file: no line longer than MAX_LINE_BYTES (one huge cell
    would be held whole, several times), and a header of at most MAX_COLUMNS columns."""
    if path.stat().st_size > MAX_LINE_BYTES:
        line, length = 1, 0  # the line being read, and its bytes so far
        with path.open("rb") as handle:
            while chunk := handle.read(SCAN_CHUNK_BYTES):
                ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == NEWLINE)
                if ends.size == 0:
                    length += len(chunk)
                else:
                    lengths = np.diff(ends, prepend=-1) - 1
                    lengths[0] += length
                    long = np.flatnonzero(lengths > MAX_LINE_BYTES)
                    if long.size:
                        line += int(long[0])
                        length = int(lengths[long[0]])
                    else:
                        line += ends.size
                        length = len(chunk) - int(ends[-1]) - 1
                if length > MAX_LINE_BYTES:
                    raise _problem(path, f"the line is longer than {MAX_LINE_BYTES:,} bytes; "
                                         f"no value may be longer than {MAX_CELL_CHARS:,} characters", line)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), [])
    except (csv.Error, UnicodeDecodeError):
        return  # pandas reads it and says what is wrong
    if len(header) > MAX_COLUMNS:
        raise _problem(path, f"the header has {len(header):,} columns; a table may have at most {MAX_COLUMNS}", 1)


def _bad_utf8_line(path: Path) -> tuple[int, str] | None:
    """The first line that is not UTF-8, and why (None: the file is UTF-8).  Chunks are cut
    at a newline, which is never inside a UTF-8 character."""
    line, rest = 1, b""
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(SCAN_CHUNK_BYTES)
            data = rest + chunk
            cut = data.rfind(b"\n") + 1 if chunk else len(data)
            block, rest = data[:cut], data[cut:]
            try:
                block.decode("utf-8")
            except UnicodeDecodeError as err:
                return line + block.count(b"\n", 0, err.start), err.reason
            line += block.count(b"\n")
            if not chunk:
                return None


def _read_raw(path: Path) -> pd.DataFrame:
    try:
        _check_size(path)
        if path.suffix != ".parquet":
            _scan_csv(path)
    except OSError as err:
        raise _problem(path, f"the file cannot be read: {err}") from err
    try:
        if path.suffix == ".parquet":  # typed columns stay typed (dates, numbers); text as text
            frame = pq.read_table(path).to_pandas(date_as_object=False)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8", skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    except UnicodeDecodeError as err:  # say where: the line that is not UTF-8
        found = _bad_utf8_line(path)
        line, why = found if found is not None else (None, err.reason)
        raise _problem(path, f"the file cannot be read: it is not UTF-8 text ({why})", line) from err
    except (ValueError, OSError, pa.ArrowException) as err:  # unreadable: broken CSV or Parquet
        why = " ".join(str(err).split())  # pandas' messages end in a newline
        found = PARSER_LINE.search(why) if isinstance(err, pd.errors.ParserError) else None
        line = int(found.group(1)) if found else None
        raise _problem(path, f"the file cannot be read: {why}", line) from err
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
                with path.open("rb") as handle:  # in chunks: the file is never held whole here
                    while chunk := handle.read(SCAN_CHUNK_BYTES):
                        digest.update(chunk)
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
