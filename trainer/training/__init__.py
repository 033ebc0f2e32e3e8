"""Training: one run, from its prepared data to a saved, evaluated model.

train.py is the engine (load, quick baseline and warm start, label check, the method, evaluation, saving,
recommending the better of the two models); the methods are fine_tune.py (full and LoRA, on
``transformers.Trainer``) and contrastive.py (setfit); schedule.py plans every method's steps and
method_choice.py what ``method=auto`` means, without importing an engine. baseline.py, warm_start.py and
mean_pooling.py build the quick baseline and the head's start; metrics.py and choice.py score and compare;
run_progress.py reports to the run directory; cancel.py and batching.py keep stopping and memory safe.
"""
