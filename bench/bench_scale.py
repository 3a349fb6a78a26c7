"""Benchmark of issue 9: the Monthly Calculation of the sample complex from typed Parquet,
against the time pyarrow takes to read the same files.

    .venv/bin/python bench/bench_scale.py --size large [--out bench/out] [--no-dask]

The first run generates the sample once into ``OUT/SIZE/`` (ignored by git): the feed
as typed Parquet (``typed/``: dates as dates, numbers as doubles), its history to the
month end before the last (``history/``), the last month's transactions and NAVs
(``close/``) and the state at that month end (``state/``).  Later runs reuse them.

Each measured step runs in a process of its own (forked, so the imports are paid once),
which reports its wall time, its CPU time (user + sys, its Dask workers included) and
its peak resident memory (ru_maxrss).  Prints one table:

1. the read floor: every table of ``typed/`` read by pyarrow into pandas;
2. the whole calculation: ``read_feed`` (read + every check of section 2), ``compute``
   and the six files written, as ``python -m calc monthly typed/ --out DIR`` does;
3. the ratio of (2) to (1);
4. one more month from the stored state (load the state, read and check ``close/``,
   compute, write the six files, save the new state), beside the read of that month;
5. the peak resident memory of (2);
6. (2) with the ledger on a Dask LocalCluster of the machine's cores (``--dask``).

Never asserts on time; not run by ``make test``.
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing as mp
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent


def _rusage() -> tuple[float, float]:
    """CPU seconds (user + sys) of this process and of its reaped children, and peak MiB."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime, me.ru_maxrss / 1024


def _child(target, args, queue) -> None:
    cpu0, _ = _rusage()
    t = time.perf_counter()
    extra = target(*args)
    wall = time.perf_counter() - t
    cpu, peak = _rusage()
    queue.put({"wall": wall, "cpu": cpu - cpu0, "peak": peak, **(extra or {})})


def measured(target, *args) -> dict:
    """Run ``target(*args)`` in a forked process; its figures (and what it returns)."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(target, args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    if proc.exitcode:
        raise RuntimeError(f"{target.__name__} failed (exit {proc.exitcode})")
    return result


# --------------------------------------------------------------------------- the steps


def read_floor(folder: Path) -> dict:
    import pyarrow.parquet as pq

    rows = 0
    for path in sorted(folder.glob("*.parquet")):
        rows += len(pq.read_table(path).to_pandas())
    return {"rows": rows}


def whole(folder: Path, out: Path, dask: bool = False) -> dict:
    from calc.feed import read_feed
    from calc.monthly import compute
    from calc.report import write_csv

    t = time.perf_counter()
    feed = read_feed(folder)
    read_s = time.perf_counter() - t
    t = time.perf_counter()
    if dask:
        from calc.engine.cluster import dask_client

        with dask_client() as client:
            t_up = time.perf_counter()
            calc, _ = compute(feed, client=client)
            compute_s = time.perf_counter() - t_up
        cluster_s = time.perf_counter() - t - compute_s
    else:
        calc, _ = compute(feed)
        compute_s, cluster_s = time.perf_counter() - t, 0.0
    t = time.perf_counter()
    write_csv(calc, out)
    write_s = time.perf_counter() - t
    return {"read_validate": read_s, "compute": compute_s, "write": write_s, "cluster": cluster_s,
            "transactions": len(feed.transactions), "accounts": len(feed.accounts)}


def close(folder: Path, state_dir: Path, out: Path, new_state: Path) -> dict:
    from calc.engine.state import load_state, save_state
    from calc.feed import read_feed
    from calc.monthly import compute
    from calc.report import write_csv

    t = time.perf_counter()
    state = load_state(state_dir)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    feed = read_feed(folder, opening=state.opening())
    read_s = time.perf_counter() - t
    t = time.perf_counter()
    calc, end = compute(feed, state)
    compute_s = time.perf_counter() - t
    t = time.perf_counter()
    write_csv(calc, out)
    save_state(end, new_state)
    write_s = time.perf_counter() - t
    return {"load_state": load_s, "read_validate": read_s, "compute": compute_s, "write": write_s,
            "transactions": len(feed.transactions)}


# --------------------------------------------------------------------------- the inputs


def _split(typed: Path, end: pd.Timestamp, history: Path, rest: Path) -> None:
    """The typed feed up to the month end ``end`` into ``history``, after it into ``rest``."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    history.mkdir(parents=True, exist_ok=True)
    rest.mkdir(parents=True, exist_ok=True)
    day = pa.scalar(end.date(), pa.date32())
    for path in sorted(typed.glob("*.parquet")):
        table = pq.read_table(path)
        if path.stem in ("transactions", "nav"):
            pq.write_table(table.filter(pc.less_equal(table["date"], day)), history / path.name)
            pq.write_table(table.filter(pc.greater(table["date"], day)), rest / path.name)
        elif path.stem in ("offsets", "plan_events") and table.num_rows:
            pq.write_table(table.filter(pc.less_equal(table["date"], day)), history / path.name)
            pq.write_table(table, rest / path.name)
        else:
            pq.write_table(table, history / path.name)
            pq.write_table(table, rest / path.name)


def _generate(csv: Path, size: str, seed: int, typed: Path) -> None:
    from calc.sample import generate
    from calc.sample.write import typed_parquet

    generate(csv, size=size, seed=seed)
    typed_parquet(csv, typed)
    shutil.rmtree(csv)


def _state_of(history: Path, end: pd.Timestamp, state: Path) -> None:
    from calc.engine.state import save_state
    from calc.feed import read_feed
    from calc.monthly import compute

    _, s = compute(read_feed(history), through=end)
    save_state(s, state)


def prepare_inputs(base: Path, size: str, seed: int) -> dict[str, Path]:
    """The sample's folders under ``base`` (generated once: a marker file says complete)."""
    paths = {k: base / k for k in ("typed", "history", "close", "state")}
    done = base / ".complete"
    if done.exists():
        return paths
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    t = time.perf_counter()
    measured(_generate, base / "csv", size, seed, paths["typed"])  # apart: this process stays small
    print(f"generated the {size} sample as typed Parquet in {time.perf_counter() - t:.1f} s")
    import pyarrow.parquet as pq

    last = pq.read_table(paths["typed"] / "transactions.parquet", columns=["date"])["date"]
    import pyarrow.compute as pc

    end = pd.Timestamp(pc.max(last).as_py()) - pd.offsets.MonthEnd(1)
    end = end + pd.offsets.MonthEnd(0)
    _split(paths["typed"], end, paths["history"], paths["close"])
    t = time.perf_counter()
    measured(_state_of, paths["history"], end, paths["state"])
    print(f"the state at {end:%Y-%m-%d} made in {time.perf_counter() - t:.1f} s")
    done.touch()
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=2003)
    parser.add_argument("--out", type=Path, default=HERE / "out", help="where the inputs are kept (ignored)")
    parser.add_argument("--no-dask", action="store_true", help="leave out the Dask local-cluster run")
    args = parser.parse_args()

    paths = prepare_inputs(args.out / f"scale-{args.size}", args.size, args.seed)
    importlib.import_module("calc.engine.cluster")  # imports paid here, not in the measured steps

    # the compiled kernels loaded (from numba's cache) here, before the steps fork: warm runs
    with tempfile.TemporaryDirectory() as warm:
        whole(HERE.parent / "tests" / "data" / "examples" / "hand" / "feed", Path(warm))
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        tmp = Path(tmp)
        floor = measured(read_floor, paths["typed"])
        run = measured(whole, paths["typed"], tmp / "whole")
        month_floor = measured(read_floor, paths["close"])
        month = measured(close, paths["close"], paths["state"], tmp / "close", tmp / "state")
        dask = None if args.no_dask else measured(whole, paths["typed"], tmp / "dask", True)
        same = dask is None or all((tmp / "dask" / f).read_bytes() == (tmp / "whole" / f).read_bytes()
                                   for f in os.listdir(tmp / "whole"))

    def row(label: str, r: dict, note: str = "") -> str:
        return f"| {label} | {r['wall']:8.2f} | {r['cpu']:8.2f} | {r['peak']:8,.0f} | {note} |"

    print(f"\n{args.size} sample: {run['transactions']:,} transactions, {run['accounts']:,} accounts; "
          f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}\n")
    print("| step | wall s | CPU s | peak MiB | |")
    print("|---|---:|---:|---:|---|")
    print(row("(1) read floor (pyarrow -> pandas, every table)", floor, f"{floor['rows']:,} rows"))
    print(row("(2) whole calculation", run, f"read + validate {run['read_validate']:.2f}, compute "
              f"{run['compute']:.2f}, write {run['write']:.2f}"))
    print(f"| (3) whole / read floor | {run['wall'] / floor['wall']:8.1f}x | "
          f"{run['cpu'] / floor['cpu']:8.1f}x | | target <= 10x and < 60 s |")
    print(row("(4) one more month from the state", month, f"{month['transactions']:,} transactions; load state "
              f"{month['load_state']:.2f}, read + validate {month['read_validate']:.2f}, compute "
              f"{month['compute']:.2f}, write + save {month['write']:.2f}"))
    print(row("    that month's read floor", month_floor, f"target (4) < 2 s + {month_floor['wall']:.2f}"))
    print(f"| (5) peak resident memory of (2) | | | {run['peak']:8,.0f} | target < 4,096 MiB |")
    if dask is not None:
        print(row("(6) (2) on a Dask LocalCluster", dask, f"compute {dask['compute']:.2f}, cluster up and down "
                  f"{dask['cluster']:.2f}; six files {'identical' if same else 'DIFFERENT'}; CPU and peak: "
                  "driver (CPU with its workers)"))


if __name__ == "__main__":
    main()
