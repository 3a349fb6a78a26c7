"""A scenario is data: a TOML file (read with ``tomllib``) naming the start, the horizon,
the assumptions (each omitted one takes its calibrated default) and the events, alone or
combined, each at a date and for all or some portfolios.

```toml
name = "ADI terminated mid-2013"
start = "2012-12"            # last actual month; default: the feed's last
horizon_months = 120
paths = 1                    # 1: deterministic; more: Monte Carlo
seed = 1
discount_rate = 0.08

[assumptions]                # omitted keys take the calibrated defaults
sales_scale = 1.0            # x trailing-12-month Commission Share sales, per portfolio
nav_sales_scale = 1.0        # x trailing-12-month NAV purchases
redemption_scale = 1.0       # x the calibrated redemption curve by year held
dividend_yield = 0.02        # reinvested, a year
waiver_rate = 0.05
drift = 0.06                 # a year, every asset class unless [assumptions.by_asset_class]
volatility = 0.15

[[events]]
type = "distributor_termination"
date = "2013-06-30"          # last day served
successor = "NEWCO"
portfolios = "all"           # or a list of portfolio ids
```

Events (the agreement's clauses): ``distributor_termination`` (FIFTEENTH (A), Exhibit A:
the serving distributor's last day; ``successor`` serves from the next day),
``complete_termination`` (FIFTEENTH (B): no Distribution Fee or service fee from the
date; CDSCs go on), ``plan_amendment`` (EIGHTH (E): ``rate``, a lower Distribution Fee
rate for shares issued after the date), ``sales_suspension`` (THIRD (A): no new sales
from the date), ``market_shock`` (``return``, one-off, on the date), ``redemption_shock``
(``multiplier`` on the redemption curve for ``months`` months from the date).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

EVENT_TYPES = ("distributor_termination", "complete_termination", "plan_amendment", "sales_suspension",
               "market_shock", "redemption_shock")
DEFAULT_HORIZON_MONTHS = 120


class SpecError(ValueError):
    """A scenario that cannot be run: every problem, in words."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Rate = Annotated[float, Field(ge=0.0)]


class ClassAssumptions(_Strict):
    drift: float | None = None
    volatility: Rate | None = None


class Assumptions(_Strict):
    """Flows and markets; ``None`` takes the default calibrated from the actuals."""

    sales_scale: Rate = 1.0
    nav_sales_scale: Rate = 1.0
    redemption_scale: Rate = 1.0
    dividend_yield: Rate | None = None
    waiver_rate: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    drift: float | None = None
    volatility: Rate | None = None
    by_asset_class: dict[str, ClassAssumptions] = Field(default_factory=dict)


class Event(_Strict):
    type: Literal[EVENT_TYPES]  # type: ignore[valid-type]
    date: pd.Timestamp
    portfolios: Literal["all"] | list[str] = "all"
    successor: str | None = None
    rate: Rate | None = None
    return_: float | None = Field(default=None, alias="return")
    multiplier: Rate | None = None
    months: Annotated[int, Field(ge=1)] | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True, populate_by_name=True)

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: object) -> pd.Timestamp:
        return _timestamp(value)

    @model_validator(mode="after")
    def _needs(self) -> Event:
        needs = {"distributor_termination": ("successor",), "plan_amendment": ("rate",),
                 "market_shock": ("return_",), "redemption_shock": ("multiplier", "months")}
        missing = [n.rstrip("_") for n in needs.get(self.type, ()) if getattr(self, n) is None]
        if missing:
            raise ValueError(f"a {self.type} event needs {' and '.join(missing)}")
        if self.type == "market_shock" and self.return_ is not None and self.return_ <= -1.0:
            raise ValueError("a market_shock return must be above -1 (-100%)")
        return self

    def covers(self, portfolio: str) -> bool:
        return self.portfolios == "all" or portfolio in self.portfolios


class Scenario(_Strict):
    name: str = "scenario"
    start: pd.Timestamp | None = None  # a month end: the last actual month
    horizon_months: Annotated[int, Field(ge=1, le=600)] = DEFAULT_HORIZON_MONTHS
    paths: Annotated[int, Field(ge=1)] = 1
    seed: int = 1
    discount_rate: Rate = 0.08
    assumptions: Assumptions = Field(default_factory=Assumptions)
    events: list[Event] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: object) -> pd.Timestamp | None:
        return None if value is None else _timestamp(value) + pd.offsets.MonthEnd(0)

    def baseline(self) -> Scenario:
        """The same scenario without its events."""
        return self.model_copy(update={"events": [], "name": f"{self.name} (baseline)"})

    def to_toml(self) -> str:
        """The scenario as TOML text (what :func:`read_scenario` reads back)."""
        return _to_toml(self)


def _timestamp(value: object) -> pd.Timestamp:
    if isinstance(value, pd.Timestamp):
        return value.normalize()
    try:
        ts = pd.Timestamp(str(value))
    except (ValueError, TypeError) as err:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD or YYYY-MM)") from err
    if pd.isna(ts):
        raise ValueError(f"{value!r} is not a date")
    return ts.normalize()


def parse_scenario(text: str, source: str = "scenario") -> Scenario:
    """A Scenario from TOML text; SpecError lists every problem (unknown keys included)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError([f"{source}: not TOML: {err}"]) from err
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise SpecError([_problem(source, e) for e in err.errors()]) from err


def read_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError([f"{path}: cannot be read: {err}"]) from err
    return parse_scenario(text, path.name)


def _problem(source: str, error: dict) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "__root__")
    message = error.get("msg", "invalid")
    if error.get("type") == "extra_forbidden":
        message = "unknown key"
    return f"{source}: {where}: {message}" if where else f"{source}: {message}"


def check_against(scenario: Scenario, portfolios: Iterable[str], assignees: Iterable[str],
                  start: pd.Timestamp, last_actual: pd.Timestamp) -> None:
    """The problems a scenario has with the feed it runs on: an unknown portfolio, an event
    on or before the start, a start after the feed's last month, a successor that is an
    assignee (SpecError)."""
    known = set(portfolios)
    assignees = set(assignees)
    problems = []
    if start > last_actual:
        problems.append(f"start {start:%Y-%m} is after the feed's last month {last_actual:%Y-%m}")
    for i, event in enumerate(scenario.events):
        where = f"events[{i}] ({event.type})"
        if event.date <= start:
            problems.append(f"{where}: the date {event.date:%Y-%m-%d} is not after the start {start:%Y-%m}")
        if event.portfolios != "all":
            unknown = sorted(set(event.portfolios) - known)
            if unknown:
                problems.append(f"{where}: unknown portfolio(s) {', '.join(unknown)}")
        if event.type == "distributor_termination" and event.successor in assignees:
            problems.append(f"{where}: successor {event.successor} is an assignee, not a distributor")
    if problems:
        raise SpecError(problems)


def _to_toml(s: Scenario) -> str:
    def value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, pd.Timestamp):
            return f'"{v:%Y-%m-%d}"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"name = {value(s.name)}"]
    if s.start is not None:
        lines.append(f'start = "{s.start:%Y-%m}"')
    lines += [f"horizon_months = {s.horizon_months}", f"paths = {s.paths}", f"seed = {s.seed}",
              f"discount_rate = {s.discount_rate!r}", "", "[assumptions]"]
    a = s.assumptions
    for key in ("sales_scale", "nav_sales_scale", "redemption_scale", "dividend_yield", "waiver_rate", "drift",
                "volatility"):
        v = getattr(a, key)
        if v is not None:
            lines.append(f"{key} = {v!r}")
    for cls, ca in sorted(a.by_asset_class.items()):
        lines.append(f"\n[assumptions.by_asset_class.{value(cls)}]")
        for key in ("drift", "volatility"):
            if getattr(ca, key) is not None:
                lines.append(f"{key} = {getattr(ca, key)!r}")
    for e in s.events:
        lines += ["", "[[events]]", f"type = {value(e.type)}", f"date = {value(e.date)}",
                  f"portfolios = {value(e.portfolios)}"]
        for key, name in (("successor", "successor"), ("rate", "rate"), ("return_", "return"),
                          ("multiplier", "multiplier"), ("months", "months")):
            if getattr(e, key) is not None:
                lines.append(f"{name} = {value(getattr(e, key))}")
    return "\n".join(lines) + "\n"
