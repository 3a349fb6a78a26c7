"""The command line: ``python -m calc monthly|sample|load ...``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from calc.feed import FeedError

EXIT_REJECTED = 2
EXIT_STORE_BUSY = 3  # load: the store's write lock stayed taken; nothing was stored

DESCRIPTION = """\
Class B share distribution-fee accounting (Master Distribution Agreement,
Class B Shares): turn a transfer-agent feed into the Monthly Calculation of
each month - who is owed which part of the 12b-1 Distribution Fee, the service
fee and the CDSCs - as RULES.md specifies.
"""

MONTHLY_HELP = """\
Read the feed in folder FEED (CSV or Parquet tables: portfolios, tenures,
accounts, nav, transactions and optionally assignments, offsets,
plan_events), compute every month of the feed and write six CSV files into
DIR:

  summary.csv     per month and portfolio: average net assets, fees, CDSCs,
                  shares outstanding, due date
  allocation.csv  per month, portfolio and rights holder: attributed shares
                  (Exhibit A 2(a)-(c)) and the 12b-1 Share
  payments.csv    per month, portfolio, party and role: the rounded Portions,
                  offsets and the amount payable on the due date
  omnibus.csv     per month, omnibus account, portfolio and rights holder:
                  the Exhibit A 2(c)(ii)-(iv) roll-forward
  cdsc.csv        per Commission lot part redeemed: year held, rate, CDSC
  exceptions.csv  zero denominators, negative Free Share balances,
                  unapplied offsets

A feed that breaks a rule of the rulebook is rejected: nothing is written,
every problem (up to 50) is printed on standard error with its file, line,
column and rule, and the command exits with status 2.

Month-end state (the monthly close):
  --save-state S  also write the state at the feed's last month end into
                  folder S (Arrow IPC files and manifest.json): every open lot,
                  Free Share balance, omnibus F, F_h and K_h, offsets carried
  --from-state S  continue the state in S: FEED holds the reference tables
                  whole and only the transactions and NAVs after the state's
                  month end; the six files hold only the months after it, equal
                  row for row to those months of one run over everything.  A
                  state that does not fit the feed (other reference tables,
                  transactions on or before its month end, a month missing) is
                  rejected with status 2 and nothing is written.

On Dask:
  --dask [ADDRESS]  walk the ledger over partitions of accounts on Dask: a
                  LocalCluster of this machine's cores without ADDRESS, the
                  scheduler at ADDRESS (tcp://host:8786) with it, whose workers
                  have this package installed.  The six files are the same,
                  byte for byte.
"""


class _Progress:
    """Progress on stderr: a line per stage; counts redrawn in place on a terminal,
    every tenth elsewhere (logs, CI)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.start = time.perf_counter()
        self.tty = sys.stderr.isatty()
        self.last_decile: dict[str, int] = {}

    def __call__(self, stage: str, done: int | None = None, total: int | None = None) -> None:
        if self.quiet:
            return
        elapsed = time.perf_counter() - self.start
        if done is None or not total:
            print(f"[{elapsed:7.1f}s] {stage}", file=sys.stderr, flush=True)
            return
        pct = 100.0 * done / total
        msg = f"[{elapsed:7.1f}s] {stage}: {done:,}/{total:,} ({pct:5.1f}%)"
        if self.tty:
            print("\r" + msg, end="\n" if done >= total else "", file=sys.stderr, flush=True)
            return
        decile = int(pct // 10)
        if decile != self.last_decile.get(stage):
            self.last_decile[stage] = decile
            print(msg, file=sys.stderr, flush=True)


def _check_target(flag: str, target: str | None, names: Sequence[str] = ()) -> None:
    """Before any work: ``target`` can become a folder holding ``names`` (FeedError if not),
    so that a bad ``--out`` is found in a second, not after the whole computation."""
    from calc.feed import Problem

    if target is None:
        return
    path = Path(target)

    def refuse(why: str) -> FeedError:
        return FeedError([Problem(str(target), None, None, f"{flag} {why}")])

    if path.is_symlink() and not path.exists():
        raise refuse("names a link to nothing, not a folder")
    if path.exists() and not path.is_dir():
        raise refuse("names a file that exists, not a folder")
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise refuse(f"lies inside {existing}, a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise refuse(f"cannot be written: {existing} is not writable")
    for name in names:
        if (path / name).is_dir():
            raise refuse(f"holds a folder named {name} where a file is to be written")


def _monthly(args: argparse.Namespace) -> int:
    from calc.engine.state import StateError, load_state, save_state
    from calc.feed import Problem, read_feed
    from calc.monthly import compute
    from calc.report import TABLE_NAMES, write_csv

    progress = _Progress(args.quiet)
    _check_target("--out", args.out, [f"{name}.csv" for name in TABLE_NAMES])
    _check_target("--save-state", args.save_state)
    opening = None
    if args.from_state:
        try:
            opening = load_state(args.from_state)
        except StateError as err:
            raise FeedError([Problem(str(args.from_state), None, None, str(err))]) from err
        progress(f"continuing the state of {opening.month_end:%Y-%m-%d} from {args.from_state}")
    progress(f"reading feed {args.feed}")
    feed = read_feed(args.feed, opening=None if opening is None else opening.opening())
    if args.dask is None:
        calc, state = compute(feed, opening, progress=progress)
    else:
        from calc.engine.cluster import dask_client

        progress("ledger on dask: " + (f"the scheduler at {args.dask}" if args.dask else "a local cluster"))
        with dask_client(args.dask or None) as client:
            calc, state = compute(feed, opening, client=client, progress=progress)
    paths = write_csv(calc, args.out)
    progress(f"wrote {len(paths)} files into {args.out}")
    if args.save_state:
        if state is None:
            raise FeedError([Problem(args.feed, None, None, "the feed has no month: there is no state to save")])
        save_state(state, args.save_state)
        progress(f"saved the state of {state.month_end:%Y-%m-%d} into {args.save_state}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    from calc.feed import TABLES
    from calc.sample import generate

    _check_target("--out", args.out, [f"{name}.csv" for name in TABLES])
    progress = _Progress(args.quiet)
    generate(Path(args.out), size=args.size, seed=args.seed, progress=progress)
    return 0


def _load(args: argparse.Namespace) -> int:
    from calc.access import Principal
    from calc.load import load_feed
    from calc.store import StoreBusy, get_engine
    from calc.store.audit import ACTION_LOAD, record_event

    progress = _Progress(args.quiet)
    engine = get_engine(args.database_url)
    try:
        run_id = load_feed(args.feed, engine, progress, principal=Principal.operator())
        record_event(engine, Principal.operator().name, ACTION_LOAD, run_id=run_id, detail=str(args.feed))
    except StoreBusy as err:
        print(f"The feed was not loaded: {err}.", file=sys.stderr)
        return EXIT_STORE_BUSY
    finally:
        engine.dispose()
    print(f"loaded {args.feed} as calculation run {run_id}")
    return 0


USER_HELP = """\
Manage the dashboard's users (table app_user; every change is written to the
audit trail).  Roles: executive and analyst (see everything), admin (also
loads feeds and manages users), assignee (bound with --assignee to one
assignee of the feeds: sees only its own Portions, payments and collateral).

  user add NAME --role ROLE [--assignee NAME] [--password-stdin | --no-password]
  user passwd NAME [--password-stdin]
  user remove NAME
  user list
  user first-admin    (make run: in a store without users, adds the admin
                       'admin' with a random password and prints it once)

A password is read from standard input with --password-stdin (its first line),
else asked for twice on the terminal; --no-password adds a user who signs in
only through the OIDC provider configured in .streamlit/secrets.toml.  Passwords
are stored as argon2 hashes.  A bad role, an assignee role without --assignee,
a short password, an existing name: status 2 and nothing changed.
"""

SCENARIO_HELP = """\
Project every party's streams from the month-end state of the actuals: the
Monthly Calculation continued with the scenario's flows written as synthetic
transactions and NAVs and run through the same engine (calc.scenarios).

SPEC is a TOML file: name, start (YYYY-MM; default the feed's last month),
horizon_months (120), paths (1), seed, discount_rate, [assumptions]
(sales_scale, nav_sales_scale, redemption_scale, dividend_yield, waiver_rate,
drift, volatility, [assumptions.by_asset_class.NAME]) and [[events]]
(distributor_termination with successor, complete_termination,
plan_amendment with rate, sales_suspension, market_shock with return,
redemption_shock with multiplier and months; each with a date and
portfolios = "all" or a list).  Omitted assumptions take defaults calibrated
from the actuals (written to assumptions.csv).

Writes into DIR: summary.csv, allocation.csv, payments.csv (the projected
months, in the columns of the Monthly Calculation), present_values.csv (party,
role, kind of money, undiscounted sum, present value at the start),
assumptions.csv and scenario.toml.  A spec with an unknown key, an event on or
before the start, an unknown portfolio, a negative rate: status 2, nothing
written.
"""


SCENARIO_FILES = ("summary.csv", "allocation.csv", "payments.csv", "present_values.csv", "bands.csv",
                  "assumptions.csv", "scenario.toml")  # what calc.scenarios.run.write_result may write


def _scenario(args: argparse.Namespace) -> int:
    import pandas as pd

    from calc.engine.state import StateError, load_state
    from calc.feed import read_feed
    from calc.scenarios.calibrate import asset_classes
    from calc.scenarios.run import Actuals, actuals_until, run_scenario, write_result
    from calc.scenarios.spec import SpecError, read_scenario

    progress = _Progress(args.quiet)
    _check_target("--out", args.out, SCENARIO_FILES)
    try:
        scenario = read_scenario(args.spec)
        update = {k: v for k, v in (("paths", args.paths), ("seed", args.seed)) if v is not None}
        if update:
            scenario = scenario.model_validate({**scenario.model_dump(by_alias=True), **update})
        progress(f"reading feed {args.feed}")
        feed = read_feed(args.feed)
        raw = Path(args.feed) / "portfolios.csv"
        classes = asset_classes(feed, pd.read_csv(raw, dtype=str, keep_default_na=False) if raw.exists() else None)
        actuals = None
        if args.from_state:
            try:
                state = load_state(args.from_state)
            except StateError as err:
                raise SpecError([str(err)]) from err
            state.check_fits(feed)
            actuals = actuals_until(feed, state.month_end, progress)
            actuals = Actuals(actuals.feed, actuals.calculation, state)
        result = run_scenario(feed, scenario, actuals=actuals, classes=classes, progress=progress)
    except SpecError as err:
        print(f"The scenario was rejected ({len(err.problems)} problem(s)); nothing was written:", file=sys.stderr)
        for problem in err.problems:
            print(f"  - {one_line(problem)}", file=sys.stderr)
        return EXIT_REJECTED
    paths = write_result(result, args.out)
    progress(f"wrote {len(paths)} files into {args.out}")
    return 0


class _UserError(ValueError):
    """A user command that cannot be done (status 2, nothing changed)."""


def _read_password(args: argparse.Namespace) -> str:
    import getpass

    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise _UserError("--password-stdin: nothing on standard input")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise _UserError("no terminal to ask for the password on: use --password-stdin")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise _UserError("the two passwords differ")
    return first


def _warn_unknown_assignee(engine, operator, assignee: str | None) -> None:
    """A warning (not an error: a later feed may name it) when no stored run's newest feed
    has an assignment of ``assignee``: a typo would leave the user seeing nothing."""
    from calc.store import latest_run_id, read_table

    run_id = latest_run_id(engine, operator) if assignee else None
    if run_id is None:
        return
    if read_table(engine, operator, "assignments", run_id, assignee=assignee).empty:
        print(f"warning: run {run_id}, the newest, has no assignment of {assignee!r}: the user sees nothing "
              "until a feed names that assignee (check the spelling)", file=sys.stderr)


def _user(args: argparse.Namespace) -> int:
    import calc.users as users
    from calc.access import Principal
    from calc.store import get_engine, upgrade
    from calc.store.users import list_users

    operator = Principal.operator()
    engine = get_engine(args.database_url)
    try:
        upgrade(engine)
        if args.user_command == "list":
            frame = list_users(engine)
            if frame.empty:
                print("no users")
            for r in frame.itertuples(index=False):
                bound = f" of {r.assignee}" if r.assignee else ""
                locked = "" if r.locked_until is None or r.locked_until != r.locked_until else f" (locked until {r.locked_until:%Y-%m-%d %H:%M} UTC)"
                print(f"{r.name}\t{r.role}{bound}{locked}")
            return 0
        if args.user_command == "first-admin":
            password = users.ensure_first_admin(engine, operator)
            if password is not None:
                print(f"No user yet: created the admin user '{users.FIRST_ADMIN}' with the password\n\n"
                      f"    {password}\n\n(shown only this once; change it with "
                      f"'python -m calc user passwd {users.FIRST_ADMIN}'; add users with 'python -m calc user add').")
            return 0
        if args.user_command == "add":
            Principal(args.name, args.role, args.assignee or None)  # a bad role or assignee before asking
            password = None if args.no_password else _read_password(args)
            users.add_user(engine, operator, args.name, args.role, password, args.assignee)
            print(f"added user {args.name.strip()} ({args.role}{' of ' + args.assignee if args.assignee else ''})")
            _warn_unknown_assignee(engine, operator, args.assignee)
        elif args.user_command == "passwd":
            users.set_password(engine, operator, args.name, _read_password(args))
            print(f"changed the password of {args.name}")
        elif args.user_command == "remove":
            users.remove_user(engine, operator, args.name)
            print(f"removed user {args.name}")
        return 0
    except (_UserError, ValueError, LookupError) as err:
        message = err.args[0] if isinstance(err, LookupError) and err.args else err
        print(f"python -m calc user {args.user_command}: {message}; nothing was changed", file=sys.stderr)
        return EXIT_REJECTED
    finally:
        engine.dispose()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m calc",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    monthly = sub.add_parser(
        "monthly",
        help="compute the Monthly Calculation of a feed into six CSV files",
        description=MONTHLY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    monthly.add_argument("feed", metavar="FEED", help="folder holding the feed's tables")
    monthly.add_argument("--out", metavar="DIR", required=True, help="folder to write the six CSV files into")
    monthly.add_argument("--save-state", metavar="DIR", default=None,
                         help="also write the month-end state of the feed's last month into DIR")
    monthly.add_argument("--from-state", metavar="DIR", default=None,
                         help="continue the month-end state in DIR with FEED's later transactions and NAVs")
    monthly.add_argument("--dask", metavar="ADDRESS", nargs="?", const="", default=None,
                         help="walk the ledger on Dask: a local cluster, or the scheduler at ADDRESS")
    monthly.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    monthly.set_defaults(func=_monthly)

    sample = sub.add_parser(
        "sample",
        help="generate the sample AIM/INVESCO fund complex as a feed",
        description="Write a valid feed for the whole complex of Schedules A-1 and A-2 "
        "(history 1996-01 to 2012-12), deterministic for a seed.",
    )
    sample.add_argument("--out", metavar="FEED", required=True, help="folder to write the feed into")
    sample.add_argument("--size", choices=["small", "medium", "large"], default="medium")
    sample.add_argument("--seed", type=int, default=2003)
    sample.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    sample.set_defaults(func=_sample)

    load = sub.add_parser(
        "load",
        help="validate a feed, compute it and store both in the database, in one transaction",
        description="Validate FEED, compute its Monthly Calculation and store both in the "
        "database named by DATABASE_URL (default: a SQLite file under data/). A rejected "
        "or failing load leaves the database exactly as it was.",
    )
    load.add_argument("feed", metavar="FEED")
    load.add_argument("--database-url", default=None, help="overrides DATABASE_URL")
    load.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    load.set_defaults(func=_load)

    scenario = sub.add_parser(
        "scenario",
        help="project every party's streams under a scenario (TOML) from the actuals' month-end state",
        description=SCENARIO_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    scenario.add_argument("feed", metavar="FEED", help="folder holding the feed's tables (the actuals)")
    scenario.add_argument("--spec", metavar="FILE.toml", required=True, help="the scenario")
    scenario.add_argument("--out", metavar="DIR", required=True, help="folder to write the results into")
    scenario.add_argument("--paths", type=int, default=None, help="overrides the spec's paths")
    scenario.add_argument("--seed", type=int, default=None, help="overrides the spec's seed")
    scenario.add_argument("--from-state", metavar="DIR", default=None,
                          help="start from this saved month-end state of the feed instead of recomputing it")
    scenario.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    scenario.set_defaults(func=_scenario)

    from calc.close import add_commands

    add_commands(sub)  # close, export

    from calc.access import USER_ROLES

    user = sub.add_parser(
        "user", help="add, list, remove users of the dashboard or change a password",
        description=USER_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="add a user")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=USER_ROLES)
    add.add_argument("--assignee", metavar="NAME", default=None,
                     help="the assignee (as named in the feeds) a user of the assignee role is bound to")
    how = add.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    how.add_argument("--no-password", action="store_true", help="no local password: OIDC sign-in only")
    passwd = user_sub.add_parser("passwd", help="set a new password (it also ends a lock-out)")
    passwd.add_argument("name", metavar="NAME")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    remove = user_sub.add_parser("remove", help="remove a user")
    remove.add_argument("name", metavar="NAME")
    user_sub.add_parser("list", help="list the users (name, role, assignee, lock)")
    user_sub.add_parser("first-admin", help="in a store without users, add the admin 'admin' with a "
                        "random password, printed once (make run does this)")
    for p in (user, add, passwd, remove, *user_sub.choices.values()):
        p.set_defaults(func=_user)
    for p in user_sub.choices.values():
        p.add_argument("--database-url", default=None, help="overrides DATABASE_URL")
    return parser


def one_line(problem: object) -> str:
    """A problem as one printable line: a control character taken from the feed (a record
    separator, a tab, a line break) is shown as its escape (``\\x1e``), so that each problem
    is one line of the listing and the terminal shows what the file holds."""
    text = str(problem)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except FeedError as err:
        print(f"The feed was rejected ({len(err.problems)} problem(s)); nothing was written:", file=sys.stderr)
        for problem in err.problems:
            print(f"  - {one_line(problem)}", file=sys.stderr)
        return EXIT_REJECTED
