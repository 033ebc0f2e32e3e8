"""Data quality beyond the intake report: likely label errors (label_errors.py: cross-validated predictions
on frozen embeddings, confident-learning thresholds) and near-identical texts with different labels
(near_duplicates.py). A ranking to review, never a change made without the user's click.
"""
