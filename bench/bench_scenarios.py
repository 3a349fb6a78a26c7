"""Benchmark the scenarios (issue 8): one deterministic projection and a Monte Carlo run over
the whole sample complex.  Prints seconds, paths a second, peak memory and the ratio of the
Monte Carlo run to one deterministic run.

    .venv/bin/python bench/bench_scenarios.py --size medium --paths 10000 --months 120
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import pandas as pd

from calc.feed import read_feed
from calc.sample import generate
from calc.scenarios.calibrate import asset_classes
from calc.scenarios.montecarlo import bands, present_value_bands, simulate
from calc.scenarios.run import actuals_until, run_scenario
from calc.scenarios.spec import parse_scenario

OUT = Path(__file__).parent / "out"


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--paths", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=120)
    args = parser.parse_args()
    folder = OUT / f"sample-{args.size}"
    if not (folder / "transactions.csv").exists() and not (folder / "transactions.parquet").exists():
        generate(folder, size=args.size)
    feed = read_feed(folder)
    raw = pd.read_csv(folder / "portfolios.csv", dtype=str, keep_default_na=False)
    classes = asset_classes(feed, raw)
    t0 = time.perf_counter()
    actuals = actuals_until(feed)
    t_actuals = time.perf_counter() - t0
    spec = parse_scenario(f'name = "bench"\nhorizon_months = {args.months}\n')
    t0 = time.perf_counter()
    det = run_scenario(feed, spec, actuals=actuals, classes=classes)
    t_det = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim = simulate(det.calculation, det.flows.volatility, args.paths, seed=1, carried=actuals.state.offsets_carried)
    band = bands(sim)
    present_value_bands(sim, actuals.state.month_end, 0.08)
    t_mc = time.perf_counter() - t0
    rows = [
        ("sample", f"{args.size}: {len(feed.transactions):,} transactions, {feed.portfolios.shape[0]} portfolios"),
        ("actuals to the start (compute + state)", f"{t_actuals:.1f} s"),
        (f"deterministic projection, {args.months} months", f"{t_det:.1f} s "
         f"({len(det.projection.feed.transactions):,} projected transactions)"),
        (f"Monte Carlo, {args.paths:,} paths x {args.months} months", f"{t_mc:.1f} s "
         f"({args.paths / t_mc:,.0f} paths a second; {len(band):,} band rows)"),
        ("deterministic + Monte Carlo", f"{t_det + t_mc:.1f} s"),
        ("Monte Carlo / one deterministic run", f"{t_mc / t_det:.2f}"),
        ("peak resident memory", f"{_peak_mib():,.0f} MiB"),
    ]
    width = max(len(a) for a, _ in rows)
    for a, b in rows:
        print(f"{a:<{width}}  {b}")


if __name__ == "__main__":
    main()
