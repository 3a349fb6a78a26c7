"""Bad input as an attacker would send it (issue 11): mutations of the worked examples'
feeds, and what every one of them must end in.

A :class:`Mutation` changes one thing of a feed folder: a cell set to a hostile value
(dates outside pandas' calendar, absurd or odd numbers, other scripts' digits, NUL
characters, long text), a row repeated or removed, a column removed, repeated or added,
bytes inserted, the file cut short, emptied, removed or made a link to nothing.
:func:`run_case` runs ``python -m calc monthly`` on the result in this process and
says how it ended: ``"rejected"`` (exit 2, every problem named, nothing written) or
``"accepted"`` (exit 0, the six files, no ``inf`` or ``nan`` in them); anything else
raises.  ``tests/test_fuzz.py`` draws mutations with hypothesis;
``scripts/fuzz-feeds.py`` runs a larger campaign with a seeded ``random.Random``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import random
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from hypothesis import strategies as st

from calc.cli import EXIT_REJECTED, main
from calc.feed import TABLES
from calc.report import FRACTION_COLUMNS, MONEY_COLUMNS, SHARE_COLUMNS, TABLE_NAMES

EXAMPLES_FUZZED = ("hand", "hand-v3", "random-1095")

DATES = (
    "9999-12-31", "0001-01-01", "0000-01-01", "2262-04-11", "2262-04-12", "1677-09-21", "1677-09-20",
    "2199-12-31", "2200-01-01", "1900-01-01", "1899-12-31", "\uff12\uff10\uff12\uff10-01-01",
    "\u0662\u0660\u0662\u0660-01-01", "2020-02-30", "2020-1-1", "20200101", "2020-01-01T00:00:00",
    "2020-01-01 00:00:01", "2020-06-30", "2012-03-05",
)  # fmt: skip
NUMBERS = (
    "1e300", "1.2e29", "1.7e308", "1.8e308", "-1.7e308", "1e-320", "5e-324", "0", "-0", "nan", "inf",
    "-inf", "1_000", "0x10", "\u0661\u0662", "\uff11\uff10", "1e12", "1000000000001", "999999.99",
    "1e6", "1000000.01", "1e-7", "+5", ".5", "5.", "1e", "--1", "8", "8.5", "101", "0.75",
)  # fmt: skip
TEXTS = (
    "", " ", "\x00", "A\x00B", "x" * 1001, "x" * 999, "=cmd|' /C calc'!A0", "'; DROP TABLE feed;--",
    "\u202e", "\U0001f600", "P", "Q", "OM", "OR", "purchase", "redeem", "reinvest", "nav_purchase",
    "exchange_out", "exchange_in", "true", "FALSE", "A-1", "A-2", "complete_termination", "ADI", "OD1",
    "T01", "X1", '"', ",", "\n", "\r\n", "5;4;3", "5;;3", "100;100",
)  # fmt: skip
VALUES = DATES + NUMBERS + TEXTS
BYTES = (b"\x00", b"\xff", b"\xe9", b"\r", b"\n", b'"', b",", b"\xef\xbb\xbf", b"\x00" * 4096)
OPS = (
    "cell", "cell", "cell", "cell", "swap", "row_dup", "row_del", "col_del", "col_dup", "col_extra",
    "bytes", "truncate", "file_del", "file_empty", "dangling",
)  # fmt: skip


@dataclass(frozen=True)
class Mutation:
    """One change to a feed folder; ``row``, ``column`` and ``at`` are taken modulo the sizes."""

    op: str
    table: str
    row: int = 0
    column: int = 0
    other: int = 0
    value: str = ""
    raw: bytes = b""
    at: float = 0.0

    def __str__(self) -> str:
        shown = self.value if len(self.value) <= 40 else self.value[:40] + f"...({len(self.value)})"
        return f"{self.op} {self.table} row={self.row} column={self.column} value={shown!r} raw={self.raw[:8]!r}"


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def apply(folder: Path, m: Mutation) -> None:
    """Change ``folder`` (a copy of a feed) by ``m``."""
    path = folder / f"{m.table}.csv"
    if not path.is_file() or path.is_symlink():
        return
    if m.op == "file_del":
        path.unlink()
        return
    if m.op == "file_empty":
        path.write_bytes(b"")
        return
    if m.op == "dangling":
        path.unlink()
        path.symlink_to(folder / "nowhere" / path.name)
        return
    data = path.read_bytes()
    if m.op in ("bytes", "truncate"):
        at = int(m.at * len(data))
        path.write_bytes(data[:at] + m.raw + data[at:] if m.op == "bytes" else data[:at])
        return
    try:
        rows = _rows(path)
    except (UnicodeDecodeError, csv.Error):
        return
    if not rows:
        return
    header, body = rows[0], rows[1:]
    c = m.column % max(1, len(header))
    r = m.row % max(1, len(body))
    if m.op == "cell" and body:
        body[r] += [""] * (len(header) - len(body[r]))
        body[r][c] = m.value
    elif m.op == "swap" and body:
        o = m.other % len(body)
        for row in (body[r], body[o]):
            row += [""] * (len(header) - len(row))
        body[r][c], body[o][c] = body[o][c], body[r][c]
    elif m.op == "row_dup" and body:
        body.insert(r, list(body[r]))
    elif m.op == "row_del" and body:
        del body[r]
    elif m.op == "col_del" and header:
        rows = [row[:c] + row[c + 1:] for row in rows]
        _write(path, rows)
        return
    elif m.op == "col_dup" and header:
        rows = [row + [row[c] if c < len(row) else ""] for row in rows]
        rows[0][-1] = header[c] if m.value == "" else m.value
        _write(path, rows)
        return
    elif m.op == "col_extra":
        rows = [header + [m.value or "extra"]] + [row + [m.value] for row in body]
        _write(path, rows)
        return
    _write(path, [header, *body])


def random_mutation(rng: random.Random) -> Mutation:
    """A mutation drawn from ``rng`` (the campaign's)."""
    op = rng.choice(OPS)
    value = rng.choice(VALUES) if rng.random() < 0.85 else "".join(
        chr(rng.choice([rng.randrange(32, 127), rng.randrange(0, 0x2FFF)])) for _ in range(rng.randrange(0, 12))
    )
    return Mutation(op, rng.choice(TABLES), rng.randrange(10_000), rng.randrange(20), rng.randrange(10_000),
                    value, rng.choice(BYTES), rng.random())


def mutations() -> st.SearchStrategy[Mutation]:
    """Hypothesis' mutations: the same operations, values from the hostile lists or any text."""
    value = st.sampled_from(VALUES) | st.text(max_size=12)
    return st.builds(
        Mutation, st.sampled_from(OPS), st.sampled_from(TABLES), st.integers(0, 10_000), st.integers(0, 19),
        st.integers(0, 10_000), value, st.sampled_from(BYTES), st.floats(0, 1),
    )


PROBLEM_LINE = re.compile(r"  - \S.*")
NOT_FINITE = {"inf", "-inf", "+inf", "nan", "infinity", "-infinity"}


def run_case(feed: Path, out: Path) -> str:
    """``python -m calc monthly FEED --out OUT`` in this process: ``"rejected"`` or
    ``"accepted"``, each checked as issue 11 requires; anything else raises."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["monthly", str(feed), "--out", str(out), "-q"])
    text = err.getvalue()
    if code == EXIT_REJECTED:
        assert not out.exists() or not any(out.iterdir()), "a rejected feed wrote files"
        lines = text.splitlines()
        assert lines and lines[0].startswith("The feed was rejected"), text
        assert all(PROBLEM_LINE.fullmatch(line) for line in lines[1:]), text
        return "rejected"
    assert code == 0, f"exit {code}: {text}"
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(f"{name}.csv" for name in TABLE_NAMES), written
    for name in TABLE_NAMES:
        table = pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False)
        for column in MONEY_COLUMNS.get(name, []) + SHARE_COLUMNS.get(name, []) + FRACTION_COLUMNS.get(name, []):
            odd = table[column].str.lower().isin(NOT_FINITE)
            assert not odd.any(), f"{name}.csv, column {column}: {table[column][odd].iloc[0]}"
    return "accepted"
