"""Intake: reading a user's file (CSV, TSV, JSON Lines, Parquet, Excel, a Hub dataset) and checking it.

``data.load_dataset_file`` is the one intake path for the app, the CLI and the benchmarks: it reads the file
(reading.py, spreadsheet.py), detects the text and label columns (columns.py) and whether it is single- or
multi-label (label_sets.py), drops and reports unusable rows, finds duplicates and leakage (duplicates.py),
splits train and validation, and returns the report a user sees before anything trains. data_fixes.py writes
the one-click fixes; hub_data.py fetches Hub datasets within the same limits.
"""
