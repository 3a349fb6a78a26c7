"""Test helpers for feeds: copy a worked example, edit it cell by cell, read its problems."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from calc.feed import FeedError, Problem, read_feed

# The project's own test data (tests/data): the worked examples, each a feed/
# and its expected/ output, and the agreement's text.
DATA = Path(__file__).parent / "data"
EXAMPLES = DATA / "examples"
EXAMPLE_NAMES = ("hand", "hand-v3", "random-1095")
AGREEMENT = DATA / "agreement" / "master-distribution-agreement-class-b.txt"


def example_feed(name: str) -> Path:
    """The folder of a worked example's feed."""
    return EXAMPLES / name / "feed"


def copy_example(tmp_path: Path, name: str = "hand") -> Path:
    """A copy of a worked example's feed, to edit."""
    target = tmp_path / name
    shutil.copytree(example_feed(name), target)
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
