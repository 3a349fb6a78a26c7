"""The ledger on Dask: the walk over partitions of accounts on a cluster's workers.

Accounts are independent of each other until the portfolio sums (the partition
seam of :mod:`calc.engine.ledger`).  The driver prepares the walk's inputs once
(:func:`calc.engine.ledger.prepare`), cuts them into contiguous slices of
accounts, and each worker walks its slices with the same compiled kernel
(:func:`calc.engine.ledger.walk_slice`).  The slices' changes come back in
account order and are put together as one walk over every account would have
made them (:func:`calc.engine.ledger.concat`), so :func:`calc.engine.ledger.totals`
adds the very same records in the very same order: the six files are those of
the single-process run, byte for byte.

Only the walk is distributed: it is the one step whose cost grows with the
transactions; the attribution and the money work on sums by month and
portfolio and run once, on the driver.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

import numpy as np

from calc.engine.ledger import LedgerChanges, Prepared, concat, walk_slice

Progress = Callable[..., None]

SLICES_PER_WORKER = 4  # more slices than workers: a slow slice does not hold the others up


@contextlib.contextmanager
def dask_client(address: str | None = None, *, workers: int | None = None,
                processes: bool = True) -> Iterator[object]:
    """A ``distributed.Client``: to the scheduler at ``address`` (``tcp://host:8786``), or
    to a LocalCluster of ``workers`` single-threaded workers (default: the machine's
    cores) that lives as long as the context."""
    from distributed import Client, LocalCluster

    if address:
        with Client(address) as client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=processes, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


def slice_bounds(prepared: Prepared, slices: int) -> np.ndarray:
    """Cut points (positions in ``prepared.accounts``) of ``slices`` contiguous slices
    with about as many transactions each (a slice is never split within an account)."""
    n = len(prepared.accounts)
    slices = max(1, min(slices, n))
    rows = prepared.row_ptr[1:] if n else np.zeros(0, np.int64)  # rows up to and including each account
    targets = np.linspace(0, int(prepared.row_ptr[-1]), slices + 1)[1:-1]
    cuts = np.searchsorted(rows, targets, side="left") + 1
    bounds = np.unique(np.concatenate([[0], np.minimum(cuts, n), [n]])).astype(np.int64)
    return bounds


def walk_on_dask(prepared: Prepared, client, *, slices: int | None = None,
                 progress: Progress | None = None) -> LedgerChanges:
    """The compiled walk of ``prepared`` on the workers of ``client``, slice by slice,
    put together in account order (raises :class:`calc.engine.ledger.WalkError` as the
    single-process walk does; the row is the feed's)."""
    from distributed import as_completed

    if slices is None:
        threads = sum(client.nthreads().values()) or 1
        slices = SLICES_PER_WORKER * threads
    bounds = slice_bounds(prepared, slices)
    pieces = [prepared.slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    data = client.scatter(pieces, hash=False)  # spread over the workers, not put in the task graph
    del pieces
    futures = [client.submit(walk_slice, piece, pure=False) for piece in data]
    try:
        for done, _ in enumerate(as_completed(futures), start=1):
            if progress is not None:
                progress("ledger on dask: slices walked", done, len(futures))
        parts = client.gather(futures)  # raises the first slice's WalkError, if any
    finally:
        client.cancel(futures + data)
    return concat(parts)
