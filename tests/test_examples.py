"""The three worked feeds of tests/data/examples: the command's six files equal the
rulebook's expected output, as the examples' README says to compare them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from feedkit import EXAMPLE_NAMES, EXAMPLES
from golden import compare_dirs


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_command_matches_expected(name: str, tmp_path: Path) -> None:
    base = EXAMPLES / name
    out = tmp_path / "out"
    run = subprocess.run(
        [sys.executable, "-m", "calc", "monthly", str(base / "feed"), "--out", str(out)],
        capture_output=True, text=True, check=False,
    )
    assert run.returncode == 0, run.stderr
    differences = compare_dirs(base / "expected", out)
    assert differences == {k: [] for k in differences}, differences


def test_comparison_catches_a_wrong_cent(tmp_path: Path) -> None:
    """The golden comparison is not vacuous: one cent off in one payment is caught."""
    base = EXAMPLES / "hand"
    out = tmp_path / "out"
    out.mkdir()
    for f in (base / "expected").iterdir():
        out.joinpath(f.name).write_text(f.read_text())
    lines = out.joinpath("payments.csv").read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if ",6147.54," in line)
    lines[row] = lines[row].replace(",6147.54,", ",6147.56,")
    out.joinpath("payments.csv").write_text("\n".join(lines) + "\n")
    assert compare_dirs(base / "expected", out)["payments"]
