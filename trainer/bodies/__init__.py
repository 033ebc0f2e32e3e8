"""The base models (bodies) a run can train: the curated catalog with what each is for and costs, the language
check that steers non-English data to multilingual bodies, and ``model=auto``, which measures candidate bodies on
the user's own data before training."""
