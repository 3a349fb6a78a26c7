"""Reports on a Monthly Calculation: every number the dashboard shows, as pure functions.

One module per subject (pandas in, pandas out; no streamlit, no plotly):

- :mod:`calc.reports.common`: labels (kinds of money, roles, schedules, column
  headers), month ends, filtering by period and portfolio, relative change.
- :mod:`calc.reports.revenue`: this month and year to date against a year
  earlier; money by month, party, Fund, schedule; top portfolios.
- :mod:`calc.reports.shares`: the parties' parts of the Distribution Fee and
  the 12b-1 Share over time; the plan timeline (tenure changes, Complete
  Terminations).
- :mod:`calc.reports.collateral`: an assignee's stream, payback against its
  purchase price, payments and due dates, the runoff of the shares behind it.
- :mod:`calc.reports.omnibus`: the Exhibit A 2(c) drill-down of an omnibus
  account, each line of 2(c)(ii)-(iv) written out with its numbers.
- :mod:`calc.reports.statement`: the numbers of the monthly statement, its
  tie-out and its sheets.
- :mod:`calc.reports.render`: CSV, Excel and printable HTML of a statement or
  any table (formats only: no number is computed there).
- :mod:`calc.reports.data`: what a feed and a calculation hold; a rejected
  feed's problems.

Frames are those of :class:`calc.report.MonthlyCalculation` (money already
rounded to the cent, shares unrounded) and of :class:`calc.feed.Feed`.
Nothing is re-exported here: import the module of the subject.
"""
