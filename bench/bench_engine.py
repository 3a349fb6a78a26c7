"""Benchmark: the Monthly Calculation against the time it takes to read the feed.

Prints figures and the ratio (goal: about 10x the read time at 10 million
transactions); never asserts on time.

    .venv/bin/python bench/bench_engine.py --size small|medium|large [--feed DIR]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from calc.feed import read_feed, read_raw_tables
from calc.monthly import monthly_calculation
from calc.report import write_csv


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=2003)
    parser.add_argument("--feed", type=Path, help="an existing feed folder (skips generation)")
    args = parser.parse_args()

    feed_dir = args.feed
    if feed_dir is None:
        from calc.sample import generate

        feed_dir = Path(tempfile.mkdtemp(prefix="bench-feed-")) / args.size
        t = time.perf_counter()
        generate(feed_dir, size=args.size, seed=args.seed)
        print(f"generate {args.size}: {time.perf_counter() - t:8.2f} s")

    t = time.perf_counter()
    raw = read_raw_tables(feed_dir)
    read_s = time.perf_counter() - t
    n_tx = len(raw["transactions"])
    del raw

    t = time.perf_counter()
    feed = read_feed(feed_dir)
    validate_s = time.perf_counter() - t

    t = time.perf_counter()
    calc = monthly_calculation(feed)
    compute_s = time.perf_counter() - t

    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        write_csv(calc, out)
        write_s = time.perf_counter() - t

    total = validate_s + compute_s + write_s
    rows = {name: len(frame) for name, frame in calc.tables().items()}
    print(f"transactions        {n_tx:>12,}")
    print(f"accounts            {feed.accounts.shape[0]:>12,}")
    print(f"months              {calc.summary['month_end'].nunique():>12,}")
    print(f"read (text)         {read_s:8.2f} s")
    print(f"read + validate     {validate_s:8.2f} s")
    print(f"compute             {compute_s:8.2f} s")
    print(f"write six files     {write_s:8.2f} s")
    print(f"total / read        {total / read_s:8.2f} x   (goal: about 10x at 10 million transactions)")
    print(f"transactions / s    {n_tx / compute_s:12,.0f}  (compute only)")
    print(f"peak memory         {_peak_mib():8.0f} MiB")
    print("rows:", ", ".join(f"{k} {v:,}" for k, v in rows.items()))


if __name__ == "__main__":
    main()
