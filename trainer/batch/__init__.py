"""Batch prediction jobs: a whole file or Hub dataset classified in a worker process, not in the web request.

spec.py says what a job is (its input, text column, model and bounds) and keeps its folder:
``spec.json``, ``status.json``, the input, one Parquet part per chunk of predicted rows, and at
the end the output in the input's format. work.py is the worker (``python -m trainer
batch-predict``): it skips the chunks already written, so a job stopped by a restart resumes
where it left off. jobs.py is the app's side: one active job per user, a bounded number of
workers run at a time in the order jobs came (so users take turns), cancel, and the result;
on_jobs.py runs a job on Hugging Face Jobs on the user's own account instead (both sides).
"""
