"""Training on Hugging Face Jobs: the hardware a user can rent (flavors), the app side that submits a run as a
job on the user's own account and follows it (follow.py), and the job side that trains it there (remote_run.py)."""
