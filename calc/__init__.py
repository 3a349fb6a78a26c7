"""Class B share distribution-fee accounting.

The Monthly Calculation of the Master Distribution Agreement (Class B Shares):
feed in (``calc.feed``), lots and lot relief (``calc.ledger``), Exhibit A
attribution (``calc.attribution``), money (``calc.money``), the six output
files (``calc.report``).  Pure pandas/numpy: nothing here imports streamlit or
plotly.
"""

__version__ = "0.1.0"
