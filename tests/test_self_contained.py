"""The project owns its test data: no test reads a folder beside the clone.

The worked examples and the agreement's text live in ``tests/data``; a file
under ``tests/`` that names the old shared folder (relative or absolute) would
make the suite depend on something outside the repository.
"""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).parent
# Spelled in pieces so that this file does not match itself.
FORBIDDEN = ("../" + "shared", "/work/" + "shared")


def test_no_file_under_tests_names_the_shared_folder() -> None:
    offenders = []
    for path in sorted(TESTS.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        offenders += [f"{path.relative_to(TESTS)}: {word}" for word in FORBIDDEN if word in text]
    assert offenders == []


def test_the_worked_examples_and_the_agreement_are_in_the_project() -> None:
    from feedkit import AGREEMENT, EXAMPLE_NAMES, EXAMPLES

    for name in EXAMPLE_NAMES:
        assert (EXAMPLES / name / "feed" / "transactions.csv").is_file(), name
        assert (EXAMPLES / name / "expected" / "payments.csv").is_file(), name
    assert AGREEMENT.is_file()
    assert EXAMPLES.is_relative_to(TESTS) and AGREEMENT.is_relative_to(TESTS)
