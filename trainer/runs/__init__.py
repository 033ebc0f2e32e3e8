"""Runs and their processes: a run directory on disk, the registry, the queue and the workers.

store.py holds a run's files and the SQLite registry; start.py prepares a run the same way for every entry
point; supervisor.py (in the app) starts, watches, cancels and recovers worker processes, which worker.py
runs; queue.py decides turns and per-user limits; estimate.py says how long a run will take, hardware.py what
the machine can do, activity.py how progress reads in words; views.py the typed status and run list the UI
and the API read.
"""
