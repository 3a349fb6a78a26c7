"""The command line of closed months: ``python -m calc close`` and ``python -m calc export``.

``close YYYY-MM [--run ID]`` freezes that month of a run (default: the newest) in the
store, as the command line's operator (``calc.access.Principal.operator``, an admin);
``export --run ID --month YYYY-MM --out DIR`` writes a month's six files from the store:
a closed month exactly as closed, any other month from the run's rows.  Refusals (an
unknown run, a month not in the run, a month closed already, a month not ``YYYY-MM``,
``--out`` naming a file) exit with status 2 and a plain message; nothing is written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

EXIT_REJECTED = 2
EXIT_CORRUPT = 1

CLOSE_HELP = """\
Freeze the Monthly Calculation of month YYYY-MM of a calculation run (default: the newest)
in the store: its six files (the rows of that month, as `monthly` writes them) are kept
with the SHA-256 of each, of the six, and of the inputs they came from (the feed's
checksum, its reference tables as of the month end and its NAVs and transactions up to
it).  A month is closed once.  A later load that changes a closed month is stored as a
restatement: a new version; the closed files stay as they are, for ever.
"""

EXPORT_HELP = """\
Write the six files (summary.csv ... exceptions.csv) of month YYYY-MM of run ID from the
store into DIR.  A month closed from that run is written exactly as it was closed (each
file checked against its SHA-256 first); any other month from the run's stored rows.
"""


def month_arg(text: str) -> str:
    """An argparse type: ``YYYY-MM`` or an error naming the value."""
    try:
        dt.datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a month: {text!r} (write it YYYY-MM, e.g. 2012-11)") from None
    if len(text) != 7:
        raise argparse.ArgumentTypeError(f"not a month: {text!r} (write it YYYY-MM, e.g. 2012-11)")
    return text


def _refused(command: str, message: str, status: int = EXIT_REJECTED) -> int:
    print(f"{command}: {message}; nothing was written", file=sys.stderr)
    return status


def _close(args: argparse.Namespace) -> int:
    from calc.access import Principal
    from calc.store import RunNotFound, get_engine, latest_run_id
    from calc.store.closes import CloseError, close_month

    engine = get_engine(args.database_url)
    try:
        run_id = args.run if args.run is not None else latest_run_id(engine)
        if run_id is None:
            return _refused("close", "the store holds no calculation run")
        try:
            close_id = close_month(engine, run_id, args.month, Principal.operator(), migrate=True)
        except (RunNotFound, CloseError) as err:
            return _refused("close", str(err).strip("'\""))
    finally:
        engine.dispose()
    print(f"closed {args.month} of calculation run {run_id} as close {close_id}")
    return 0


def write_files(files: dict[str, bytes], out_dir: Path) -> list[Path]:
    """Write ``files`` into ``out_dir`` (created if needed), all or none: staged beside it
    and moved in once all are complete."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".writing-") as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        for name in files:
            os.replace(Path(tmp) / name, out_dir / name)
            written.append(out_dir / name)
    return written


def _export(args: argparse.Namespace) -> int:
    from calc.access import Principal
    from calc.store import RunNotFound, get_engine
    from calc.store.closes import ClosedFilesCorrupt, CloseError, month_files

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        return _refused("export", f"--out names a file that exists, not a folder: {out}")
    engine = get_engine(args.database_url)
    try:
        files, close_id = month_files(engine, args.run, args.month, Principal.operator())
    except (RunNotFound, CloseError) as err:
        return _refused("export", str(err).strip("'\""))
    except ClosedFilesCorrupt as err:
        return _refused("export", str(err), EXIT_CORRUPT)
    finally:
        engine.dispose()
    write_files(files, out)
    how = f"as closed (close {close_id})" if close_id is not None else "from the run's rows (not closed)"
    print(f"wrote the {len(files)} files of {args.month} of calculation run {args.run} {how} into {out}")
    return 0


def zip_files(files: dict[str, bytes], folder: str) -> bytes:
    """The files in a zip, under ``folder/`` (the Data page's download of a closed month)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(f"{folder}/{name}", data)
    return buffer.getvalue()


def add_commands(sub: argparse._SubParsersAction) -> None:
    """The ``close`` and ``export`` sub-commands, on ``python -m calc``'s parser."""
    close = sub.add_parser(
        "close",
        help="freeze a month's Monthly Calculation in the store (admin)",
        description=CLOSE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    close.add_argument("month", metavar="YYYY-MM", type=month_arg)
    close.add_argument("--run", type=int, default=None, metavar="ID", help="the run (default: the newest)")
    close.add_argument("--database-url", default=None, help="overrides DATABASE_URL")
    close.set_defaults(func=_close)

    export = sub.add_parser(
        "export",
        help="write a month's six files from the store (a closed month exactly as closed)",
        description=EXPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("--run", type=int, required=True, metavar="ID")
    export.add_argument("--month", type=month_arg, required=True, metavar="YYYY-MM")
    export.add_argument("--out", required=True, metavar="DIR", help="folder to write the six files into")
    export.add_argument("--database-url", default=None, help="overrides DATABASE_URL")
    export.set_defaults(func=_export)


__all__ = ["add_commands", "month_arg", "write_files", "zip_files"]
