"""Scenarios: every party's streams projected from a month-end state under distributor
termination, Plan termination, amendment and stress.

- :mod:`calc.scenarios.spec`: a scenario as data (TOML), its events and assumptions;
- :mod:`calc.scenarios.calibrate`: the default assumptions, calibrated from the actuals;
- :mod:`calc.scenarios.project`: the deterministic projection, written as synthetic
  transactions and NAVs and run through the engine from the state;
- :mod:`calc.scenarios.run`: actuals, calibration, projection, present values, files.
"""
