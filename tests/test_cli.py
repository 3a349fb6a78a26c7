"""The command line: `python -m calc monthly FEED --out DIR` (RULES.md section 8)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from feedkit import copy_example

from calc.cli import main


@pytest.fixture
def hand_feed(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


def test_help_explains_the_command() -> None:
    run = subprocess.run([sys.executable, "-m", "calc", "monthly", "--help"], capture_output=True, text=True, check=False)
    assert run.returncode == 0
    for word in ("summary.csv", "allocation.csv", "payments.csv", "omnibus.csv", "cdsc.csv", "exceptions.csv", "status 2"):
        assert word in run.stdout


def test_writes_six_files_and_shows_progress(hand_feed: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert main(["monthly", str(hand_feed), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["summary.csv", "allocation.csv", "payments.csv", "omnibus.csv", "cdsc.csv", "exceptions.csv"]
    )
    err = capsys.readouterr().err
    assert "ledger" in err and "wrote 6 files" in err


def test_rejected_feed_writes_nothing_and_exits_2(hand_feed: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    tx = hand_feed / "transactions.csv"
    lines = tx.read_text().splitlines()
    lines[3] = lines[3].replace(",purchase,", ",buy,")  # line 4 of the file: an unknown kind
    lines[5] = lines[5].replace(",50,10,", ",-50,10,")  # line 6: negative shares
    tx.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    assert main(["monthly", str(hand_feed), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "rejected" in err
    assert "transactions.csv, line 4" in err and "kind" in err
    assert "transactions.csv, line 6" in err and "shares" in err
    assert not out.exists() or not any(out.iterdir())


def test_a_control_character_in_a_value_is_shown_escaped_one_problem_a_line(
    hand_feed: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    tx = hand_feed / "transactions.csv"
    lines = tx.read_text().splitlines()
    lines[3] = lines[3].replace(",purchase,", ",pur\x1echase,")  # an unknown kind holding control characters
    tx.write_text("\n".join(lines) + "\n")
    assert main(["monthly", str(hand_feed), "--out", str(tmp_path / "out"), "-q"]) == 2
    listing = capsys.readouterr().err.splitlines()
    assert listing[0].startswith("The feed was rejected")
    assert all(line.startswith("  - ") for line in listing[1:]), listing
    assert any("transactions.csv, line 4" in line and "pur\\x1echase" in line for line in listing), listing


def test_overdrawn_account_is_rejected_after_conversions(hand_feed: Path, tmp_path: Path) -> None:
    """The 2012 lot of OM converts at 2020-03-31; OM holds 1544.47 shares at the end (1944.47 without the conversion): redeeming 1900 is rejected."""
    tx = hand_feed / "transactions.csv"
    tx.write_text(tx.read_text() + "T99,2020-06-30,P,OM,redeem,1900,10,,,\n")
    out = tmp_path / "out"
    assert main(["monthly", str(hand_feed), "--out", str(out)]) == 2
    assert not out.exists() or not any(out.iterdir())


def test_existing_output_untouched_when_rejected(hand_feed: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["monthly", str(hand_feed), "--out", str(out), "-q"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (hand_feed / "accounts.csv").write_text("account_id,omnibus\nOM,maybe\nOR,false\n")
    assert main(["monthly", str(hand_feed), "--out", str(out), "-q"]) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize("where", ["inside a file", "a link to nothing", "a folder in a file's place"])
def test_a_bad_out_is_refused_before_the_computation(
    hand_feed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, where: str
) -> None:
    import calc.monthly

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("computed before --out was checked")

    monkeypatch.setattr(calc.monthly, "compute", never)
    (tmp_path / "file").write_text("x")
    out = {"inside a file": tmp_path / "file" / "out", "a link to nothing": tmp_path / "link",
           "a folder in a file's place": tmp_path / "out"}[where]
    if where == "a link to nothing":
        out.symlink_to(tmp_path / "nowhere")
    if where == "a folder in a file's place":
        (out / "payments.csv").mkdir(parents=True)
    assert main(["monthly", str(hand_feed), "--out", str(out), "-q"]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["scenario", str(hand_feed), "--spec", str(tmp_path / "s.toml"), "--out", str(tmp_path / "file"), "-q"]) == 2
    assert main(["sample", "--out", str(tmp_path / "file" / "feed"), "-q"]) == 2
