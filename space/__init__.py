"""The Gradio UI: one module per tab and one for the API; no ML logic (that lives in ``trainer``)."""
