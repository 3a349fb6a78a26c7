"""The dashboard: Streamlit pages over the store's Monthly Calculations (``streamlit run dashboard/app.py``)."""
