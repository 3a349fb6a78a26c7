"""The store's tables: the feed, the calculation runs and their results.

Every feed table row belongs to a ``feed`` row and every result row to a
``calculation_run`` row; both carry a ``row_no`` (the row's position in the
frame it came from), so a table reads back in the order it was written.  A run
also keeps the month-end state of its last month: its files (Parquet frames and
``manifest.json``) as ``run_state_file`` rows, its month end in
``calculation_run.state_month_end``.  Saved scenarios (``scenario``) stand apart: a
scenario is data (its TOML text, ``calc.scenarios.spec``), saved under a unique name and
run against any run.  Users (``app_user``: role, bound assignee, password hash, lock-out)
the audit trail (``audit_event``: who did what, when) and the dashboard's persistent
sign-ins (``app_session``, hashed tokens only) stand apart too.

Column types: money as integer cents (``BigInteger``, column ``info`` unit
``cents``), shares, prices and fractions as ``DOUBLE PRECISION``, dates as
``DATE``, names and ids as text (``''`` for none, never NULL).  The columns
of each frame are named as in :mod:`calc.report` and :mod:`calc.feed`.

The schema is created and changed by the alembic migrations under
``calc/store/migrations``; ``tests/test_store.py`` checks that these models and the
migrations agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

UNIT_CENTS = "cents"  # column info: money stored as integer cents, read as float dollars
INFO_UNIT = "unit"

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class StoreModel(SQLModel, registry=registry(metadata=metadata)):
    """Base of the store's tables: its own metadata, apart from SQLModel's default."""


# --- column helpers ---------------------------------------------------------------


def _text() -> Any:
    return Field(default="", sa_type=sa.String(), nullable=False)


def _day(nullable: bool = False) -> Any:
    return Field(default=None, sa_type=sa.Date(), nullable=nullable)


def _double() -> Any:
    return Field(default=None, sa_type=sa.Double(), nullable=True)


def _money() -> Any:
    return Field(
        default=None,
        sa_type=sa.BigInteger(),
        nullable=True,
        sa_column_kwargs={"info": {INFO_UNIT: UNIT_CENTS}},
    )


def _integer() -> Any:
    return Field(default=None, sa_type=sa.Integer(), nullable=True)


def _row_no() -> Any:
    return Field(
        default=None,
        sa_type=sa.Integer(),
        primary_key=True,
        sa_column_kwargs={"autoincrement": False},
    )


def _feed_ref() -> Any:
    return Field(
        default=None,
        sa_type=sa.Integer(),
        primary_key=True,
        foreign_key="feed.feed_id",
        ondelete="CASCADE",
    )


def _run_ref() -> Any:
    return Field(
        default=None,
        sa_type=sa.Integer(),
        primary_key=True,
        foreign_key="calculation_run.run_id",
        ondelete="CASCADE",
    )


# --- provenance -------------------------------------------------------------------


class FeedRecord(StoreModel, table=True):
    """One feed as stored: the same normalised content (``content_hash``) is stored once.

    ``checksum`` is the SHA-256 of the feed's files (``calc.feed.feed_checksum``).
    """

    __tablename__ = "feed"

    feed_id: int | None = Field(default=None, sa_type=sa.Integer(), primary_key=True)
    content_hash: str = Field(sa_type=sa.String(), nullable=False, unique=True)
    checksum: str = Field(sa_type=sa.String(), nullable=False, index=True)
    source: str = _text()
    loaded_at: dt.datetime = Field(sa_type=sa.DateTime(), nullable=False)


STATUS_COMPLETE = "complete"  # calculation_run.status: a run is stored whole or not at all


class CalculationRun(StoreModel, table=True):
    """One Monthly Calculation of a feed, by one version of the code."""

    __tablename__ = "calculation_run"

    run_id: int | None = Field(default=None, sa_type=sa.Integer(), primary_key=True)
    feed_id: int = Field(
        sa_type=sa.Integer(), foreign_key="feed.feed_id", nullable=False, index=True
    )
    feed_checksum: str = _text()
    source: str = _text()
    code_version: str = _text()
    created_at: dt.datetime = Field(sa_type=sa.DateTime(), nullable=False)
    status: str = _text()
    months: int = Field(default=0, sa_type=sa.Integer(), nullable=False)
    first_month: dt.date | None = _day(nullable=True)
    last_month: dt.date | None = _day(nullable=True)
    summary_rows: int = Field(default=0, sa_type=sa.Integer(), nullable=False)
    allocation_rows: int = Field(default=0, sa_type=sa.Integer(), nullable=False)
    payments_rows: int = Field(default=0, sa_type=sa.Integer(), nullable=False)
    omnibus_rows: int = Field(default=0, sa_type=sa.Integer(), nullable=False)
    cdsc_rows: int = Field(default=0, sa_type=sa.Integer(), nullable=False)
    exceptions_rows: int = Field(default=0, sa_type=sa.Integer(), nullable=False)
    omnibus_accounts_rows: int = Field(default=0, sa_type=sa.Integer(), nullable=False)
    lots_rows: int = Field(default=0, sa_type=sa.Integer(), nullable=False)
    # The month end of the MonthEndState stored with the run (run_state_file); NULL: none stored.
    state_month_end: dt.date | None = _day(nullable=True)


class RunStateFile(StoreModel, table=True):
    """The run's month-end state (``calc.engine.state.MonthEndState`` at ``state_month_end``)
    as its files: ``calc.engine.state.state_files`` gives them (one Parquet file per frame and
    ``manifest.json``), ``state_from_files`` reads them back, to the bit."""

    __tablename__ = "run_state_file"

    run_id: int | None = _run_ref()
    name: str = Field(sa_type=sa.String(), primary_key=True)
    content: bytes = Field(sa_type=sa.LargeBinary(), nullable=False)


# --- saved scenarios ----------------------------------------------------------------


class SavedScenario(StoreModel, table=True):
    """A scenario saved by name: its TOML text as written (``Scenario.to_toml``), read
    back and parsed again to rerun it identically.  Saving under a name that exists
    replaces its text (``updated_at``); ``created_at`` stays."""

    __tablename__ = "scenario"

    scenario_id: int | None = Field(default=None, sa_type=sa.Integer(), primary_key=True)
    name: str = Field(sa_type=sa.String(), nullable=False, unique=True)
    toml: str = Field(sa_type=sa.Text(), nullable=False)
    created_at: dt.datetime = Field(sa_type=sa.DateTime(), nullable=False)
    updated_at: dt.datetime = Field(sa_type=sa.DateTime(), nullable=False)


# --- users and the audit trail (issue 11) --------------------------------------------


class AppUser(StoreModel, table=True):
    """A user of the app: a role (``calc.access.USER_ROLES``) and, for the assignee role,
    the one assignee it is bound to (``''`` for none).  ``password_hash`` is an argon2
    hash (``''``: no local password, sign-in through OIDC only); ``failed_attempts`` and
    ``locked_until`` make the lock-out after repeated failed sign-ins."""

    __tablename__ = "app_user"

    user_id: int | None = Field(default=None, sa_type=sa.Integer(), primary_key=True)
    name: str = Field(sa_type=sa.String(), nullable=False, unique=True)
    role: str = Field(sa_type=sa.String(), nullable=False)
    assignee: str = _text()
    password_hash: str = _text()
    failed_attempts: int = Field(default=0, sa_type=sa.Integer(), nullable=False)
    locked_until: dt.datetime | None = Field(default=None, sa_type=sa.DateTime(), nullable=True)
    created_at: dt.datetime = Field(sa_type=sa.DateTime(), nullable=False)


class AuditEvent(StoreModel, table=True):
    """One thing done, for ever: who (``actor``, a user name or ``cli:<os user>``), what
    (``action``: sign-in, failed sign-in, load, close, restatement, user changes), when
    (UTC), the run it concerns if any and a plain-text ``detail``.  Never updated or
    deleted by the app; a run's deletion keeps its events (no foreign key)."""

    __tablename__ = "audit_event"

    event_id: int | None = Field(default=None, sa_type=sa.Integer(), primary_key=True)
    at: dt.datetime = Field(sa_type=sa.DateTime(), nullable=False, index=True)
    actor: str = Field(sa_type=sa.String(), nullable=False)
    action: str = Field(sa_type=sa.String(), nullable=False, index=True)
    run_id: int | None = Field(default=None, sa_type=sa.Integer(), nullable=True)
    detail: str = Field(default="", sa_type=sa.Text(), nullable=False)


class AppSession(StoreModel, table=True):
    """A persistent sign-in of the dashboard (issue 10): the browser holds an opaque random
    token in an HttpOnly cookie; here only its SHA-256 (``token_hash``).  A row starts as a
    hand-over (``code_hash``: the SHA-256 of a one-time code, valid until ``code_expires_at``)
    that the browser exchanges once for the token.  ``expires_at`` slides with use
    (``last_seen_at``) up to a bound from ``created_at``; a sign-out deletes the row, and so
    does the removal of its user (ON DELETE CASCADE)."""

    __tablename__ = "app_session"

    session_id: int | None = Field(default=None, sa_type=sa.Integer(), primary_key=True)
    user_id: int = Field(
        sa_type=sa.Integer(), foreign_key="app_user.user_id", ondelete="CASCADE", nullable=False, index=True,
    )
    token_hash: str | None = Field(default=None, sa_type=sa.String(), nullable=True, unique=True)
    code_hash: str | None = Field(default=None, sa_type=sa.String(), nullable=True, unique=True)
    code_expires_at: dt.datetime | None = Field(default=None, sa_type=sa.DateTime(), nullable=True)
    created_at: dt.datetime = Field(sa_type=sa.DateTime(), nullable=False)
    last_seen_at: dt.datetime = Field(sa_type=sa.DateTime(), nullable=False)
    expires_at: dt.datetime = Field(sa_type=sa.DateTime(), nullable=False, index=True)


# --- closed months and restatements (issue 11) ----------------------------------------


def _restrict_run_ref(**kwargs: Any) -> Any:
    """A run referenced by a close or a restatement: never deleted while it is (RESTRICT)."""
    return Field(
        sa_type=sa.Integer(),
        foreign_key="calculation_run.run_id",
        ondelete="RESTRICT",
        nullable=False,
        **kwargs,
    )


class ClosedMonth(StoreModel, table=True):
    """A month whose Monthly Calculation is frozen: run ``run_id``'s six tables of that
    month as their CSV files (``closed_file``), with the checksums of what they came from.

    One close a month (``month_end`` unique).  ``feed_checksum``: the run's feed files;
    ``reference_checksum``: the feed's reference tables as of the month end
    (``calc.engine.state.reference_checksum``); ``inputs_checksum``: those and the NAVs and
    transactions dated up to the month end; ``tables_checksum``: the six files.  Rows here
    are never updated or deleted (database triggers, migration 0005).
    """

    __tablename__ = "closed_month"

    close_id: int | None = Field(default=None, sa_type=sa.Integer(), primary_key=True)
    run_id: int = _restrict_run_ref(index=True)
    month_end: dt.date = Field(sa_type=sa.Date(), nullable=False, unique=True)
    closed_at: dt.datetime = Field(sa_type=sa.DateTime(), nullable=False)
    closed_by: str = Field(sa_type=sa.String(), nullable=False)
    feed_checksum: str = _text()
    reference_checksum: str = Field(sa_type=sa.String(), nullable=False)
    inputs_checksum: str = Field(sa_type=sa.String(), nullable=False)
    tables_checksum: str = Field(sa_type=sa.String(), nullable=False)


class ClosedFile(StoreModel, table=True):
    """One of a closed month's six files (``summary.csv`` ...), byte for byte as
    ``calc.report.csv_text`` wrote it at the close, with its SHA-256 and row count."""

    __tablename__ = "closed_file"

    close_id: int | None = Field(
        default=None,
        sa_type=sa.Integer(),
        primary_key=True,
        foreign_key="closed_month.close_id",
        ondelete="RESTRICT",
    )
    name: str = Field(sa_type=sa.String(), primary_key=True)
    content: bytes = Field(sa_type=sa.LargeBinary(), nullable=False)
    sha256: str = Field(sa_type=sa.String(), nullable=False)
    rows: int = Field(default=0, sa_type=sa.Integer(), nullable=False)


class Restatement(StoreModel, table=True):
    """A later run whose figures for a closed month differ from the closed ones: version
    ``version`` (the close is version 1) of that month, recorded when the run was loaded.
    The closed rows stay as they are; the restated figures are the run's own rows."""

    __tablename__ = "restatement"
    __table_args__ = (
        sa.UniqueConstraint("close_id", "run_id", name="uq_restatement_close_id_run_id"),
        sa.UniqueConstraint("close_id", "version", name="uq_restatement_close_id_version"),
    )

    restatement_id: int | None = Field(default=None, sa_type=sa.Integer(), primary_key=True)
    close_id: int = Field(
        sa_type=sa.Integer(),
        foreign_key="closed_month.close_id",
        ondelete="RESTRICT",
        nullable=False,
    )
    run_id: int = _restrict_run_ref(index=True)
    month_end: dt.date = Field(sa_type=sa.Date(), nullable=False)
    version: int = Field(sa_type=sa.Integer(), nullable=False)
    restated_at: dt.datetime = Field(sa_type=sa.DateTime(), nullable=False)
    restated_by: str = Field(sa_type=sa.String(), nullable=False)
    inputs_checksum: str = Field(sa_type=sa.String(), nullable=False)
    tables_checksum: str = Field(sa_type=sa.String(), nullable=False)


# --- the feed (RULES.md section 2, normalised as calc.feed documents) ------------------


class FeedRow(StoreModel):
    feed_id: int | None = _feed_ref()
    row_no: int | None = _row_no()


class PortfolioRow(FeedRow, table=True):
    __tablename__ = "feed_portfolio"
    __table_args__ = (sa.UniqueConstraint("feed_id", "portfolio_id"),)

    portfolio_id: str = _text()
    name: str = _text()
    fund: str = _text()
    schedule: str = _text()
    distribution_fee_rate: float | None = _double()
    service_fee_rate: float | None = _double()
    cdsc_schedule: str = _text()  # percents by year held, ';'-separated
    conversion_years: int | None = _integer()


class TenureRow(FeedRow, table=True):
    __tablename__ = "feed_tenure"

    portfolio_id: str = _text()
    distributor: str = _text()
    start_date: dt.date | None = _day()
    end_date: dt.date | None = _day(nullable=True)
    rights_holder: str = _text()


class AccountRow(FeedRow, table=True):
    __tablename__ = "feed_account"
    __table_args__ = (sa.UniqueConstraint("feed_id", "account_id"),)

    account_id: str = _text()
    omnibus: bool = Field(
        default=False, sa_type=sa.Boolean(create_constraint=False), nullable=False
    )
    holder: str = _text()


class NavRow(FeedRow, table=True):
    __tablename__ = "feed_nav"
    __table_args__ = (sa.UniqueConstraint("feed_id", "portfolio_id", "date"),)

    portfolio_id: str = _text()
    date: dt.date | None = _day()
    nav: float | None = _double()
    shares: float | None = _double()


class TransactionRow(FeedRow, table=True):
    __tablename__ = "feed_transaction"
    __table_args__ = (sa.UniqueConstraint("feed_id", "txn_id"),)

    txn_id: str = _text()
    date: dt.date | None = _day()
    portfolio_id: str = _text()
    account_id: str = _text()
    kind: str = _text()
    shares: float | None = _double()
    price: float | None = _double()
    issue_date: dt.date | None = _day(nullable=True)
    exchange_id: str = _text()
    waiver: str = _text()
    line: int | None = _integer()


class AssignmentRow(FeedRow, table=True):
    __tablename__ = "feed_assignment"
    __table_args__ = (sa.UniqueConstraint("feed_id", "assignment_id"),)

    assignment_id: str = _text()
    assignee: str = _text()
    rights_holder: str = _text()
    portfolio_id: str = _text()  # '' = all portfolios
    start_date: dt.date | None = _day()
    end_date: dt.date | None = _day(nullable=True)
    fee_fraction: float | None = _double()
    cdsc_fraction: float | None = _double()
    purchase_price: int | None = _money()


class OffsetRow(FeedRow, table=True):
    __tablename__ = "feed_offset"

    date: dt.date | None = _day()
    rights_holder: str = _text()
    portfolio_id: str = _text()
    amount: int | None = _money()


class PlanEventRow(FeedRow, table=True):
    __tablename__ = "feed_plan_event"

    portfolio_id: str = _text()
    date: dt.date | None = _day()
    kind: str = _text()


# --- the results (RULES.md section 8 and calc.report's drill-downs) -------------------


class ResultRow(StoreModel):
    run_id: int | None = _run_ref()
    row_no: int | None = _row_no()


class SummaryRow(ResultRow, table=True):
    __tablename__ = "result_summary"
    __table_args__ = (sa.UniqueConstraint("run_id", "month_end", "portfolio_id"),)

    month_end: dt.date | None = _day()
    portfolio_id: str = _text()
    average_net_assets: int | None = _money()
    distribution_fee: int | None = _money()
    service_fee: int | None = _money()
    cdsc: int | None = _money()
    cdsc_waived: int | None = _money()
    shares_outstanding: float | None = _double()
    due_date: dt.date | None = _day(nullable=True)


class AllocationRow(ResultRow, table=True):
    __tablename__ = "result_allocation"
    __table_args__ = (sa.UniqueConstraint("run_id", "month_end", "portfolio_id", "rights_holder"),)

    month_end: dt.date | None = _day()
    portfolio_id: str = _text()
    rights_holder: str = _text()
    commission_shares: float | None = _double()
    free_shares: float | None = _double()
    omnibus_free_shares: float | None = _double()
    attributed_shares: float | None = _double()
    share: float | None = _double()


class PaymentRow(ResultRow, table=True):
    __tablename__ = "result_payment"
    __table_args__ = (sa.UniqueConstraint("run_id", "month_end", "portfolio_id", "party", "role"),)

    month_end: dt.date | None = _day()
    portfolio_id: str = _text()
    party: str = _text()
    role: str = _text()
    distribution_fee: int | None = _money()
    cdsc: int | None = _money()
    service_fee: int | None = _money()
    offset: int | None = _money()
    payable: int | None = _money()
    due_date: dt.date | None = _day(nullable=True)


class OmnibusRow(ResultRow, table=True):
    __tablename__ = "result_omnibus"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "month_end", "portfolio_id", "account_id", "rights_holder"),
    )

    month_end: dt.date | None = _day()
    portfolio_id: str = _text()
    account_id: str = _text()
    rights_holder: str = _text()
    issued: float | None = _double()
    redeemed: float | None = _double()
    net_exchange: float | None = _double()
    free_shares: float | None = _double()
    commission_shares: float | None = _double()  # K_h(m), beside F_h(m)


class CdscRow(ResultRow, table=True):
    __tablename__ = "result_cdsc"

    txn_id: str = _text()
    date: dt.date | None = _day()
    portfolio_id: str = _text()
    account_id: str = _text()
    issue_date: dt.date | None = _day(nullable=True)
    shares: float | None = _double()
    year_held: int | None = _integer()
    rate: float | None = _double()
    base: int | None = _money()
    cdsc: int | None = _money()
    waived: int | None = _money()
    rights_holder: str = _text()


class ExceptionRow(ResultRow, table=True):
    __tablename__ = "result_exception"

    month_end: dt.date | None = _day(nullable=True)
    portfolio_id: str = _text()
    account_id: str = _text()
    code: str = _text()
    detail: str = _text()


class OmnibusAccountRow(ResultRow, table=True):
    __tablename__ = "result_omnibus_account"
    __table_args__ = (sa.UniqueConstraint("run_id", "month_end", "portfolio_id", "account_id"),)

    month_end: dt.date | None = _day()
    portfolio_id: str = _text()
    account_id: str = _text()
    issued: float | None = _double()
    redeemed: float | None = _double()
    net_exchange: float | None = _double()
    free_shares: float | None = _double()
    commission_shares: float | None = _double()


class LotRow(ResultRow, table=True):
    __tablename__ = "result_lot"

    month_end: dt.date | None = _day()
    portfolio_id: str = _text()
    rights_holder: str = _text()
    issue_year: int | None = _integer()
    commission_shares: float | None = _double()
    cost: int | None = _money()
    # the part whose anniversary of issue in the month end's year has passed (migration 0006;
    # NULL for the runs stored before)
    anniversary_shares: float | None = _double()
    anniversary_cost: int | None = _money()


# --- frame name -> table ------------------------------------------------------------

FEED_TABLES: dict[str, sa.Table] = {
    "portfolios": PortfolioRow.__table__,
    "tenures": TenureRow.__table__,
    "accounts": AccountRow.__table__,
    "nav": NavRow.__table__,
    "transactions": TransactionRow.__table__,
    "assignments": AssignmentRow.__table__,
    "offsets": OffsetRow.__table__,
    "plan_events": PlanEventRow.__table__,
}

RESULT_TABLES: dict[str, sa.Table] = {
    "summary": SummaryRow.__table__,
    "allocation": AllocationRow.__table__,
    "payments": PaymentRow.__table__,
    "omnibus": OmnibusRow.__table__,
    "cdsc": CdscRow.__table__,
    "exceptions": ExceptionRow.__table__,
    "omnibus_accounts": OmnibusAccountRow.__table__,
    "lots": LotRow.__table__,
}

FEED_TABLE: sa.Table = FeedRecord.__table__
RUN_TABLE: sa.Table = CalculationRun.__table__
STATE_FILE_TABLE: sa.Table = RunStateFile.__table__
SCENARIO_TABLE: sa.Table = SavedScenario.__table__
USER_TABLE: sa.Table = AppUser.__table__
AUDIT_TABLE: sa.Table = AuditEvent.__table__
SESSION_TABLE: sa.Table = AppSession.__table__
CLOSED_MONTH_TABLE: sa.Table = ClosedMonth.__table__
CLOSED_FILE_TABLE: sa.Table = ClosedFile.__table__
RESTATEMENT_TABLE: sa.Table = Restatement.__table__
ASSIGNMENT_TABLE: sa.Table = AssignmentRow.__table__

FEED_KEY = ("feed_id", "row_no")
RUN_KEY = ("run_id", "row_no")


def value_columns(table: sa.Table) -> list[str]:
    """The columns of ``table`` that hold a frame's values (not its keys)."""
    return [c.name for c in table.columns if c.name not in ("feed_id", "run_id", "row_no")]


def is_money(column: sa.Column) -> bool:
    return column.info.get(INFO_UNIT) == UNIT_CENTS


__all__ = [
    "ASSIGNMENT_TABLE",
    "AUDIT_TABLE",
    "CLOSED_FILE_TABLE",
    "CLOSED_MONTH_TABLE",
    "FEED_TABLE",
    "FEED_TABLES",
    "RESTATEMENT_TABLE",
    "RESULT_TABLES",
    "RUN_TABLE",
    "SCENARIO_TABLE",
    "SESSION_TABLE",
    "STATE_FILE_TABLE",
    "USER_TABLE",
    "AppSession",
    "AppUser",
    "AuditEvent",
    "CalculationRun",
    "ClosedFile",
    "ClosedMonth",
    "FeedRecord",
    "Restatement",
    "RunStateFile",
    "SavedScenario",
    "StoreModel",
    "is_money",
    "metadata",
    "value_columns",
]
