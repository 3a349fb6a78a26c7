"""A fuzzing campaign by hand (issue 11): many mutated feeds through ``python -m calc monthly``.

    .venv/bin/python scripts/fuzz-feeds.py --cases 1500 --seed 11 [--cli-every 25] [--json FILE]

Each case copies a worked example's feed (tests/data/examples), applies one to three
mutations of ``tests/fuzzkit.py`` drawn from a seeded ``random.Random`` and runs the
command in this process (``run_case``); every ``--cli-every``-th case also runs as a
separate ``python -m calc monthly`` process, whose exit status must be the same and
which must write nothing when it rejects.  Prints how many cases were tried, rejected
cleanly, accepted, and every crash (a traceback, another exit status, a rejection that
wrote a file, an accepted feed with ``inf``/``nan``) with the mutations that made it.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from feedkit import example_feed  # noqa: E402
from fuzzkit import EXAMPLES_FUZZED, apply, random_mutation, run_case  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--cli-every", type=int, default=0, help="also run every Nth case as its own process")
    parser.add_argument("--json", default=None, help="write the counts and crashes here")
    parser.add_argument("--first", type=int, default=0, help="the first case (to replay a crash)")
    args = parser.parse_args()
    counts: collections.Counter[str] = collections.Counter()
    by_op: collections.Counter[str] = collections.Counter()
    crashes = []
    started = time.perf_counter()
    for case in range(args.first, args.first + args.cases):
        rng = random.Random(args.seed * 1_000_003 + case)
        name = rng.choice(EXAMPLES_FUZZED)
        changes = [random_mutation(rng) for _ in range(rng.randint(1, 3))]
        with tempfile.TemporaryDirectory() as tmp:
            feed, out = Path(tmp) / "feed", Path(tmp) / "out"
            shutil.copytree(example_feed(name), feed)
            for change in changes:
                apply(feed, change)
            try:
                ended = run_case(feed, out)
                if args.cli_every and case % args.cli_every == 0:
                    cli_out = Path(tmp) / "cli-out"
                    run = subprocess.run([sys.executable, "-m", "calc", "monthly", str(feed), "--out", str(cli_out), "-q"],
                                         capture_output=True, text=True, check=False)
                    expected = 2 if ended == "rejected" else 0
                    assert run.returncode == expected, f"the command line exits {run.returncode}: {run.stderr[-2000:]}"
                    assert ended == "accepted" or not cli_out.exists(), "the command line wrote files of a rejected feed"
                    counts["checked as a process"] += 1
            except Exception as err:  # a crash: what the campaign is looking for
                ended = "crash"
                crashes.append({"case": case, "example": name, "mutations": [str(c) for c in changes],
                                "error": "".join(traceback.format_exception_only(err)).strip()[-1500:]})
                print(json.dumps(crashes[-1], indent=2), file=sys.stderr, flush=True)
        counts[ended] += 1
        by_op[f"{changes[0].op}: {ended}"] += 1
        if (case + 1 - args.first) % 100 == 0:
            print(f"{case + 1} cases, {dict(counts)}, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    summary = {"cases": args.cases, "seed": args.seed, "outcomes": dict(counts), "by_first_mutation": dict(sorted(by_op.items())),
               "crashes": crashes, "seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(summary, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
