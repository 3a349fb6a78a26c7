"""Test helpers for feeds: copy a worked example, edit it cell by cell, read its problems."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest

from calc.feed import FeedError, Problem, read_feed

# shared/ lies beside the clone (as for the other test helpers); BSHARE_EXAMPLES overrides.
EXAMPLES = Path(
    os.environ.get("BSHARE_EXAMPLES")
    or Path(__file__).resolve().parents[1].parent / "shared" / "examples"
)
EXAMPLE_NAMES = ("hand", "hand-v3", "random-1095")


def example_feed(name: str) -> Path:
    """The folder of a worked example's feed (skips the test when it is not there)."""
    folder = EXAMPLES / name / "feed"
    if not folder.is_dir():
        pytest.skip(f"worked example {name} not available")
    return folder


def copy_example(tmp_path: Path, name: str = "hand") -> Path:
    """A writable copy of a worked example's feed."""
    target = tmp_path / name
    shutil.copytree(example_feed(name), target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


def read_rows(folder: Path, table: str) -> list[list[str]]:
    """The rows of ``table``.csv, header included (so line n is ``rows[n - 1]``)."""
    with (folder / f"{table}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def write_rows(folder: Path, table: str, rows: list[list[str]]) -> None:
    """Write ``table``.csv from its rows, header included."""
    with (folder / f"{table}.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def set_cell(folder: Path, table: str, line: int, column: str, value: str) -> None:
    """Put ``value`` in ``column`` of source line ``line`` (header = line 1); a new column is added."""
    rows = read_rows(folder, table)
    if column not in rows[0]:
        rows = [row + ([column] if n == 0 else [""]) for n, row in enumerate(rows)]
    rows[line - 1][rows[0].index(column)] = value
    write_rows(folder, table, rows)


def add_row(folder: Path, table: str, **values: str) -> int:
    """Append a row (missing columns empty); returns its line number."""
    rows = read_rows(folder, table)
    rows.append([values.get(column, "") for column in rows[0]])
    write_rows(folder, table, rows)
    return len(rows)


def drop_column(folder: Path, table: str, column: str) -> None:
    """Remove ``column`` from ``table``.csv."""
    rows = read_rows(folder, table)
    at = rows[0].index(column)
    write_rows(folder, table, [row[:at] + row[at + 1 :] for row in rows])


def problems_of(folder: Path) -> list[Problem]:
    """The problems a rejected feed reports (fails the test when it is accepted)."""
    with pytest.raises(FeedError) as caught:
        read_feed(folder)
    return caught.value.problems


def find_problem(
    problems: list[Problem], file: str, line: int | None, column: str | None, words: str
) -> Problem:
    """The problem at (file, line, column) whose rule contains ``words``; fails listing all otherwise."""
    for problem in problems:
        if (problem.file, problem.line, problem.column) == (
            file,
            line,
            column,
        ) and words in problem.rule:
            return problem
    listing = "\n".join(str(p) for p in problems)
    raise AssertionError(
        f"no problem {file}, line {line}, column {column}: ...{words}... among:\n{listing}"
    )
